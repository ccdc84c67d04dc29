{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
    )
}}

{#- THE choice of the same-weekday baseline points of every segment x metric x
    day: the `baseline_weeks` (10) most recent same weekdays strictly before
    the day, within `baseline_lookback_weeks` (15) weeks, that are not
    excluded. A day is excluded from every later baseline of a series when
      * event:    an excluded day of the segment
                  (int_usage__baseline_excluded_days: seed calendar_events
                  with exclude_from_baseline, or marked "Expected" from Slack);
      * incident: its robust score against ITS OWN previous `baseline_weeks`
                  same weekdays, all of them (median / MAD, macro
                  robust_baseline_ctes), exceeds `baseline_incident_robust_z`.
                  Median and MAD are barely moved by one earlier incident in
                  that window, so the pre-screen needs no exclusions itself:
                  no recursion through the scores.
    A baseline point that was an incident therefore neither widens sigma nor
    shifts the mean for the next weeks. Read by int_usage__baselines, the
    drivers (macro alert_segment_window) and the outlier date. -#}
{%- set lookback_weeks = var('baseline_lookback_weeks') | int -%}
{%- set weeks = var('baseline_weeks') | int -%}

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
        where dt >= {{ incremental_start_date(7 * (lookback_weeks + weeks)) }}
    {% endif %}

),

segment_event_days as (

    select * from {{ ref('int_usage__baseline_excluded_days') }}

),

prescreen_points as (

    select
        candidates.dt,
        candidates.segment,
        candidates.metric,
        earlier.value as baseline_value

    from history as candidates
    inner join history as earlier
        on
            candidates.segment = earlier.segment
            and candidates.metric = earlier.metric
            and {{ same_weekday_baseline('earlier.dt', 'candidates.dt', weeks=weeks) }}

),

{{ robust_baseline_ctes('prescreen_points', 'baseline_value', ['dt', 'segment', 'metric']) }},

incident_days as (

    select
        history.dt,
        history.segment,
        history.metric

    from history
    inner join robust_baselines
        on
            history.dt = robust_baselines.dt
            and history.segment = robust_baselines.segment
            and history.metric = robust_baselines.metric
    where
        abs(history.value - robust_baselines.median_value) / robust_baselines.robust_scale
        > {{ var('baseline_incident_robust_z') }}

),

event_days as (

    select
        history.dt,
        history.segment,
        history.metric

    from history
    inner join segment_event_days
        on
            history.dt = segment_event_days.dt
            and history.segment = segment_event_days.segment

),

excluded_days as (

    select
        dt,
        segment,
        metric
    from incident_days
    union distinct
    select
        dt,
        segment,
        metric
    from event_days

),

candidates as (

    select
        targets.dt,
        targets.segment,
        targets.metric,
        history.dt as baseline_dt,
        history.value as baseline_value,
        row_number() over (
            partition by targets.dt, targets.segment, targets.metric
            order by history.dt desc
        ) as recency_rank

    from targets
    inner join history
        on
            targets.segment = history.segment
            and targets.metric = history.metric
            and {{ same_weekday_baseline('history.dt', 'targets.dt', weeks=lookback_weeks) }}
    left join excluded_days
        on
            history.dt = excluded_days.dt
            and history.segment = excluded_days.segment
            and history.metric = excluded_days.metric
    where excluded_days.dt is null

),

final as (

    select
        dt,
        segment,
        metric,
        baseline_dt,
        baseline_value

    from candidates
    where recency_rank <= {{ weeks }}

)

select * from final
