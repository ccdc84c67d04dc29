{#- A table, not a view: computed once per run; fct_alerts and the tests read the
    result instead of re-running the rules once per test. -#}
{{ config(materialized='table') }}

{#- The usage rows of fct_alerts: every scored day x segment x metric whose
    |z| crossed the notice band (suppressed ones included, flagged), with the
    playbook's recommended action and a one-line drivers summary. -#}

with

scores as (

    select * from {{ ref('fct_usage_anomaly_scores') }}

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
        'product' as team,
        alerts.segment as scope,
        alerts.metric,
        case when alerts.metric = 'tokens' then 'tokens' else 'count' end as unit,
        alerts.value as current_value,
        alerts.baseline_mean,
        alerts.baseline_stddev,
        alerts.z_score,
        alerts.pct_change,
        cast(null as {{ type_double() }}) as threshold,
        alerts.severity,
        alerts.direction,
        alerts.is_suppressed,
        alerts.suppression_reason,
        'usage_zscore' as rule,
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
                            else 'WARNING: first day; watch whether it repeats tomorrow.'
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
        ) as recommended_action

    from alerts
    left join drivers_summary
        on
            alerts.dt = drivers_summary.dt
            and alerts.segment = drivers_summary.segment
            and alerts.metric = drivers_summary.metric

)

select * from final
