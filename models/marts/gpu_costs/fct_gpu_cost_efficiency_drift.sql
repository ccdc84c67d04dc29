{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'model_type'],
    )
}}

{#- Analysis 11, cost-per-request efficiency drift: per day x vertical x model,
    the customer cost per request against the previous `cost_spike_window_days`
    days (pooled: their cost / their requests; the day itself excluded).
    `drift_pct` is a fraction; `is_drifting` when |drift| exceeds
    `efficiency_drift_pct`. -#}

{%- set window_days = var('cost_spike_window_days') | int -%}

with

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    where
        is_customer
    {% if is_incremental() %}
            and dt >= {{ incremental_start_date(window_days) }}
        {% endif %}

),

model_days as (

    select
        dt,
        vertical,
        model_type,
        count(*) as requests,
        sum(fully_loaded_cost) as fully_loaded_cost

    from costed_requests
    group by dt, vertical, model_type

),

baselines as (

    select
        current_day.dt,
        current_day.vertical,
        current_day.model_type,
        sum(history.requests) as baseline_requests,
        sum(history.fully_loaded_cost) as baseline_fully_loaded_cost

    from model_days as current_day
    inner join model_days as history
        on
            current_day.vertical = history.vertical
            and current_day.model_type = history.model_type
            and current_day.dt > history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -window_days, 'current_day.dt') }} as date)
    group by current_day.dt, current_day.vertical, current_day.model_type

),

joined as (

    select
        model_days.dt,
        model_days.vertical,
        model_days.model_type,
        model_days.requests,
        model_days.fully_loaded_cost,
        {{ safe_divide('model_days.fully_loaded_cost', 'model_days.requests') }} as cost_per_request,
        coalesce(baselines.baseline_requests, 0) as baseline_requests,
        coalesce(baselines.baseline_fully_loaded_cost, 0) as baseline_fully_loaded_cost,
        {{ safe_divide('baselines.baseline_fully_loaded_cost', 'baselines.baseline_requests') }}
            as baseline_cost_per_request

    from model_days
    left join baselines
        on
            model_days.dt = baselines.dt
            and model_days.vertical = baselines.vertical
            and model_days.model_type = baselines.model_type
    {% if is_incremental() %}
        where model_days.dt >= {{ incremental_start_date() }}
    {% endif %}

),

drifted as (

    select
        *,
        {{ safe_divide('cost_per_request - baseline_cost_per_request', 'baseline_cost_per_request') }} as drift_pct

    from joined

),

final as (

    select
        *,
        coalesce(abs(drift_pct) > {{ var('efficiency_drift_pct') }}, false) as is_drifting

    from drifted

)

select * from final
