{#-
  First day an incremental run rebuilds: the newest day already in the model
  minus `reprocess_days` (late data in that window is corrected), minus an
  optional extra lookback for models that need history to compute a day
  (e.g. 70 days of same-weekday baseline). Use only inside `is_incremental()`.
  An empty model starts from 1900-01-01 (i.e. rebuilds everything).

  BigQuery: `_dbt_max_partition` is the max partition that dbt-bigquery's
  insert_overwrite script declares, so the filter is a scripting constant and
  prunes partitions of the tables it is applied to.
-#}
{% macro incremental_start_date(lookback_days=0) %}{{ return(adapter.dispatch('incremental_start_date', 'ltx_monitoring')(lookback_days)) }}{% endmacro %}

{% macro default__incremental_start_date(lookback_days=0) %}coalesce(cast({{ dbt.dateadd('day', -(var('reprocess_days') | int + lookback_days | int), '(select max(dt) from ' ~ this ~ ')') }} as date), cast('1900-01-01' as date)){% endmacro %}

{% macro bigquery__incremental_start_date(lookback_days=0) %}coalesce(date_sub(_dbt_max_partition, interval {{ var('reprocess_days') | int + lookback_days | int }} day), date '1900-01-01'){% endmacro %}
