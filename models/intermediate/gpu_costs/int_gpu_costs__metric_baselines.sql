{#- Every monitored cost metric per day x vertical, with the comparison values
    the analyses and alert rules need, all taken strictly BEFORE the day:
      * rolling baseline: mean, sample stddev and count of the previous
        `cost_baseline_days` calendar days (the z-score baseline);
      * the mean of the previous `cost_spike_window_days` days (spike and
        level rules);
      * the previous day's value (day-over-day) and the value 7 days earlier
        (week-over-week);
      * weekday-aware baseline over the last `cost_weekday_baseline_weeks`
        weeks: the mean of the same weekdays (7, 14, ... days back) and a
        pooled sigma - the within-weekday spread of ALL days of those weeks
        (each day against its own weekday's mean), so sigma rests on ~7x
        more points than the same-weekday values alone (8 points give a
        sigma so uncertain that z > 2 fires twice as often on pure noise).
        The z's scale is that sigma x sqrt(1 + 1/n) (n same-weekday points:
        the uncertainty of their mean), null below
        `cost_weekday_baseline_min_points` points or sigma 0;
      * weekday-aware day-over-day: the same weekday transition (e.g. Sunday ->
        Monday) over the last `cost_dod_weeks` weeks. Each past transition's
        ratio value / previous day (both > 0); the expected ratio is their
        median (one past incident cannot move it), the expected value is the
        previous day x the expected ratio, and the day's change is measured
        against that expected value. A z of the day's log-ratio against the
        mean / sample stddev of the past log-ratios is given beside it. All
        null below `cost_dod_min_points` transitions.
    Days without data are simply absent from a window (no zero-fill: a missing
    cost day is an ingestion problem the source freshness test reports, not a
    $0 day). z = (value - mean) / sample stddev, null below
    `cost_baseline_min_points` points or when sigma is 0. Null values (e.g. cost per request on a day without requests) do
    not enter the means. -#}

{%- set baseline_days = var('cost_baseline_days') | int -%}
{%- set short_days = var('cost_spike_window_days') | int -%}
{%- set weekday_weeks = var('cost_weekday_baseline_weeks') | int -%}
{%- set dod_weeks = var('cost_dod_weeks') | int -%}
{%- set reach_days = [baseline_days, short_days, 7, 7 * weekday_weeks] | max -%}
{%- set in_baseline = "history.dt >= cast(" ~ dbt.dateadd('day', -baseline_days, 'current_day.dt') ~ " as date)" -%}
{%- set in_short = "history.dt >= cast(" ~ dbt.dateadd('day', -short_days, 'current_day.dt') ~ " as date)" -%}

with

metric_days as (

    select * from {{ ref('int_gpu_costs__metric_days') }}

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
    group by current_day.dt, current_day.vertical, current_day.metric

),

outage_days as (

    {#- a vertical's days without a single customer request (an outage; rule
        idle_without_traffic reports those without any inference row) -#}
    select
        dt,
        vertical

    from metric_days
    where metric = 'requests' and value = 0

),

weekday_points as (

    {#- the last `cost_weekday_baseline_weeks` weeks before the day, each point
        tagged with its weekday (offset 0 = the day's own weekday); outage days
        are left out: one of them (inference 0, idle share doubled) would
        inflate the pooled sigma for `cost_weekday_baseline_weeks` weeks and
        blind the weekday z to a real spike (on the synthetic year an API
        outage six weeks before a one-organisation volume spike kept its
        inference z at 1.7) -#}
    select
        current_day.dt,
        current_day.vertical,
        current_day.metric,
        mod({{ dbt.datediff('history.dt', 'current_day.dt', 'day') }}, 7) as weekday_offset,
        history.value

    from metric_days as current_day
    inner join metric_days as history
        on
            current_day.vertical = history.vertical
            and current_day.metric = history.metric
            and current_day.dt > history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -7 * weekday_weeks, 'current_day.dt') }} as date)
    left join outage_days
        on
            history.dt = outage_days.dt
            and history.vertical = outage_days.vertical
    where history.value is not null and outage_days.dt is null

),

weekday_groups as (

    select
        dt,
        vertical,
        metric,
        weekday_offset,
        count(*) as points,
        avg(value) as group_mean,
        var_samp(value) as group_variance

    from weekday_points
    group by dt, vertical, metric, weekday_offset

),

weekday_baselines as (

    select
        dt,
        vertical,
        metric,
        max(case when weekday_offset = 0 then points end) as weekday_baseline_points,
        max(case when weekday_offset = 0 then group_mean end) as weekday_baseline_mean,
        sum(case when points > 1 then points - 1 else 0 end) as weekday_pooled_df,
        {{ safe_divide(
            'sum(case when points > 1 then (points - 1) * group_variance else 0 end)',
            'sum(case when points > 1 then points - 1 else 0 end)'
        ) }} as weekday_pooled_variance

    from weekday_groups
    group by dt, vertical, metric

),

day_ratios as (

    {#- each day's ratio to the previous calendar day (both values > 0) -#}
    select
        current_day.dt,
        current_day.vertical,
        current_day.metric,
        current_day.value / previous_day.value as day_ratio,
        ln(current_day.value / previous_day.value) as log_ratio

    from metric_days as current_day
    inner join metric_days as previous_day
        on
            current_day.vertical = previous_day.vertical
            and current_day.metric = previous_day.metric
            and previous_day.dt = cast({{ dbt.dateadd('day', -1, 'current_day.dt') }} as date)
    where current_day.value > 0 and previous_day.value > 0

),

transition_points as (

    {#- the same weekday transition in each of the last `cost_dod_weeks` weeks -#}
    select
        current_day.dt,
        current_day.vertical,
        current_day.metric,
        history.day_ratio,
        history.log_ratio

    from metric_days as current_day
    inner join day_ratios as history
        on
            current_day.vertical = history.vertical
            and current_day.metric = history.metric
            and {{ same_weekday_baseline('history.dt', 'current_day.dt', weeks=dod_weeks) }}

),

transition_medians as (

    {{ exact_median('transition_points', 'day_ratio', ['dt', 'vertical', 'metric'], 'median_ratio') }}

),

transitions as (

    select
        transition_points.dt,
        transition_points.vertical,
        transition_points.metric,
        count(*) as dod_baseline_points,
        max(transition_medians.median_ratio) as median_ratio,
        avg(transition_points.log_ratio) as log_ratio_mean,
        stddev_samp(transition_points.log_ratio) as log_ratio_stddev

    from transition_points
    inner join transition_medians
        on
            transition_points.dt = transition_medians.dt
            and transition_points.vertical = transition_medians.vertical
            and transition_points.metric = transition_medians.metric
    group by transition_points.dt, transition_points.vertical, transition_points.metric

),

joined as (

    select
        metric_days.dt,
        metric_days.vertical,
        metric_days.metric,
        metric_days.unit,
        metric_days.value,
        windows.baseline_mean,
        windows.baseline_stddev,
        coalesce(windows.baseline_points, 0) as baseline_points,
        windows.short_window_mean,
        coalesce(windows.short_window_points, 0) as short_window_points,
        windows.previous_day_value,
        windows.same_day_last_week_value,
        weekday_baselines.weekday_baseline_mean,
        coalesce(weekday_baselines.weekday_baseline_points, 0) as weekday_baseline_points,
        coalesce(weekday_baselines.weekday_pooled_df, 0) as weekday_pooled_df,
        case
            when weekday_baselines.weekday_baseline_points > 0
                then
                    sqrt(
                        weekday_baselines.weekday_pooled_variance
                        * (1 + 1.0 / weekday_baselines.weekday_baseline_points)
                    )
        end as weekday_baseline_stddev,
        coalesce(transitions.dod_baseline_points, 0) as dod_baseline_points,
        transitions.median_ratio,
        transitions.log_ratio_mean,
        transitions.log_ratio_stddev

    from metric_days
    left join windows
        on
            metric_days.dt = windows.dt
            and metric_days.vertical = windows.vertical
            and metric_days.metric = windows.metric
    left join weekday_baselines
        on
            metric_days.dt = weekday_baselines.dt
            and metric_days.vertical = weekday_baselines.vertical
            and metric_days.metric = weekday_baselines.metric
    left join transitions
        on
            metric_days.dt = transitions.dt
            and metric_days.vertical = transitions.vertical
            and metric_days.metric = transitions.metric

),

weekday_aware as (

    select
        *,
        dod_baseline_points >= {{ var('cost_dod_min_points') }} as has_dod_baseline,
        case
            when
                dod_baseline_points >= {{ var('cost_dod_min_points') }}
                then previous_day_value * median_ratio
        end as dod_expected_value,
        case
            when value > 0 and previous_day_value > 0 then ln(value / previous_day_value)
        end as dod_log_ratio

    from joined

),

final as (

    select
        dt,
        vertical,
        metric,
        unit,
        value,
        baseline_mean,
        baseline_stddev,
        baseline_points,
        short_window_mean,
        short_window_points,
        previous_day_value,
        same_day_last_week_value,
        case
            when baseline_points >= {{ var('cost_baseline_min_points') }} and baseline_stddev > 0
                then (value - baseline_mean) / baseline_stddev
        end as z_score,
        {{ safe_divide('value - baseline_mean', 'baseline_mean') }} as pct_change,
        baseline_points < {{ var('cost_baseline_min_points') }} as has_insufficient_baseline,
        weekday_baseline_mean,
        weekday_baseline_stddev,
        weekday_baseline_points,
        weekday_pooled_df,
        case
            when
                weekday_baseline_points >= {{ var('cost_weekday_baseline_min_points') }}
                and weekday_baseline_stddev > 0
                then (value - weekday_baseline_mean) / weekday_baseline_stddev
        end as weekday_z_score,
        {{ safe_divide('value - weekday_baseline_mean', 'weekday_baseline_mean') }} as weekday_pct_change,
        weekday_baseline_points < {{ var('cost_weekday_baseline_min_points') }}
            as has_insufficient_weekday_baseline,
        dod_baseline_points,
        case when has_dod_baseline then median_ratio end as dod_expected_ratio,
        dod_expected_value,
        {{ safe_divide('value - dod_expected_value', 'dod_expected_value') }} as dod_change_vs_expected,
        dod_log_ratio,
        case when has_dod_baseline then log_ratio_mean end as dod_log_ratio_mean,
        case when has_dod_baseline then log_ratio_stddev end as dod_log_ratio_stddev,
        case
            when has_dod_baseline and log_ratio_stddev > 0
                then (dod_log_ratio - log_ratio_mean) / log_ratio_stddev
        end as dod_log_ratio_z,
        not has_dod_baseline as has_insufficient_dod_baseline

    from weekday_aware

)

select * from final
