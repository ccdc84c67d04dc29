{#- cast that yields null instead of an error when the value does not fit the type. -#}
{% macro try_cast(expr, data_type) %}{{ return(adapter.dispatch('try_cast', 'ltx_monitoring')(expr, data_type)) }}{% endmacro %}

{% macro default__try_cast(expr, data_type) %}try_cast({{ expr }} as {{ data_type }}){% endmacro %}

{% macro bigquery__try_cast(expr, data_type) %}safe_cast({{ expr }} as {{ data_type }}){% endmacro %}
