{{ config(materialized='table') }}

{#- The candidates of rule `usage_week_over_week_shift` (declared in var
    `alert_rules`): the second-shift blind spot of the same-weekday rule. A
    scored day x segment x metric is a candidate when
      * the same-weekday rule is silent on it (severity `none`),
      * its week-over-week z (change vs the same weekday last week against
        the typical week-over-week change, fct_usage_anomaly_scores.wow_z_score)
        is beyond the rule's threshold (|z| rounded to 9 decimals > threshold,
        like every band edge), and
      * the same weekday last week raised no same-weekday alert: the way back
        from an anomaly that was already reported scores a large week-over-week
        change but is no news.
    Severity is the declaration's (notice); direction is the sign of the
    week-over-week change. The columns are those of int_alerts__usage_candidates:
    baseline_mean is last week's value, z_score / robust_z_score the
    week-over-week z (a median / MAD score), no sigma; like every usage alert
    it is held (insufficient_baseline) below `min_baseline_points` (10) points,
    here week-over-week changes (the z itself needs `usage_wow_min_points`).
    No drivers mart row: drivers_summary says what was compared. -#}
{%- set rule_name = 'usage_week_over_week_shift' -%}
{%- set rule = var('alert_rules')[rule_name] -%}

with

scores as (

    select * from {{ ref('fct_usage_anomaly_scores') }}

),

previous_week as (

    select
        cast({{ dbt.dateadd('day', 7, 'dt') }} as date) as dt,
        segment,
        metric,
        severity as previous_week_severity

    from scores

),

alerts as (

    select
        scores.*,
        case when scores.wow_z_score < 0 then 'decrease' else 'increase' end as wow_direction

    from scores
    left join previous_week
        on
            scores.dt = previous_week.dt
            and scores.segment = previous_week.segment
            and scores.metric = previous_week.metric
    where
        scores.severity = 'none'
        and coalesce(previous_week.previous_week_severity, 'none') = 'none'
        and round(abs(scores.wow_z_score), 9) > {{ rule_threshold_sql(rule) }}

),

final as (

    select
        {{ alert_id("'usage'", 'dt', 'segment', 'metric', "'" ~ rule_name ~ "'") }} as alert_id,
        dt as alert_date,
        'usage' as domain,
        '{{ rule["team"] }}' as team,
        segment as scope,
        metric,
        '{{ rule_name }}' as rule,
        case metric
            {%- for metric in usage_metrics() %}
                when '{{ metric }}' then {{ loop.index }}
            {%- endfor %}
        end as primary_order,
        '{{ rule["threshold_kind"] }}' as threshold_kind,
        '{{ rule["baseline_kind"] }}' as baseline_kind,
        case when metric = 'tokens' then 'tokens' else 'count' end as unit,
        value as current_value,
        wow_previous_value as baseline_mean,
        cast(null as {{ type_double() }}) as baseline_stddev,
        cast(null as {{ dbt.type_string() }}) as baseline_stddev_kind,
        cast(wow_baseline_points as {{ dbt.type_bigint() }}) as baseline_points,
        wow_z_score as z_score,
        wow_z_score as robust_z_score,
        wow_pct_change as pct_change,
        cast({{ rule_threshold_sql(rule) }} as {{ type_double() }}) as threshold,
        '{{ rule["severity"] }}' as severity,
        wow_direction as direction,
        is_suppressed,
        suppression_reason,
        wow_baseline_points >= {{ var('min_baseline_points') }} as is_baseline_valid,
        wow_baseline_points < {{ var('min_baseline_points') }} as has_insufficient_baseline,
        cast(null as boolean) as is_low_variance,
        cast(null as boolean) as has_baseline_outlier,
        cast(null as date) as baseline_outlier_date,
        concat(
            'Week-over-week change ',
            {{ format_signed_count('wow_change') }},
            ' vs a typical ',
            {{ format_signed_count('wow_baseline_median') }},
            ' (scale ',
            substr({{ format_signed_count('wow_baseline_scale') }}, 2),
            ', last ',
            cast(wow_baseline_points as {{ dbt.type_string() }}),
            ' weeks); same-weekday z ',
            coalesce(cast(round(z_score, 2) as {{ dbt.type_string() }}), 'n/a')
        ) as drivers_summary,
        concat(
            {{ rule_action_sql(rule) }},
            case wow_direction
                when 'increase' then ' Increase: look for launches or product changes.'
                else ' Decrease: look for churn or product issues.'
            end,
            case
                when has_no_raw_rows then ' No raw usage rows were loaded for this day: check ingestion first.'
                else ''
            end
        ) as recommended_action,
        'segment_shift' as cause

    from alerts

)

select * from final
