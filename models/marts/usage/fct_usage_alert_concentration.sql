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

{#- Concentration drill-down of every usage alert (one row per alert: dt x
    segment x metric), from the per-user deltas: how many users moved the
    change, what the top `usage_concentration_top_users` users hold of it (a
    bot / abuse signal when a handful of users make a segment's spike), and
    new (first seen within `usage_new_user_days` days) vs returning users.

    `uses_concentration_drilldown`: this is the drill-down to show instead of
    the tier breakdown - always for `free` (its tier breakdown can only say
    "Free"), and for `heavy` / `paying` when one tier holds at least
    `usage_concentration_tier_share` of the day's value (the dominant tier:
    int_usage__alert_dominant_tiers). Enterprise segments
    keep the organisation drill-down (false). Sparse (alert days only): the
    reprocess window is deleted first. Shares are fractions of the segment's
    delta (null when it is 0; a zero part is 0, never -0). -#}
{%- set top_n = var('usage_concentration_top_users') | int -%}

with

alerts as (

    select * from {{ ref('fct_usage_anomaly_scores') }}
    where
        is_alert
    {% if is_incremental() %}
            and dt >= {{ window_start }}
        {% endif %}

),

user_deltas as (

    select * from {{ ref('int_usage__alert_user_deltas') }}
    {% if is_incremental() %}
        where dt >= {{ window_start }}
    {% endif %}

),

ordered as (

    select
        user_deltas.*,
        alerts.delta as segment_delta,
        sum(user_deltas.delta) over (
            partition by user_deltas.dt, user_deltas.segment, user_deltas.metric
            order by user_deltas.user_rank
            rows between unbounded preceding and current row
        ) as cumulative_delta

    from user_deltas
    inner join alerts
        on
            user_deltas.dt = alerts.dt
            and user_deltas.segment = alerts.segment
            and user_deltas.metric = alerts.metric

),

per_alert as (

    select
        dt,
        segment,
        metric,
        max(segment_delta) as segment_delta,
        count(case when value > 0 then 1 end) as users_on_day,
        count(case when delta != 0 then 1 end) as users_with_change,
        count(case when delta * segment_delta > 0 then 1 end) as users_moving_with_change,
        min(case when abs(cumulative_delta) >= 0.5 * abs(segment_delta) and segment_delta != 0 then user_rank end)
            as users_for_half_of_change,
        sum(case when user_rank <= {{ top_n }} then delta else 0 end) as top_users_delta,
        max(case when user_rank = 1 then delta end) as top_user_delta,
        count(case when is_new_user and value > 0 then 1 end) as new_users,
        sum(case when is_new_user then value else 0 end) as new_user_value,
        sum(case when is_new_user then delta else 0 end) as new_user_delta,
        sum(case when not is_new_user then delta else 0 end) as returning_user_delta

    from ordered
    group by dt, segment, metric

),

dominant_tiers as (

    select * from {{ ref('int_usage__alert_dominant_tiers') }}
    {% if is_incremental() %}
        where dt >= {{ window_start }}
    {% endif %}

),

final as (

    select
        {{ alert_id("'usage'", 'alerts.dt', 'alerts.segment', 'alerts.metric', "'usage_zscore'") }} as alert_id,
        alerts.dt,
        alerts.segment,
        alerts.metric,
        alerts.value,
        alerts.baseline_mean,
        alerts.delta as segment_delta,
        coalesce(per_alert.users_on_day, 0) as users_on_day,
        coalesce(per_alert.users_with_change, 0) as users_with_change,
        coalesce(per_alert.users_moving_with_change, 0) as users_moving_with_change,
        per_alert.users_for_half_of_change,
        {{ top_n }} as top_users_n,
        per_alert.top_users_delta,
        case
            when alerts.delta = 0 then null
            when per_alert.top_users_delta = 0 then cast(0 as {{ type_double() }})
            else per_alert.top_users_delta / alerts.delta
        end as top_users_share_of_change,
        case
            when alerts.delta = 0 then null
            when per_alert.top_user_delta = 0 then cast(0 as {{ type_double() }})
            else per_alert.top_user_delta / alerts.delta
        end as top_user_share_of_change,
        coalesce(per_alert.new_users, 0) as new_users,
        per_alert.new_user_value,
        per_alert.new_user_delta,
        case
            when alerts.delta = 0 then null
            when per_alert.new_user_delta = 0 then cast(0 as {{ type_double() }})
            else per_alert.new_user_delta / alerts.delta
        end as new_user_share_of_change,
        per_alert.returning_user_delta,
        dominant_tiers.dominant_tier,
        dominant_tiers.dominant_tier_share,
        coalesce(
            alerts.segment = 'free'
            or (
                alerts.segment in ('heavy', 'paying')
                and dominant_tiers.dominant_tier_share >= {{ var('usage_concentration_tier_share') }}
            ),
            false
        ) as uses_concentration_drilldown

    from alerts
    left join per_alert
        on
            alerts.dt = per_alert.dt
            and alerts.segment = per_alert.segment
            and alerts.metric = per_alert.metric
    left join dominant_tiers
        on
            alerts.dt = dominant_tiers.dt
            and alerts.segment = dominant_tiers.segment
            and alerts.metric = dominant_tiers.metric

)

select * from final
