{#-
  A select of one row per day (column `dt`, DATE) from `start_col` to `end_col`
  inclusive, for every row of `relation` (a CTE with the two date columns).
  Used to zero-fill series; a day spine that needs no compile-time query.
-#}
{% macro days_between(relation, start_col, end_col) %}{{ return(adapter.dispatch('days_between', 'ltx_monitoring')(relation, start_col, end_col)) }}{% endmacro %}

{% macro default__days_between(relation, start_col, end_col) %}select cast(unnest(generate_series({{ start_col }}, {{ end_col }}, interval 1 day)) as date) as dt from {{ relation }}{% endmacro %}

{% macro bigquery__days_between(relation, start_col, end_col) %}select day_in_range as dt from {{ relation }}, unnest(generate_date_array({{ start_col }}, {{ end_col }})) as day_in_range{% endmacro %}
