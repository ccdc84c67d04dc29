{#- DuckDB: seeds are loaded through dbt's CSV reader (batched inserts), never dbt-duckdb's
    `fast` COPY path. The seeds are edited by hand, and a row appended with Windows line
    endings (CRLF) after LF rows made DuckDB's CSV sniffer fail the whole build; they hold a
    few rows, so there is no cost. An override of the adapter's macro rather than the
    `+fast: false` config, which BigQuery's dbt reports as a deprecated custom config key. -#}
{% macro duckdb__load_csv_rows(model, agate_table) %}
    {{ return(default__load_csv_rows(model, agate_table)) }}
{% endmacro %}
