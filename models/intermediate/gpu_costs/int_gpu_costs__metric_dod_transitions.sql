{#- Every cost metric day against the same weekday transition (e.g. Sunday ->
    Monday) over the last `cost_dod_weeks` weeks: each past transition's ratio
    value / previous day (both > 0); the expected ratio is their median (one
    past incident cannot move it), the expected value is the previous day x
    the expected ratio, and the day's change is measured against that expected
    value. A z of the day's log-ratio against the mean / sample stddev of the
    past log-ratios is given beside it. All null below `cost_dod_min_points`
    transitions. A transition from or to a day of
    int_gpu_costs__baseline_excluded_days (an outage, a known event, a day
    marked "Expected") is no ordinary transition: it is left out of the
    history, and a day whose previous day is such a day has no expected
    value (the way back from an outage is not a jump). Part of
    int_gpu_costs__metric_baselines. -#}

{%- set dod_weeks = var('cost_dod_weeks') | int -%}

with

metric_days as (

    select * from {{ ref('int_gpu_costs__metric_days') }}

),

excluded_days as (

    select * from {{ ref('int_gpu_costs__baseline_excluded_days') }}

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
    left join excluded_days
        on
            current_day.vertical = excluded_days.vertical
            and excluded_days.dt in (current_day.dt, previous_day.dt)
    where current_day.value > 0 and previous_day.value > 0 and excluded_days.dt is null

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
        metric_days.value,
        previous_day.value as previous_day_value,
        previous_excluded.dt is not null as is_after_excluded_day,
        coalesce(transitions.dod_baseline_points, 0) as dod_baseline_points,
        transitions.median_ratio,
        transitions.log_ratio_mean,
        transitions.log_ratio_stddev

    from metric_days
    left join transitions
        on
            metric_days.dt = transitions.dt
            and metric_days.vertical = transitions.vertical
            and metric_days.metric = transitions.metric
    left join metric_days as previous_day
        on
            metric_days.vertical = previous_day.vertical
            and metric_days.metric = previous_day.metric
            and previous_day.dt = cast({{ dbt.dateadd('day', -1, 'metric_days.dt') }} as date)
    left join excluded_days as previous_excluded
        on
            metric_days.vertical = previous_excluded.vertical
            and previous_excluded.dt = cast({{ dbt.dateadd('day', -1, 'metric_days.dt') }} as date)

),

weekday_aware as (

    select
        *,
        dod_baseline_points >= {{ var('cost_dod_min_points') }} as has_dod_baseline,
        case
            when
                dod_baseline_points >= {{ var('cost_dod_min_points') }}
                and not is_after_excluded_day
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
        value,
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
