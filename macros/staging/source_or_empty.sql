{#- A source table that another program creates (the alerting package's delivery
    log, the Slack feedback table): its rows when it exists, else an empty
    relation of the same columns, so that a warehouse where `alerting run` has
    not run yet still builds. The columns and their generic types (string,
    date, double, bigint, boolean, timestamp) are the source's YAML, said once. -#}
{% macro source_or_empty(source_name, table_name) -%}
{%- set relation = source(source_name, table_name) -%}
{%- set exists = (not execute) or (load_relation(relation) is not none) -%}
{%- if exists -%}
    select * from {{ relation }}
{%- else -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
    {%- set types = {
        'string': dbt.type_string(), 'date': 'date', 'double': type_double(),
        'bigint': dbt.type_bigint(), 'boolean': dbt.type_boolean(), 'timestamp': dbt.type_timestamp(),
    } -%}
    select
        {%- for column in node.columns.values() %}
            cast(null as {{ types[column.data_type] }}) as {{ column.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (select 1 as one) as no_rows
    where 1 = 0
{%- endif -%}
{%- endmacro %}
