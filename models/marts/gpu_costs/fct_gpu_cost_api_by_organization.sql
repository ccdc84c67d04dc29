{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['organization_name'],
    )
}}

{#- Analysis 9, API cost by organisation: customer requests only (LT team
    excluded). `organization_name` is raw user-controlled text (escape before
    display). Sums back to the API row of fct_gpu_cost_daily. -#}

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
        organization_name,
        count(*) as requests,
        sum(case when is_failed then 1 else 0 end) as failed_requests,
        sum(fully_loaded_cost) as fully_loaded_cost,
        sum(row_cost) as inference_cost

    from costed_requests
    group by dt, organization_name

),

final as (

    select
        *,
        {{ safe_divide('fully_loaded_cost', 'requests') }} as cost_per_request,
        {{ safe_divide('fully_loaded_cost', 'sum(fully_loaded_cost) over (partition by dt)') }} as share_of_api_cost,
        rank() over (partition by dt order by fully_loaded_cost desc) as cost_rank

    from aggregated

)

select * from final
