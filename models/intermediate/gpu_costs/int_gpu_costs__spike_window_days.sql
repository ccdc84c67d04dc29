{#- The trailing window of each day x vertical, decided once: the ordinary
    days with data among the previous `cost_spike_window_days` days - not the
    day itself, and not a day of int_gpu_costs__baseline_excluded_days (an
    outage, a known event, a day marked "Expected": an outage's missing
    inference made every day of the next week look like a spike). Read by
    the spike rule's mean (int_gpu_costs__metric_rolling_windows), who drove
    the change (int_gpu_costs__contributor_deltas) and the decomposition
    (int_gpu_costs__decomposition_values), so the three agree on "the 7-day
    average". A day without an ordinary day in its window has no rows. -#}

{%- set window_days = var('cost_spike_window_days') | int -%}

with

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}

),

excluded_days as (

    select * from {{ ref('int_gpu_costs__baseline_excluded_days') }}

),

final as (

    select
        current_day.dt,
        current_day.vertical,
        history.dt as window_dt

    from daily_totals as current_day
    inner join daily_totals as history
        on
            current_day.vertical = history.vertical
            and current_day.dt > history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -window_days, 'current_day.dt') }} as date)
    left join excluded_days
        on
            history.dt = excluded_days.dt
            and history.vertical = excluded_days.vertical
    where excluded_days.dt is null

)

select * from final
