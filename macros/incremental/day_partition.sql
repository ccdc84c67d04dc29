{#- `partition_by` config for a day-partitioned model: a DATE partition on
    BigQuery; none elsewhere (dbt-duckdb reads partition_by as file
    partitioning of external tables, which we do not use). -#}
{% macro day_partition(field='dt') %}{{ return(adapter.dispatch('day_partition', 'ltx_monitoring')(field)) }}{% endmacro %}

{% macro default__day_partition(field='dt') %}{{ return(none) }}{% endmacro %}

{% macro bigquery__day_partition(field='dt') %}{{ return({'field': field, 'data_type': 'date', 'granularity': 'day'}) }}{% endmacro %}
