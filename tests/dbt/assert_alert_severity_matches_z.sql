-- Every z-rule alert in fct_alerts (usage_zscore and the cost z rules) has the
-- severity of its |z|, computed here with the playbook's band edges written out
-- (not the severity_from_z macro): notice 2 < |z| <= 3, warning 3 < |z| <= 4.5,
-- critical > 4.5, for both domains. Fails too when the vars no longer hold
-- these bands (update both together). A z rule declared with a fixed
-- `severity` (usage_week_over_week_shift: notice) has that severity and a |z|
-- above its own threshold instead. The threshold a message shows is the band
-- the alert crossed: a CRITICAL never shows the notice band.
{{ config(severity='error') }}
{%- set fixed = {} -%}
{%- for name, rule in var('alert_rules').items() if rule.get('severity') -%}
    {%- do fixed.update({name: rule['severity']}) -%}
{%- endfor %}

with

alerts as (

    select * from {{ ref('fct_alerts') }}
    where threshold_kind = 'z'

),

expected as (

    select
        alert_id,
        z_score,
        severity,
        case
            {%- for name, severity in fixed.items() %}
                when rule = '{{ name }}' and abs(z_score) > threshold + 1e-9 then '{{ severity }}'
                when rule = '{{ name }}' then 'not an alert'
            {%- endfor %}
            when abs(z_score) > 4.5 + 1e-9 then 'critical'
            when abs(z_score) > 3 + 1e-9 then 'warning'
            when abs(z_score) > 2 + 1e-9 then 'notice'
            else 'not an alert'
        end as expected_severity,
        threshold,
        case severity when 'critical' then 4.5 when 'warning' then 3 else 2 end as expected_threshold,
        rule in ('{{ fixed.keys() | join("', '") }}') as has_fixed_severity

    from alerts

)

select
    alert_id,
    z_score,
    severity,
    expected_severity

from expected
where
    z_score is null
    or severity != expected_severity
    or (not has_fixed_severity and abs(threshold - expected_threshold) > 1e-9)
{%- set bands = [var('z_notice'), var('z_warning'), var('z_critical')]
    + [var('cost_z_notice'), var('cost_z_warning'), var('cost_z_critical')] %}
{%- if bands != [2, 3, 4.5, 2, 3, 4.5] %}
    union all
    select
        'bands changed: update this test', null, null, null
{%- endif %}
