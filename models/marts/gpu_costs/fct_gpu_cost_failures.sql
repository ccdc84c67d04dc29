{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'endpoint', 'process_name'],
    )
}}

{#- Analysis 10, failure cost: per day x vertical x endpoint x model x process
    (endpoint is '(none)' for Studio, process '(none)' for API), customer
    requests (LT team excluded), failed ones (result failed or timeout), the
    failure rate and the wasted spend (fully loaded cost of failed requests). -#}

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
        endpoint,
        model_type,
        process_name,
        count(*) as requests,
        sum(case when is_failed then 1 else 0 end) as failed_requests,
        sum(case when result = 'timeout' then 1 else 0 end) as timed_out_requests,
        sum(fully_loaded_cost) as fully_loaded_cost,
        sum(case when is_failed then fully_loaded_cost else 0 end) as failed_cost

    from costed_requests
    group by dt, vertical, endpoint, model_type, process_name

),

final as (

    select
        *,
        {{ safe_divide('failed_requests', 'requests') }} as failure_rate,
        {{ safe_divide('failed_cost', 'fully_loaded_cost') }} as failed_cost_share

    from aggregated

)

select * from final
