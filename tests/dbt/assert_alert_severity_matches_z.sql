-- Every z-rule alert in fct_alerts (usage_zscore and the cost z rules) has the
-- severity of its |z|, computed here from the domain's band vars (not the
-- severity_from_z macro): notice z_notice < |z| <= z_warning, warning <=
-- z_critical, critical above (cost: cost_z_*). So `--vars '{z_notice: 2.5}'`
-- is checked with its own bands; that the shipped vars hold the playbook's
-- bands (2 / 3 / 4.5) is tests/python/test_alert_rules_as_data.py's. A z rule
-- declared with a fixed `severity` (usage_week_over_week_shift: notice) has
-- that severity and a |z| above its own threshold instead. The threshold a message shows is the band
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
            {%- for domain, prefix in [('usage', 'z_'), ('gpu_cost', 'cost_z_')] %}
                when domain = '{{ domain }}' and abs(z_score) > {{ var(prefix ~ 'critical') }} + 1e-9 then 'critical'
                when domain = '{{ domain }}' and abs(z_score) > {{ var(prefix ~ 'warning') }} + 1e-9 then 'warning'
                when domain = '{{ domain }}' and abs(z_score) > {{ var(prefix ~ 'notice') }} + 1e-9 then 'notice'
            {%- endfor %}
            else 'not an alert'
        end as expected_severity,
        threshold,
        case
            {%- for domain, prefix in [('usage', 'z_'), ('gpu_cost', 'cost_z_')] %}
                when domain = '{{ domain }}' and severity = 'critical' then {{ var(prefix ~ 'critical') }}
                when domain = '{{ domain }}' and severity = 'warning' then {{ var(prefix ~ 'warning') }}
                when domain = '{{ domain }}' then {{ var(prefix ~ 'notice') }}
            {%- endfor %}
        end as expected_threshold,
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
