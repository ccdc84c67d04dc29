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

{#- The three comparisons are computed by int_gpu_costs__metric_rolling_windows,
    int_gpu_costs__metric_weekday_baselines and int_gpu_costs__metric_dod_transitions;
    this model puts them side by side, one row per metric day. -#}

with

metric_days as (

    select * from {{ ref('int_gpu_costs__metric_days') }}

),

rolling_windows as (

    select * from {{ ref('int_gpu_costs__metric_rolling_windows') }}

),

weekday_baselines as (

    select * from {{ ref('int_gpu_costs__metric_weekday_baselines') }}

),

dod_transitions as (

    select * from {{ ref('int_gpu_costs__metric_dod_transitions') }}

),

final as (

    select
        metric_days.dt,
        metric_days.vertical,
        metric_days.metric,
        metric_days.unit,
        metric_days.value,
        rolling_windows.baseline_mean,
        rolling_windows.baseline_stddev,
        rolling_windows.baseline_points,
        rolling_windows.short_window_mean,
        rolling_windows.short_window_points,
        rolling_windows.previous_day_value,
        rolling_windows.same_day_last_week_value,
        rolling_windows.z_score,
        rolling_windows.pct_change,
        rolling_windows.has_insufficient_baseline,
        weekday_baselines.weekday_baseline_mean,
        weekday_baselines.weekday_baseline_stddev,
        weekday_baselines.weekday_baseline_points,
        weekday_baselines.weekday_pooled_df,
        weekday_baselines.weekday_z_score,
        weekday_baselines.weekday_pct_change,
        weekday_baselines.has_insufficient_weekday_baseline,
        dod_transitions.dod_baseline_points,
        dod_transitions.dod_expected_ratio,
        dod_transitions.dod_expected_value,
        dod_transitions.dod_change_vs_expected,
        dod_transitions.dod_log_ratio,
        dod_transitions.dod_log_ratio_mean,
        dod_transitions.dod_log_ratio_stddev,
        dod_transitions.dod_log_ratio_z,
        dod_transitions.has_insufficient_dod_baseline

    from metric_days
    inner join rolling_windows
        on
            metric_days.dt = rolling_windows.dt
            and metric_days.vertical = rolling_windows.vertical
            and metric_days.metric = rolling_windows.metric
    inner join weekday_baselines
        on
            metric_days.dt = weekday_baselines.dt
            and metric_days.vertical = weekday_baselines.vertical
            and metric_days.metric = weekday_baselines.metric
    inner join dod_transitions
        on
            metric_days.dt = dod_transitions.dt
            and metric_days.vertical = dod_transitions.vertical
            and metric_days.metric = dod_transitions.metric

)

select * from final
