{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['endpoint', 'model_type'],
    )
}}

{#- Analysis 2, API cost by endpoint & model: customer requests only (LT team
    excluded). Sums back to the API row of fct_gpu_cost_daily. -#}

with

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    where
        vertical = 'api'
        and is_customer
    {% if is_incremental() %}
            and dt >= {{ incremental_start_date() }}
        {% endif %}

),

aggregated as (

    select
        dt,
        endpoint,
        model_type,
        count(*) as requests,
        sum(case when is_failed then 1 else 0 end) as failed_requests,
        sum(row_cost) as inference_cost,
        sum(attributed_idle_cost) as attributed_idle_cost,
        sum(attributed_overhead_cost) as attributed_overhead_cost,
        sum(fully_loaded_cost) as fully_loaded_cost

    from costed_requests
    group by dt, endpoint, model_type

),

final as (

    select
        *,
        {{ safe_divide('fully_loaded_cost', 'requests') }} as cost_per_request,
        {{ safe_divide('fully_loaded_cost', 'sum(fully_loaded_cost) over (partition by dt)') }} as share_of_api_cost

    from aggregated

)

select * from final
