{#- A number as text with exactly `decimals` decimals (e.g. 12.3 -> '12.30'), for plain-text summaries. -#}
{% macro format_fixed(number_expr, decimals=2) %}{{ return(adapter.dispatch('format_fixed', 'ltx_monitoring')(number_expr, decimals)) }}{% endmacro %}

{% macro default__format_fixed(number_expr, decimals=2) %}printf('%.{{ decimals }}f', {{ number_expr }}){% endmacro %}

{% macro bigquery__format_fixed(number_expr, decimals=2) %}format('%.{{ decimals }}f', {{ number_expr }}){% endmacro %}
