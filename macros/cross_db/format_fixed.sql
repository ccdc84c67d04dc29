{#- A number as text with exactly `decimals` decimals (e.g. 12.3 -> '12.30'), for plain-text summaries. -#}
{% macro format_fixed(number_expr, decimals=2) %}{{ return(adapter.dispatch('format_fixed', 'ltx_monitoring')(number_expr, decimals)) }}{% endmacro %}

{% macro default__format_fixed(number_expr, decimals=2) %}printf('%.{{ decimals }}f', {{ number_expr }}){% endmacro %}

{% macro bigquery__format_fixed(number_expr, decimals=2) %}format('%.{{ decimals }}f', {{ number_expr }}){% endmacro %}

{#- A whole number as signed text with thousands separators (-214105.4 -> '-214,105'). -#}
{% macro format_signed_count(number_expr) -%}
concat(
    case when round({{ number_expr }}) < 0 then '-' else '+' end,
    {{ adapter.dispatch('format_thousands', 'ltx_monitoring')('abs(round(' ~ number_expr ~ '))') }}
)
{%- endmacro %}

{% macro default__format_thousands(number_expr) %}format('{:,}', cast({{ number_expr }} as bigint)){% endmacro %}

{#- BigQuery's "%'d" groups with commas; the local emulator (make test-bigquery) groups with
    apostrophes: the replace makes both read 412,954 and changes nothing on BigQuery. -#}
{% macro bigquery__format_thousands(number_expr) %}replace(format("%'d", cast({{ number_expr }} as int64)), "'", ","){% endmacro %}
