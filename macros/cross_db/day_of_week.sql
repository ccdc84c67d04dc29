{#- Day of week in BigQuery's numbering on every engine: 1 = Sunday ... 7 = Saturday. -#}
{% macro day_of_week(date_expr) %}{{ return(adapter.dispatch('day_of_week', 'ltx_monitoring')(date_expr)) }}{% endmacro %}

{% macro default__day_of_week(date_expr) %}extract(dayofweek from {{ date_expr }}){% endmacro %}

{#- DuckDB's dayofweek is 0 = Sunday ... 6 = Saturday. -#}
{% macro duckdb__day_of_week(date_expr) %}(extract(dayofweek from {{ date_expr }}) + 1){% endmacro %}
