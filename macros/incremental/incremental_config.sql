{#-
  The strategy every day-partitioned incremental mart uses: insert_overwrite of
  whole `dt` partitions on BigQuery, delete+insert keyed on `dt` on DuckDB
  (same effect: the days in the batch are replaced, other days untouched).
-#}
{% macro incremental_strategy() %}{{ return(adapter.dispatch('incremental_strategy', 'ltx_monitoring')()) }}{% endmacro %}

{% macro default__incremental_strategy() %}{{ return('delete+insert') }}{% endmacro %}

{% macro bigquery__incremental_strategy() %}{{ return('insert_overwrite') }}{% endmacro %}
