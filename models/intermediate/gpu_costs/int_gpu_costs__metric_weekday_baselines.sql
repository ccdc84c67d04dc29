{#- Every cost metric day with its weekday-aware baseline over the last
    `cost_weekday_baseline_weeks` weeks (strictly before the day): the mean of
    the same weekdays (7, 14, ... days back) and a pooled sigma - the
    within-weekday spread of ALL days of those weeks (each day against its own
    weekday's mean), so sigma rests on ~7x more points than the same-weekday
    values alone (8 points give a sigma so uncertain that z > 2 fires twice as
    often on pure noise). The z's scale is that sigma x sqrt(1 + 1/n) (n
    same-weekday points: the uncertainty of their mean), null below
    `cost_weekday_baseline_min_points` points or sigma 0. Part of
    int_gpu_costs__metric_baselines. -#}

{%- set weekday_weeks = var('cost_weekday_baseline_weeks') | int -%}

with

metric_days as (

    select * from {{ ref('int_gpu_costs__metric_days') }}

),

excluded_days as (

    {#- outage and known event days: a vertical's days no baseline stands on -#}
    select * from {{ ref('int_gpu_costs__baseline_excluded_days') }}

),

weekday_points as (

    {#- the last `cost_weekday_baseline_weeks` weeks before the day, each point
        tagged with its weekday (offset 0 = the day's own weekday); outage and
        event days are left out: one of them (inference 0, idle share doubled) would
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
    left join excluded_days
        on
            history.dt = excluded_days.dt
            and history.vertical = excluded_days.vertical
    where history.value is not null and excluded_days.dt is null

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

scaled as (

    select
        metric_days.dt,
        metric_days.vertical,
        metric_days.metric,
        metric_days.value,
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
        end as weekday_baseline_stddev

    from metric_days
    left join weekday_baselines
        on
            metric_days.dt = weekday_baselines.dt
            and metric_days.vertical = weekday_baselines.vertical
            and metric_days.metric = weekday_baselines.metric

),

final as (

    select
        dt,
        vertical,
        metric,
        value,
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
            as has_insufficient_weekday_baseline

    from scaled

)

select * from final
