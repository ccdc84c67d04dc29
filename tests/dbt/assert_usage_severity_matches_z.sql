-- Fails on any usage score whose severity disagrees with its z-score, or whose
-- posting flag disagrees with severity and suppression. Independent of the
-- severity_from_z macro: the band edges are read from the vars here (notice
-- z_notice < |z| <= z_warning, warning <= z_critical, critical above), so a
-- changed band (`--vars '{z_notice: 2.5}'`) is checked with its own edges;
-- that the shipped vars hold the playbook's bands (2 / 3 / 4.5) is
-- tests/python/test_alert_rules_as_data.py's.
{{ config(severity='error') }}

with

scores as (

    select * from {{ ref('fct_usage_anomaly_scores') }}

),

expected as (

    select
        *,
        case
            when z_score is null then 'none'
            when abs(z_score) > {{ var('z_critical') }} + 1e-9 then 'critical'
            when abs(z_score) > {{ var('z_warning') }} + 1e-9 then 'warning'
            when abs(z_score) > {{ var('z_notice') }} + 1e-9 then 'notice'
            else 'none'
        end as expected_severity

    from scores

),

mismatches as (

    select
        dt,
        segment,
        metric,
        z_score,
        severity,
        expected_severity

    from expected
    where
        severity != expected_severity
        or is_alert != (severity != 'none' and not is_suppressed)
        or (z_score is not null and direction != case when z_score < 0 then 'decrease' else 'increase' end)

)

select * from mismatches
