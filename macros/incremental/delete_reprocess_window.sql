{#-
  pre_hook for SPARSE incremental models (a day may have no rows, e.g. a day
  that stopped alerting once late data arrived). delete+insert and
  insert_overwrite only replace the days present in the new batch, so a day
  that produces no rows any more would keep its stale rows. This hook first
  deletes the reprocess window (the `reprocess_days` newest built days, as
  incremental_start_date); the model then rebuilds from at least the first of
  them (its own start is computed after this delete, so it reaches further
  back: more work, same rows). No-op on full refresh.
-#}
{% macro delete_reprocess_window(date_column='dt') %}
{%- if is_incremental() -%}
delete from {{ this }}
where {{ date_column }} >= (
    select cast({{ dbt.dateadd('day', -reprocess_offset_days(), 'max(' ~ date_column ~ ')') }} as date)
    from {{ this }}
)
{%- endif -%}
{% endmacro %}
