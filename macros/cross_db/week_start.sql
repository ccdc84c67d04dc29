{#- Monday of the ISO week that contains the date, as a DATE, on every engine. -#}
{% macro week_start(date_expr) %}{{ return(adapter.dispatch('week_start', 'ltx_monitoring')(date_expr)) }}{% endmacro %}

{% macro default__week_start(date_expr) %}cast(date_trunc('week', {{ date_expr }}) as date){% endmacro %}

{#- BigQuery: back to Monday by arithmetic on DAYOFWEEK (1 = Sunday ... 7 = Saturday): Monday - 0,
    Sunday - 6. Same result as date_trunc(x, isoweek), which the BigQuery emulator of
    `make test-bigquery` cannot run (and date_trunc(x, week(monday)) it answers wrongly). -#}
{% macro bigquery__week_start(date_expr) %}date_sub({{ date_expr }}, interval mod(extract(dayofweek from {{ date_expr }}) + 5, 7) day){% endmacro %}
