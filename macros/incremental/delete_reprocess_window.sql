{#-
  The window of the SPARSE incremental models (rows on usage alert days only:
  the per-user deltas, drivers, top users, concentration). Their own newest day
  is the last alert day, which can be weeks old, so `incremental_start_date`
  (newest built day - ...) would reach back to it and a daily run would read
  weeks of per-user rows. Their window is taken from the dense upstream
  `fct_usage_anomaly_scores` instead (already rebuilt in this run):

    the earlier of
      * its newest day - reprocess_days: the days every dense model rebuilt when
        one new day arrived (late corrections reach the drill-downs too), and
      * its first alert day newer than this model's newest day: alert days never
        processed (a run after a gap of several days misses none).

  Evaluated with run_query when the model is compiled, i.e. before its pre_hook
  deletes anything, and again (same answer: nothing has changed yet) by the
  pre_hook: both use the same literal date. On BigQuery a constant: it prunes.
  Full refresh / first build: 1900-01-01.
-#}
{% macro alert_window_start() %}
    {%- set scores = ref('fct_usage_anomaly_scores') -%}
    {%- if not (execute and is_incremental()) -%}{{ return("cast('1900-01-01' as date)") }}{%- endif -%}
    {%- set query -%}
        select least(
            coalesce(
                (select cast({{ dbt.dateadd('day', -(var('reprocess_days') | int), 'max(dt)') }} as date) from {{ scores }}),
                cast('1900-01-01' as date)
            ),
            coalesce(
                (
                    select min(dt) from {{ scores }}
                    where is_alert and dt > coalesce((select max(dt) from {{ this }}), cast('1900-01-01' as date))
                ),
                cast('9999-12-31' as date)
            )
        )
    {%- endset -%}
    {%- set start = run_query(query).columns[0].values()[0] -%}
    {{ return("cast('" ~ start ~ "' as date)") }}
{% endmacro %}

{#-
  pre_hook of the sparse models: a day that stopped alerting once late data
  arrived produces no rows any more, and delete+insert / insert_overwrite only
  replace the days present in the new batch; so the window (alert_window_start)
  is deleted first. No-op on full refresh.
-#}
{% macro delete_reprocess_window(date_column='dt') %}
{%- if is_incremental() -%}
delete from {{ this }} where {{ date_column }} >= {{ alert_window_start() }}
{%- endif -%}
{% endmacro %}
