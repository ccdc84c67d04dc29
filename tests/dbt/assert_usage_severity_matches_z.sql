-- Fails on any usage score whose severity disagrees with its z-score, or whose
-- posting flag disagrees with severity and suppression. Independent of the
-- severity_from_z macro: the playbook's band edges are written out here
-- (notice 2 < |z| <= 3, warning 3 < |z| <= 4.5, critical > 4.5), and the test
-- also fails when the vars no longer hold these bands (update both together).
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
            when abs(z_score) > 4.5 + 1e-9 then 'critical'
            when abs(z_score) > 3 + 1e-9 then 'warning'
            when abs(z_score) > 2 + 1e-9 then 'notice'
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
{%- if [var('z_notice'), var('z_warning'), var('z_critical')] != [2, 3, 4.5] %}
    union all
    select
        null, 'bands changed: update this test', null, null, null, null
{%- endif %}
