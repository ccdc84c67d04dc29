{#- 64-bit float on every engine. dbt.type_float() is FLOAT64 on BigQuery but a
    4-byte FLOAT on DuckDB, which silently loses precision on money and token sums. -#}
{% macro type_double() %}{{ return(adapter.dispatch('type_double', 'ltx_monitoring')()) }}{% endmacro %}

{% macro default__type_double() %}{{ return(dbt.type_float()) }}{% endmacro %}

{% macro duckdb__type_double() %}{{ return('double') }}{% endmacro %}
