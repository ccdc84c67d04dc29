{#- Monday of the ISO week that contains the date, as a DATE, on every engine. -#}
{% macro week_start(date_expr) %}{{ return(adapter.dispatch('week_start', 'ltx_monitoring')(date_expr)) }}{% endmacro %}

{% macro default__week_start(date_expr) %}cast(date_trunc('week', {{ date_expr }}) as date){% endmacro %}

{#- BigQuery's WEEK starts on Sunday; ISOWEEK starts on Monday. -#}
{% macro bigquery__week_start(date_expr) %}date_trunc({{ date_expr }}, isoweek){% endmacro %}
