{#-
  `column_name` of the raw `relation` as a DATE that is the UTC calendar day, whatever
  the session's or the machine's time zone (issue 14). The physical type is looked up
  when the model is compiled for a run:
  * DATE (the contract), a naive TIMESTAMP / DATETIME or text: a plain cast (no zone
    involved; a naive timestamp is read as UTC wall-clock time). DuckDB still pushes a
    `dt` filter of the incremental models down into the Parquet scan.
  * TIMESTAMP WITH TIME ZONE (DuckDB) / TIMESTAMP (BigQuery, an instant): converted to
    UTC first. A plain cast would use the session zone: DuckDB's defaults to the
    machine's (UTC data read in New York moves back a day), BigQuery's to @@time_zone.
  Where the type cannot be read (parsing, or no raw files yet) the plain cast is used.
-#}
{% macro utc_date(column_name, relation) %}{{ return(adapter.dispatch('utc_date', 'ltx_monitoring')(column_name, relation)) }}{% endmacro %}

{% macro default__utc_date(column_name, relation) -%}
    {%- set data_type = raw_column_type(column_name, relation) -%}
    {%- if 'TIME ZONE' in data_type -%}
        cast(timezone('UTC', {{ column_name }}) as date)
    {%- else -%}
        cast({{ column_name }} as date)
    {%- endif -%}
{%- endmacro %}

{% macro bigquery__utc_date(column_name, relation) -%}
    {%- set data_type = raw_column_type(column_name, relation) -%}
    {%- if data_type == 'TIMESTAMP' -%}
        date({{ column_name }}, 'UTC')
    {%- else -%}
        cast({{ column_name }} as date)
    {%- endif -%}
{%- endmacro %}

{#- The upper-case type of one column of a raw relation, '' when it cannot be read. -#}
{% macro raw_column_type(column_name, relation) %}{{ return(adapter.dispatch('raw_column_type', 'ltx_monitoring')(column_name, relation)) }}{% endmacro %}

{% macro default__raw_column_type(column_name, relation) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- if column.name | lower == column_name | lower -%}{{ return(column.dtype | upper) }}{%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}

{#- DuckDB: the sources are `read_parquet('<glob>', ...)` expressions (meta.external_location).
    With no file matching the glob the type is unknown (the view then fails on
    "No files found", which names the glob); otherwise DESCRIBE reads the files' footers. -#}
{% macro duckdb__raw_column_type(column_name, relation) %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set external = relation.external if relation.external is defined else none -%}
    {%- if external and external.startswith("read_parquet('") -%}
        {#- the glob as the SQL literal sources.yml wrote (quotes already doubled) -#}
        {%- set pattern = external[14:external.rindex("', union_by_name")] -%}
        {%- set files = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
        {%- if files == 0 -%}{{ return('') }}{%- endif -%}
    {%- endif -%}
    {%- set described = run_query('select column_type from (describe select ' ~ column_name ~ ' from ' ~ relation ~ ')') -%}
    {{ return(described.columns[0].values()[0] | upper) }}
{% endmacro %}
