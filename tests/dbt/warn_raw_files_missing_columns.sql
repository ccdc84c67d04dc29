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
        {%- set meta = node.config.get('meta') or node.meta or {} -%}
        {%- set location = meta.get('external_location', '') or '' -%}
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

    with

    {% for check in checks %}
        files_{{ loop.index }} as (

            select distinct file_name
            from parquet_schema('{{ check.glob }}')

        ),

        present_{{ loop.index }} as (

            select
                file_name,
                lower(name) as column_name

            from parquet_schema('{{ check.glob }}')

        ),

        expected_{{ loop.index }} as (

            {{ values_as_rows(check.columns, 'column_name') }}

        ),

        missing_{{ loop.index }} as (

            select
                '{{ check.source }}' as source_table,
                files.file_name,
                expected.column_name as missing_column

            from files_{{ loop.index }} as files
            cross join expected_{{ loop.index }} as expected
            left join present_{{ loop.index }} as present
                on
                    files.file_name = present.file_name
                    and expected.column_name = present.column_name
            where present.file_name is null

        ){{ ',' if not loop.last }}

    {% endfor %}

    {% for check in checks %}
        select * from missing_{{ loop.index }}
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
