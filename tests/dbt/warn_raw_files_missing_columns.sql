-- DuckDB: every raw Parquet file holds every column its source declares (models/staging/sources.yml).
-- union_by_name reads a column missing from one file (renamed, dropped) as null in that file's
-- rows, silently; this test names each such file and column. One row per file x missing column.
-- Warn: a usage day whose count column has no value at all is also marked `incomplete` in
-- fct_data_health (its alerts held); this test also catches a day split into several files of
-- which one lacks a column. Reads only the files' footers. BigQuery: tables have one schema; no rows.
{{ config(severity='warn') }}

{%- set checks = [] -%}
{%- if execute and target.type == 'duckdb' -%}
    {%- for node in graph.sources.values() -%}
        {%- set location = node.meta.get('external_location', '') or '' -%}
        {%- if location.startswith("read_parquet('") and node.columns -%}
            {%- do checks.append({
                'source': node.source_name ~ '.' ~ node.name,
                'glob': location[14:location.rindex("', union_by_name")],
                'columns': node.columns.keys() | map('lower') | list,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

{% if checks %}

    {% for check in checks %}
        select
            '{{ check.source }}' as source_table,
            files.file_name,
            expected.column_name as missing_column

        from (select distinct file_name from parquet_schema('{{ check.glob }}')) as files
        cross join (
            {{ values_as_rows(check.columns, 'column_name') }}
        ) as expected
        where not exists (
            select 1
            from parquet_schema('{{ check.glob }}') as present
            where
                present.file_name = files.file_name
                and lower(present.name) = expected.column_name
        )
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

{% else %}

    select
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as file_name,
        cast(null as {{ dbt.type_string() }}) as missing_column
    from (select 1 as one) as nothing
    where false

{% endif %}
