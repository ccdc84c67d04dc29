{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
        pre_hook="{{ delete_reprocess_window() }}",
    )
}}

{#- the sparse window (macros/incremental/delete_reprocess_window.sql), computed once -#}
{%- set window_start = alert_window_start() -%}

{#- Per-user root cause of every usage alert: each user active in the
    segment on the day or on one of its baseline days (the last
    `baseline_weeks` same weekdays, the segment's own method), with the
    user's value on the day, own baseline mean (missing days = 0) and delta.
    The users' deltas add up to the segment's delta. dau counts 1 per active
    user. Plus the user's tier on the day, first day seen (any segment) within
    the baseline lookback, and `is_new_user` = first seen within the last
    `usage_new_user_days` days (the day included): "new" means not seen in
    the lookback before that, a bounded stand-in for "first ever" that a
    daily run can compute. Rank 1 = the user who pushed most in the
    direction of the change. `crossed_heavy_line`: the user's segment on the
    day and their segment on their latest active day before the day's ISO
    week, or on any baseline day they were active on, are on opposite sides
    of the heavy line - the weekly heavy rule (heavy is decided from the
    previous ISO week) moved the user, and all of their usage, into or out
    of the segment between the days the alert compares: a change of
    membership rather than of anyone's usage. Sparse (alert days only): the
    reprocess window is deleted first. Full lt_ids: presentation truncates
    them. -#}
{%- set lookback = 7 * (var('baseline_lookback_weeks') | int) -%}

with

alerts as (

    select * from {{ ref('fct_usage_anomaly_scores') }}
    where
        is_alert
    {% if is_incremental() %}
            and dt >= {{ window_start }}
        {% endif %}

),

baseline_days as (

    select * from {{ ref('int_usage__baseline_days') }}
    {% if is_incremental() %}
        where dt >= {{ window_start }}
    {% endif %}

),

user_days as (

    select * from {{ ref('int_usage__user_days_segmented') }}
    {% if is_incremental() %}
        where dt >= cast({{ dbt.dateadd('day', -lookback, window_start) }} as date)
    {% endif %}

),

user_metric_days as (

    {#- each metric's own aggregate over the user's one row of the day (dau: 1) -#}
    {% for metric, definition in usage_metric_definitions().items() %}
        select
            dt,
            lt_id,
            segment,
            tier,
            '{{ metric }}' as metric,
            cast({{ definition }} as {{ type_double() }}) as value
        from user_days
        -- only the segments with an alert on this metric (a daily run has a few)
        where
            segment in (
                select alerts.segment
                from alerts
                where alerts.metric = '{{ metric }}'
            )
        group by dt, lt_id, segment, tier
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

per_user as (

    {{ alert_segment_window('alerts', 'user_metric_days', 'baseline_days', ['lt_id'], on_day_columns=['tier']) }}

),

memberships_on_day as (

    select
        per_user.dt,
        per_user.segment,
        per_user.metric,
        per_user.lt_id,
        user_days.segment as segment_on_day

    from per_user
    inner join user_days
        on
            per_user.lt_id = user_days.lt_id
            and per_user.dt = user_days.dt

),

earlier_memberships as (

    {#- the user's segment on their latest active day before the day's ISO week (heavy is
        decided per week), within the last four weeks -#}
    select
        per_user.dt,
        per_user.segment,
        per_user.metric,
        per_user.lt_id,
        user_days.segment as earlier_segment,
        row_number() over (
            partition by per_user.dt, per_user.segment, per_user.metric, per_user.lt_id
            order by user_days.dt desc
        ) as recency

    from per_user
    inner join user_days
        on
            per_user.lt_id = user_days.lt_id
            and user_days.dt < {{ week_start('per_user.dt') }}
            and user_days.dt >= cast({{ dbt.dateadd('day', -28, 'per_user.dt') }} as date)

),

reference_memberships as (

    {#- what the day is compared with: the user's segment on their latest active day before
        the day's week, and on each baseline day they were active on -#}
    select
        dt,
        segment,
        metric,
        lt_id,
        earlier_segment as reference_segment
    from earlier_memberships
    where recency = 1

    union all

    select
        per_user.dt,
        per_user.segment,
        per_user.metric,
        per_user.lt_id,
        user_days.segment as reference_segment
    from per_user
    inner join baseline_days
        on
            per_user.dt = baseline_days.dt
            and per_user.segment = baseline_days.segment
            and per_user.metric = baseline_days.metric
    inner join user_days
        on
            per_user.lt_id = user_days.lt_id
            and baseline_days.baseline_dt = user_days.dt

),

moved_users as (

    select distinct
        memberships_on_day.dt,
        memberships_on_day.segment,
        memberships_on_day.metric,
        memberships_on_day.lt_id

    from memberships_on_day
    inner join reference_memberships
        on
            memberships_on_day.dt = reference_memberships.dt
            and memberships_on_day.segment = reference_memberships.segment
            and memberships_on_day.metric = reference_memberships.metric
            and memberships_on_day.lt_id = reference_memberships.lt_id
    where
        -- on opposite sides of the heavy line
        memberships_on_day.segment_on_day != reference_memberships.reference_segment
        and 'heavy' in (memberships_on_day.segment_on_day, reference_memberships.reference_segment)

),

alert_days as (

    select distinct dt from alerts

),

user_previous_days as (

    select
        dt,
        lt_id,
        coalesce(
            lag(dt) over (partition by lt_id order by dt), cast('1900-01-01' as date)
        ) as previous_active_dt

    from user_days

),

first_seen as (

    {#- The first day a user was seen within [alert day - lookback, alert day]: the one active
        day d of the user with previous_active_dt < alert day - lookback <= d (the start of the
        user's first activity on or after the lookback's first day). Two inequalities, so the join
        produces one row per user and alert day instead of one per active day in the lookback
        (the range join was most of this model's time at production size). -#}
    select
        alert_days.dt,
        user_previous_days.lt_id,
        user_previous_days.dt as first_seen_dt

    from alert_days
    inner join user_previous_days
        on
            user_previous_days.dt >= cast({{ dbt.dateadd('day', -lookback, 'alert_days.dt') }} as date)
            and user_previous_days.previous_active_dt
            < cast({{ dbt.dateadd('day', -lookback, 'alert_days.dt') }} as date)
    where user_previous_days.dt <= alert_days.dt

),

final as (

    select
        per_user.dt,
        per_user.segment,
        per_user.metric,
        per_user.lt_id,
        per_user.tier,
        per_user.value,
        per_user.baseline_mean,
        per_user.value - per_user.baseline_mean as delta,
        case
            when per_user.segment_delta = 0 then null
            when per_user.value = per_user.baseline_mean then cast(0 as {{ type_double() }})
            else (per_user.value - per_user.baseline_mean) / per_user.segment_delta
        end as share_of_change,
        first_seen.first_seen_dt,
        coalesce(
            first_seen.first_seen_dt
            > cast({{ dbt.dateadd('day', -(var('usage_new_user_days') | int), 'per_user.dt') }} as date),
            false
        ) as is_new_user,
        moved_users.lt_id is not null as crossed_heavy_line,
        row_number() over (
            partition by per_user.dt, per_user.segment, per_user.metric
            order by
                case when per_user.segment_delta < 0 then -1 else 1 end
                * (per_user.value - per_user.baseline_mean) desc,
                per_user.lt_id
        ) as user_rank

    from per_user
    left join first_seen
        on
            per_user.dt = first_seen.dt
            and per_user.lt_id = first_seen.lt_id
    left join moved_users
        on
            per_user.dt = moved_users.dt
            and per_user.segment = moved_users.segment
            and per_user.metric = moved_users.metric
            and per_user.lt_id = moved_users.lt_id

)

select * from final
