{#- THE mapping from |z| to severity, for every domain: `none` at or below the
    notice band, then notice / warning / critical (each band exclusive below,
    inclusive above: |z| = 3 is notice, 3.01 warning). |z| is rounded to 9
    decimals first so that float noise in sigma cannot flip an exact band edge
    between runs. Bands are vars: usage z_notice / z_warning / z_critical,
    gpu_cost cost_z_notice / cost_z_warning / cost_z_critical. -#}
{% macro severity_from_z(z_expr, domain) -%}
{%- set prefix = {'usage': 'z_', 'gpu_cost': 'cost_z_'}[domain] -%}
case
    when {{ z_expr }} is null then 'none'
    when round(abs({{ z_expr }}), 9) > {{ var(prefix ~ 'critical') }} then 'critical'
    when round(abs({{ z_expr }}), 9) > {{ var(prefix ~ 'warning') }} then 'warning'
    when round(abs({{ z_expr }}), 9) > {{ var(prefix ~ 'notice') }} then 'notice'
    else 'none'
end
{%- endmacro %}

{#- The band a z alert of `severity_expr` crossed: what its message shows as
    the threshold (a CRITICAL says |z| > 4.5, not the notice band). Same vars
    as severity_from_z, the one place the bands are read. -#}
{% macro z_band_threshold(severity_expr, domain) -%}
{%- set prefix = {'usage': 'z_', 'gpu_cost': 'cost_z_'}[domain] -%}
case {{ severity_expr }}
    when 'critical' then {{ var(prefix ~ 'critical') }}
    when 'warning' then {{ var(prefix ~ 'warning') }}
    else {{ var(prefix ~ 'notice') }}
end
{%- endmacro %}

{#- THE severity order in SQL: critical 3, warning 2, notice 1, anything else 0
    (the Python side's is alerting.model.severity_rank). -#}
{% macro severity_rank(severity_expr) -%}
case {{ severity_expr }} when 'critical' then 3 when 'warning' then 2 when 'notice' then 1 else 0 end
{%- endmacro %}
