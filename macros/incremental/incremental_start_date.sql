{#-
  First day an incremental run rebuilds: the `reprocess_days` newest days
  already in the model are rebuilt (late data in them is corrected), and every
  newer day is added; so a morning with one new day rebuilds reprocess_days + 1
  days (reprocess_days = 3: the new day D and D-1..D-3). Minus an optional extra
  lookback for models that need history to compute a day (e.g. 70 days of
  same-weekday baseline). Use only inside `is_incremental()`. An empty model
  starts from 1900-01-01 (i.e. rebuilds everything).

  BigQuery: `_dbt_max_partition` is the max partition that dbt-bigquery's
  insert_overwrite script declares, so the filter is a scripting constant and
  prunes partitions of the tables it is applied to.
-#}
{% macro incremental_start_date(lookback_days=0) %}{{ return(adapter.dispatch('incremental_start_date', 'ltx_monitoring')(lookback_days)) }}{% endmacro %}

{#- days from the newest built day back to the first rebuilt day (0: that day itself) -#}
{% macro reprocess_offset_days(lookback_days=0) %}{{ return(var('reprocess_days') | int - 1 + lookback_days | int) }}{% endmacro %}

{% macro default__incremental_start_date(lookback_days=0) %}coalesce(cast({{ dbt.dateadd('day', -reprocess_offset_days(lookback_days), '(select max(dt) from ' ~ this ~ ')') }} as date), cast('1900-01-01' as date)){% endmacro %}

{% macro bigquery__incremental_start_date(lookback_days=0) %}coalesce(date_sub(_dbt_max_partition, interval {{ reprocess_offset_days(lookback_days) }} day), date '1900-01-01'){% endmacro %}
