{{ config(materialized='table') }}

{#- The posting policy's loud / quiet verdict, one row per alert of
    int_alerts__policy (docs/alert-rules-and-policy.md "Loud or quiet").

    The calibrated probability (rules with a Student-t null): with n baseline
    points, the out-of-sample usage z (value - mean) / sample sigma is
    sqrt(1 + 1/n) x t(n - 1) when the day is ordinary; the cost z
    (cost_zscore) is already divided by sqrt(1 + 1/n) and its pooled sigma
    has weekday_pooled_df d.f., so it is t(pooled df). p_value = P(|T| >= t)
    (macro student_t_p_value). A usage z's t p-value is read from
    int_alerts__usage_null_p_values (t_p_value, macro usage_t_p_value: the
    day must also be surprising against the same-weekday linear trend through
    the same baseline points, since a growing or shrinking product makes the
    flat mean lag and ten points cannot tell a trend of that size from noise),
    and so is its segment's empirical null (null_p_value: how often the
    segment's own ordinary days were as surprising); the larger of the two
    decides, so real tails heavier than t quiet it. family_size = the series that rule tested for
    the alert's channel (team) that day (usage: scored, unsuppressed segment x
    metric; cost: the vertical's metrics with a weekday z). The channel's
    false-alarm budget: loud_chance_posts chance loud posts per
    loud_budget_days days, i.e. alpha = loud_chance_posts / loud_budget_days
    per day, shared by the two ways a z alert is loud. The family-wise test
    gets half of it, spent Bonferroni over the family (p x family_size <=
    alpha / 2: valid under any dependence between the series). The
    large-effect test (below) has a chance rate no formula bounds: it
    depends on how often a big series moves 40 %, so the replayed labelled
    years measure it against the other half (docs/measurements.md).

    quiet_reason, the first that applies (null = loud), is THE loud rule:
      held               not postable (hold_reason);
      calendar_event     a known event of that day and scope (seed calendar_events)
                         that can explain the metric (calendar_events_never_explain:
                         a public holiday never explains a failure spike);
      below_severity     severity below loud_min_severity;
      small_effect       a z rule's |pct_change| below loud_min_pct_change or
                         |current - mean| below loud_min_abs_change[metric];
      reclassified       a usage z alert of which at least
                         loud_max_reclassified_share of the change is carried
                         by users the weekly heavy rule moved into or out of
                         the segment (int_usage__alert_user_deltas
                         .crossed_heavy_line): membership changed, nobody's
                         usage did;
      few_users          a usage z alert of which the loud_few_users users
                         who pushed it most (user_rank) carry at least
                         loud_max_few_users_share of the change (their
                         share_of_change): those accounts' event, not the
                         segment's. In an account segment
                         (loud_account_segments) a handful of users is a
                         customer's team, the organisation the segment is
                         watched by: there only one user counts as few, and
                         a drop is never few_users (key users of an
                         enterprise account stopping is churn risk);
      not_significant    a z rule whose p-value passes neither
                         family-wise (p x family_size <= alpha / 2) nor, for a
                         large effect (|pct_change| >= loud_large_effect_pct,
                         and for usage as large against the same-weekday
                         trend: trend_pct_change of
                         int_alerts__usage_null_p_values, where there is one)
                         of a series carrying at least
                         loud_large_effect_min_share of its channel's volume
                         (volume_share: usage, the segment's baseline mean
                         over all segments' of that metric and day; cost, 1:
                         a vertical is its channel's whole product) - or a
                         drop of an account segment (loud_account_segments:
                         the playbook's enterprise churn risk, whatever its
                         share) - on its own (p <= alpha). A z rule without a t null (the
                         robust week-over-week z) is never loud on its own.
    Rules that compare with a fixed threshold (budgets, fractions) are not
    chance events: they are loud when postable, at the severity floor and
    not on an event day.

    loud_reason, of a loud alert (null = quiet), says which way it passed:
      threshold          a fixed-threshold rule;
      family_wise        surprising across the day's family of series;
      large_effect       a large effect of a series carrying the share, surprising on its own;
      account_drop       an account segment's large drop below that share, surprising on its own. -#}
{%- set alpha = (var('loud_chance_posts') | float) / (var('loud_budget_days') | float) -%}
{%- set severity_ranks = {'notice': 1, 'warning': 2, 'critical': 3} -%}
{%- set cost_max_df = 7 * ((var('cost_weekday_baseline_weeks') | int) - 1) -%}
{%- set cost_z_metrics = var('alert_rules')['cost_zscore']['metrics'] -%}
{%- set account_segments = sql_string_list(var('loud_account_segments')) or "''" -%}  {#- none: matches no scope -#}
{%- set min_abs = var('loud_min_abs_change') -%}

with

policy as (

    select * from {{ ref('int_alerts__policy') }}

),

calendar_events as (

    select * from {{ ref('calendar_events') }}

),

usage_scores as (

    select * from {{ ref('fct_usage_anomaly_scores') }}

),

cost_baselines as (

    select * from {{ ref('int_gpu_costs__metric_baselines') }}

),

usage_null_p_values as (

    select * from {{ ref('int_alerts__usage_null_p_values') }}

),

usage_user_shares as (

    select
        dt,
        segment,
        metric,
        sum(case when crossed_heavy_line then share_of_change else 0 end) as reclassified_share,
        sum(case when user_rank = 1 then share_of_change else 0 end) as top_user_share,
        sum(case when user_rank <= {{ var('loud_few_users') }} then share_of_change else 0 end) as top_users_share

    from {{ ref('int_usage__alert_user_deltas') }}
    group by dt, segment, metric

),

usage_volumes as (

    select
        dt,
        metric,
        sum(baseline_mean) as channel_baseline_mean

    from usage_scores
    group by dt, metric

),

usage_families as (

    select
        dt,
        count(*) as family_size

    from usage_scores
    where z_score is not null and not is_suppressed
    group by dt

),

cost_families as (

    select
        dt,
        vertical,
        count(*) as family_size

    from cost_baselines
    where
        weekday_z_score is not null
        and metric in ({{ sql_string_list(cost_z_metrics) }})
    group by dt, vertical

),

day_events as (

    select
        policy.alert_id,
        {{ dbt.listagg('calendar_events.name', "'; '", 'order by calendar_events.name') }} as calendar_event

    from policy
    inner join calendar_events
        on
            {{ calendar_event_covers('policy.alert_date', 'policy.scope') }}
            {%- for kind, metrics in var('calendar_events_never_explain').items() if metrics %}
                and not (
                    calendar_events.kind = {{ sql_string_list([kind]) }}
                    and policy.metric in ({{ sql_string_list(metrics) }})
                )
            {%- endfor %}
    group by policy.alert_id

),

p_values as (

    select
        policy.*,
        day_events.calendar_event,
        case policy.rule
            when 'usage_zscore' then usage_families.family_size
            when 'cost_zscore' then cost_families.family_size
        end as family_size,
        case policy.rule
            when 'usage_zscore' then {{ safe_divide('policy.baseline_mean', 'usage_volumes.channel_baseline_mean') }}
            when 'cost_zscore' then 1
        end as volume_share,
        case policy.rule
            when 'usage_zscore' then usage_null_p_values.t_p_value
            when 'cost_zscore' then {{ student_t_p_value(
                'abs(policy.z_score)', 'cost_baselines.weekday_pooled_df', cost_max_df
            ) }}
        end as t_p_value,
        usage_null_p_values.null_p_value,
        usage_null_p_values.trend_pct_change,
        usage_user_shares.reclassified_share,
        usage_user_shares.top_user_share,
        usage_user_shares.top_users_share,
        policy.scope in ({{ account_segments }}) as is_account_segment

    from policy
    left join day_events
        on policy.alert_id = day_events.alert_id
    left join usage_families
        on
            policy.rule = 'usage_zscore'
            and policy.alert_date = usage_families.dt
    left join usage_volumes
        on
            policy.rule = 'usage_zscore'
            and policy.alert_date = usage_volumes.dt
            and policy.metric = usage_volumes.metric
    left join usage_null_p_values
        on
            policy.rule = 'usage_zscore'
            and policy.alert_date = usage_null_p_values.dt
            and policy.scope = usage_null_p_values.segment
            and policy.metric = usage_null_p_values.metric
    left join usage_user_shares
        on
            policy.rule = 'usage_zscore'
            and policy.alert_date = usage_user_shares.dt
            and policy.scope = usage_user_shares.segment
            and policy.metric = usage_user_shares.metric
    left join cost_families
        on
            policy.rule = 'cost_zscore'
            and policy.alert_date = cost_families.dt
            and policy.scope = cost_families.vertical
    left join cost_baselines
        on
            policy.rule = 'cost_zscore'
            and policy.alert_date = cost_baselines.dt
            and policy.scope = cost_baselines.vertical
            and policy.metric = cost_baselines.metric

),

calibrated_p_values as (

    select
        *,
        case
            when null_p_value > t_p_value then null_p_value
            else t_p_value
        end as p_value,
        {#- an account segment is read by organisation: a handful of its users is a customer's team, so only one
            user alone is few there -#}
        case when is_account_segment then top_user_share else top_users_share end as few_users_share,
        {#- the playbook's enterprise churn risk: loud whatever its share, even if one or two users made it -#}
        pct_change < 0 and is_account_segment as is_account_drop,
        coalesce(volume_share >= {{ var('loud_large_effect_min_share') }}, false) as carries_the_share

    from p_values

),

significance as (

    select
        *,
        coalesce(p_value * family_size <= {{ alpha / 2 }}, false) as is_family_wise,
        coalesce(
            p_value <= {{ alpha }}
            and abs(pct_change) >= {{ var('loud_large_effect_pct') }}
            and coalesce(
                case when pct_change < 0 then -trend_pct_change else trend_pct_change end
                >= {{ var('loud_large_effect_pct') }},
                true
            )
            and (carries_the_share or is_account_drop),
            false
        ) as is_large_effect

    from calibrated_p_values

),

verdicts as (

    select
        *,
        case
            when not is_postable then 'held'
            when calendar_event is not null then 'calendar_event'
            when severity_rank < {{ severity_ranks[var('loud_min_severity')] }} then 'below_severity'
            when
                threshold_kind = 'z'
                and (
                    coalesce(abs(pct_change), 0) < {{ var('loud_min_pct_change') }}
                    or abs(current_value - baseline_mean) < case metric
                        {%- for metric, floor in min_abs.items() %}
                            when '{{ metric }}' then {{ floor }}
                        {%- endfor %}
                        else 0
                    end
                )
                then 'small_effect'
            when
                coalesce(reclassified_share, 0) >= {{ var('loud_max_reclassified_share') }}
                then 'reclassified'
            when
                coalesce(few_users_share, 0) >= {{ var('loud_max_few_users_share') }}
                and not is_account_drop
                then 'few_users'
            when threshold_kind = 'z' and not (is_family_wise or is_large_effect) then 'not_significant'
        end as quiet_reason

    from significance

),

final as (

    select
        alert_id,
        calendar_event,
        cast(family_size as {{ dbt.type_bigint() }}) as loud_family_size,
        cast(p_value as {{ type_double() }}) as loud_p_value,
        quiet_reason,
        quiet_reason is null as is_loud,
        case
            when quiet_reason is not null then null
            when coalesce(threshold_kind, '') <> 'z' then 'threshold'
            when is_family_wise then 'family_wise'
            when carries_the_share then 'large_effect'
            else 'account_drop'
        end as loud_reason

    from verdicts

)

select * from final
