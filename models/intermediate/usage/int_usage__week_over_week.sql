{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
    )
}}

{#- The complementary week-over-week check of every segment x metric x day:
    the change against the same weekday last week (wow_change = value - value
    7 days earlier; the series is zero-filled) compared with the typical
    week-over-week change of the same weekday over the last `usage_wow_weeks`
    weeks (the changes at 7, 14, ... days back, each against its own previous
    week).

    Robust on purpose: centre = median of those changes, scale = 1.4826 x
    their MAD (1.253314 x mean absolute deviation when the MAD is 0; none
    when both are 0). An earlier level shift is ONE large change among them,
    so it moves neither the median nor the MAD - unlike the same-weekday
    baseline, whose sigma a shift inside the 10-week window inflates until a
    second shift no longer stands out. And a level that stays where it
    shifted gives week-over-week changes near 0 again: the check fires at
    onsets, not on every day inside a shift. z is null below
    `usage_wow_min_points` changes or without a scale. -#}
{%- set weeks = var('usage_wow_weeks') | int -%}
{%- set lookback = 7 * (weeks + 1) -%}

with

targets as (

    select * from {{ ref('int_usage__segment_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

history as (

    select * from {{ ref('int_usage__segment_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date(lookback) }}
    {% endif %}

),

weekly_changes as (

    {#- each day's change against the same weekday one week earlier -#}
    select
        current_week.dt,
        current_week.segment,
        current_week.metric,
        current_week.value,
        previous_week.value as previous_week_value,
        current_week.value - previous_week.value as week_change

    from history as current_week
    inner join history as previous_week
        on
            current_week.segment = previous_week.segment
            and current_week.metric = previous_week.metric
            and previous_week.dt = cast({{ dbt.dateadd('day', -7, 'current_week.dt') }} as date)

),

change_points as (

    select
        targets.dt,
        targets.segment,
        targets.metric,
        weekly_changes.week_change

    from targets
    inner join weekly_changes
        on
            targets.segment = weekly_changes.segment
            and targets.metric = weekly_changes.metric
            and {{ same_weekday_baseline('weekly_changes.dt', 'targets.dt', weeks=weeks) }}

),

{{ robust_baseline_ctes('change_points', 'week_change', ['dt', 'segment', 'metric']) }},

joined as (

    select
        targets.dt,
        targets.segment,
        targets.metric,
        targets.value,
        weekly_changes.previous_week_value as wow_previous_value,
        weekly_changes.week_change as wow_change,
        coalesce(robust_baselines.points, 0) as wow_baseline_points,
        robust_baselines.median_value as wow_baseline_median,
        robust_baselines.robust_scale as wow_baseline_scale

    from targets
    left join weekly_changes
        on
            targets.dt = weekly_changes.dt
            and targets.segment = weekly_changes.segment
            and targets.metric = weekly_changes.metric
    left join robust_baselines
        on
            targets.dt = robust_baselines.dt
            and targets.segment = robust_baselines.segment
            and targets.metric = robust_baselines.metric

),

final as (

    select
        dt,
        segment,
        metric,
        value,
        wow_previous_value,
        wow_change,
        {{ safe_divide('wow_change', 'wow_previous_value') }} as wow_pct_change,
        wow_baseline_median,
        wow_baseline_scale,
        wow_baseline_points,
        case
            when wow_baseline_points >= {{ var('usage_wow_min_points') }} and wow_baseline_scale > 0
                then (wow_change - wow_baseline_median) / wow_baseline_scale
        end as wow_z_score,
        wow_baseline_points < {{ var('usage_wow_min_points') }} as has_insufficient_wow_baseline

    from joined

)

select * from final
