{#- A table, not a view: computed once per run; the policy and the tests read the
    result instead of re-running it once per test. -#}
{{ config(materialized='table') }}

{#- The usage candidates of fct_alerts (rule `usage_zscore`, declared in var
    `alert_rules`): every scored day x segment x metric whose |z| crossed the
    notice band (suppressed ones included, flagged), with the validity flags,
    the robust score, the baseline day that is the outlier (the baseline point
    farthest from the baseline median, when the baseline holds an outlier), the
    playbook's recommended action and a one-line drivers summary.
    `has_insufficient_baseline`: fewer than `min_baseline_points` points. -#}
{%- set rule = var('alert_rules')['usage_zscore'] -%}

with

scores as (

    select * from {{ ref('fct_usage_anomaly_scores') }}

),

outliers as (

    select * from {{ ref('int_alerts__usage_baseline_outliers') }}

),

drivers as (

    select * from {{ ref('fct_usage_alert_drivers') }}

),

with_previous_day as (

    select
        *,
        lag(dt) over (partition by segment, metric order by dt) as previous_dt,
        lag(severity) over (partition by segment, metric order by dt) as previous_severity,
        lag(direction) over (partition by segment, metric order by dt) as previous_direction

    from scores

),

alerts as (

    select
        *,
        coalesce(
            previous_dt = cast({{ dbt.dateadd('day', -1, 'dt') }} as date)
            and previous_severity != 'none'
            and previous_direction = direction,
            false
        ) as repeated_previous_day

    from with_previous_day
    where severity != 'none'

),

driver_labels as (

    select
        dt,
        segment,
        metric,
        contributor_rank,
        concat(
            contributor,
            ' ',
            case when delta >= 0 then '+' else '-' end,
            cast(cast(round(abs(delta)) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}),
            ' (',
            cast(cast(round(100 * share_of_delta) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}),
            '% of change)'
        ) as label

    from drivers
    where contributor_rank <= 3

),

drivers_summary as (

    select
        dt,
        segment,
        metric,
        {{ dbt.listagg('label', "'; '", 'order by contributor_rank') }} as drivers_summary,
        max(case when contributor_rank = 1 then label end) as top_driver

    from driver_labels
    group by 1, 2, 3

),

final as (

    select
        {{ alert_id("'usage'", 'alerts.dt', 'alerts.segment', 'alerts.metric', "'usage_zscore'") }} as alert_id,
        alerts.dt as alert_date,
        'usage' as domain,
        '{{ rule["team"] }}' as team,
        alerts.segment as scope,
        alerts.metric,
        'usage_zscore' as rule,
        case alerts.metric
            {%- for metric in usage_metrics() %}
                when '{{ metric }}' then {{ loop.index }}
            {%- endfor %}
        end as primary_order,
        '{{ rule["threshold_kind"] }}' as threshold_kind,
        '{{ rule["baseline_kind"] }}' as baseline_kind,
        case when alerts.metric = 'tokens' then 'tokens' else 'count' end as unit,
        alerts.value as current_value,
        alerts.baseline_mean,
        alerts.baseline_stddev,
        case when alerts.baseline_stddev is not null then 'sample' end as baseline_stddev_kind,
        cast(alerts.baseline_points as {{ dbt.type_bigint() }}) as baseline_points,
        alerts.z_score,
        alerts.robust_z_score,
        alerts.pct_change,
        cast({{ z_band_threshold('alerts.severity', 'usage') }} as {{ type_double() }}) as threshold,
        alerts.severity,
        alerts.direction,
        alerts.is_suppressed,
        alerts.suppression_reason,
        not(
            alerts.baseline_points < {{ var('min_baseline_points') }}
            or alerts.is_low_variance
            or alerts.has_baseline_outlier
        ) as is_baseline_valid,
        alerts.baseline_points < {{ var('min_baseline_points') }} as has_insufficient_baseline,
        alerts.is_low_variance,
        alerts.has_baseline_outlier,
        outliers.baseline_outlier_date,
        drivers_summary.drivers_summary,
        concat(
            case alerts.severity
                when 'critical'
                    then
                        case
                            when alerts.segment like 'enterprise%'
                                then
                                    'CRITICAL: investigate now; contact the account managers of the orgs below.'
                            else 'CRITICAL: investigate now.'
                        end
                when 'warning'
                    then
                        case
                            when alerts.repeated_previous_day
                                then
                                    'WARNING: fired yesterday too, same direction: the shift persists.'
                            else 'WARNING: no same-direction alert yesterday; watch whether it repeats tomorrow.'
                        end
                else 'NOTICE: no action unless it persists.'
            end,
            case alerts.direction
                when 'increase' then ' Increase: look for launches or product changes.'
                else ' Decrease: look for churn or product issues.'
            end,
            case
                when alerts.has_no_raw_rows then ' No raw usage rows were loaded for this day: check ingestion first.'
                when not alerts.is_baseline_valid then ' Baseline caveat: see the validity flags.'
                else ''
            end
        ) as recommended_action,
        'segment_shift' as cause

    from alerts
    left join drivers_summary
        on
            alerts.dt = drivers_summary.dt
            and alerts.segment = drivers_summary.segment
            and alerts.metric = drivers_summary.metric
    left join outliers
        on
            alerts.dt = outliers.dt
            and alerts.segment = outliers.segment
            and alerts.metric = outliers.metric

)

select * from final
