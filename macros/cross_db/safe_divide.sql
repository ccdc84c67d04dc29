{#- numerator / denominator, null when the denominator is 0 or null (never an error). -#}
{% macro safe_divide(numerator, denominator) %}{{ return(adapter.dispatch('safe_divide', 'ltx_monitoring')(numerator, denominator)) }}{% endmacro %}

{% macro default__safe_divide(numerator, denominator) %}(case when ({{ denominator }}) = 0 then null else ({{ numerator }}) / ({{ denominator }}) end){% endmacro %}

{% macro bigquery__safe_divide(numerator, denominator) %}safe_divide({{ numerator }}, {{ denominator }}){% endmacro %}
