{#- Every cost metric day with its calendar windows, all strictly BEFORE the
    day: mean, sample stddev and count of the previous `cost_baseline_days`
    days (the z-score baseline; z = (value - mean) / stddev, null below
    `cost_baseline_min_points` points or when sigma is 0: the playbook's
    rolling analysis, every day), the mean over the day's trailing window of
    ordinary days (int_gpu_costs__spike_window_days: spike and level rules),
    the previous day's value (day-over-day) and the value 7 days earlier
    (week-over-week). Days without data are absent from a window (no
    zero-fill); null values do not enter the means. Part of
    int_gpu_costs__metric_baselines. -#}

{%- set baseline_days = var('cost_baseline_days') | int -%}
{%- set short_days = var('cost_spike_window_days') | int -%}
{%- set reach_days = [baseline_days, short_days, 7] | max -%}
{%- set in_baseline = "history.dt >= cast(" ~ dbt.dateadd('day', -baseline_days, 'current_day.dt') ~ " as date)" -%}
{%- set in_short = "spike_window_days.window_dt is not null" -%}

with

metric_days as (

    select * from {{ ref('int_gpu_costs__metric_days') }}

),

spike_window_days as (

    select * from {{ ref('int_gpu_costs__spike_window_days') }}

),

windows as (

    select
        current_day.dt,
        current_day.vertical,
        current_day.metric,
        avg(case when {{ in_baseline }} then history.value end) as baseline_mean,
        stddev_samp(case when {{ in_baseline }} then history.value end) as baseline_stddev,
        count(case when {{ in_baseline }} then history.value end) as baseline_points,
        avg(case when {{ in_short }} then history.value end) as short_window_mean,
        count(case when {{ in_short }} then history.value end) as short_window_points,
        max(
            case when history.dt = cast({{ dbt.dateadd('day', -1, 'current_day.dt') }} as date) then history.value end
        ) as previous_day_value,
        max(
            case when history.dt = cast({{ dbt.dateadd('day', -7, 'current_day.dt') }} as date) then history.value end
        ) as same_day_last_week_value

    from metric_days as current_day
    inner join metric_days as history
        on
            current_day.vertical = history.vertical
            and current_day.metric = history.metric
            and current_day.dt > history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -reach_days, 'current_day.dt') }} as date)
    left join spike_window_days
        on
            current_day.dt = spike_window_days.dt
            and current_day.vertical = spike_window_days.vertical
            and history.dt = spike_window_days.window_dt
    group by current_day.dt, current_day.vertical, current_day.metric

),

final as (

    select
        metric_days.dt,
        metric_days.vertical,
        metric_days.metric,
        metric_days.value,
        windows.baseline_mean,
        windows.baseline_stddev,
        coalesce(windows.baseline_points, 0) as baseline_points,
        windows.short_window_mean,
        coalesce(windows.short_window_points, 0) as short_window_points,
        windows.previous_day_value,
        windows.same_day_last_week_value,
        case
            when windows.baseline_points >= {{ var('cost_baseline_min_points') }} and windows.baseline_stddev > 0
                then (metric_days.value - windows.baseline_mean) / windows.baseline_stddev
        end as z_score,
        {{ safe_divide('metric_days.value - windows.baseline_mean', 'windows.baseline_mean') }} as pct_change,
        coalesce(windows.baseline_points, 0) < {{ var('cost_baseline_min_points') }} as has_insufficient_baseline

    from metric_days
    left join windows
        on
            metric_days.dt = windows.dt
            and metric_days.vertical = windows.vertical
            and metric_days.metric = windows.metric

)

select * from final
