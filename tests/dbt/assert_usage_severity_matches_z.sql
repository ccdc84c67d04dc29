-- Fails on any usage score whose severity disagrees with its z-score
-- (bands notice > z_notice, warning > z_warning, critical > z_critical), or
-- whose posting flag disagrees with severity and suppression.
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
            when round(abs(z_score), 9) > {{ var('z_critical') }} then 'critical'
            when round(abs(z_score), 9) > {{ var('z_warning') }} then 'warning'
            when round(abs(z_score), 9) > {{ var('z_notice') }} then 'notice'
            else 'none'
        end as expected_severity

    from scores

)

select *
from expected
where
    severity != expected_severity
    or is_alert != (severity != 'none' and not is_suppressed)
    or (z_score is not null and direction != case when z_score < 0 then 'decrease' else 'increase' end)
