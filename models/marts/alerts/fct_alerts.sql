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
    policy's verdict (is_postable, hold_reason) and its incident. The contract
    (YAML) fixes names, order and types of these columns. -#}

with

policy as (

    select * from {{ ref('int_alerts__policy') }}

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
        recommended_action

    from policy

)

select * from final
