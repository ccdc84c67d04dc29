{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'model_type'],
    )
}}

{#- Analysis 8, cost per request by model: per day x vertical x model,
    customer requests (LT team excluded), their fully loaded and direct cost,
    and the cost per request of each. -#}

with

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    where
        is_customer
    {% if is_incremental() %}
            and dt >= {{ incremental_start_date() }}
        {% endif %}

),

aggregated as (

    select
        dt,
        vertical,
        model_type,
        count(*) as requests,
        sum(fully_loaded_cost) as fully_loaded_cost,
        sum(row_cost) as inference_cost

    from costed_requests
    group by dt, vertical, model_type

),

final as (

    select
        *,
        {{ safe_divide('fully_loaded_cost', 'requests') }} as cost_per_request,
        {{ safe_divide('inference_cost', 'requests') }} as inference_cost_per_request

    from aggregated

)

select * from final
