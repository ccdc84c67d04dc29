{{
    config(
        contract={'enforced': contract_enforced()},
        materialized='table',
        partition_by=day_partition('alert_date'),
        cluster_by=['domain', 'team'],
    )
}}

{#- Contract (column names, order, types in the YAML) enforced on DuckDB and BigQuery;
    not on the BigQuery emulator (macro contract_enforced, docs/bigquery.md "Contracts"). -#}

{#- Every alert of every domain, one row per alert (DESIGN.md §3.3), with the
    policy's verdicts (is_postable, hold_reason; is_loud and why not from
    int_alerts__loudness) and its incident. The contract
    (YAML) fixes names, order and types of these columns. An alert on a known
    event's day (calendar_event) is expected: its action says so instead of the
    rule's ("investigate now" under "Expected: Thanksgiving" said both) - unless
    its series (domain, scope, metric, direction) alerted on every day since an
    ordinary day before it: a change that began before the event keeps the
    rule's action and says when it began (year 6's heavy tokens shift, day 12
    of its run on Juneteenth, was told to look into it only if it outlasted
    the event). run_days says which day of that run the alert is, over the
    whole table: a message's "day 28 in a row" is the mart's, not what a
    run's look-back window happens to hold. -#}

with

policy as (

    select * from {{ ref('int_alerts__policy') }}

),

loudness as (

    select * from {{ ref('int_alerts__loudness') }}

),

joined as (

    select
        policy.*,
        loudness.is_loud,
        loudness.quiet_reason,
        loudness.loud_reason,
        loudness.calendar_event,
        loudness.loud_p_value,
        loudness.loud_family_size

    from policy
    inner join loudness
        on policy.alert_id = loudness.alert_id

),

runs as (

    select
        *,
        {{ series_run_key('domain, scope, metric, direction', 'alert_date') }} as run_key

    from joined

),

with_run as (

    select
        *,
        min(alert_date) over (partition by domain, scope, metric, direction, run_key) as run_start,
        min(case when calendar_event is null then alert_date end)
            over (partition by domain, scope, metric, direction, run_key)
            as run_first_ordinary_day

    from runs

),

final as (

    select
        alert_id,
        incident_id,
        alert_date,
        domain,
        team,
        scope,
        metric,
        rule,
        threshold_kind,
        baseline_kind,
        unit,
        current_value,
        baseline_mean,
        baseline_stddev,
        baseline_stddev_kind,
        baseline_points,
        z_score,
        robust_z_score,
        pct_change,
        threshold,
        severity,
        direction,
        is_suppressed,
        suppression_reason,
        is_postable,
        hold_reason,
        is_baseline_valid,
        has_insufficient_baseline,
        is_low_variance,
        has_baseline_outlier,
        baseline_outlier_date,
        is_incident_primary,
        drivers_summary,
        case
            when calendar_event is null then recommended_action
            when run_first_ordinary_day < alert_date
                then
                    concat(
                        recommended_action,
                        ' It began on ', cast(run_start as {{ dbt.type_string() }}), ', before the known event.'
                    )
            else
                concat(
                    upper(severity), ': expected on a known event day; look into it only if it outlasts the event.'
                )
        end as recommended_action,
        is_loud,
        quiet_reason,
        loud_reason,
        calendar_event,
        loud_p_value,
        loud_family_size,
        feedback_action,
        {{ dbt.datediff('run_start', 'alert_date', 'day') }}
        + 1 as run_days,
        '{{ invocation_id }}' as build_id

    from with_run

)

select * from final
