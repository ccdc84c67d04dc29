{#- Whether a mart's contract (column names, order, types in its YAML) is enforced: on DuckDB and
    on BigQuery, everywhere but the local BigQuery emulator (target `bigquery_emulator`,
    `make test-bigquery`), whose SQL parser rejects the contract DDL (docs/bigquery.md,
    "Contracts"). There bigquery_ci/contract_check.py compares each contracted table's columns
    and types with the contract instead. -#}
{% macro contract_enforced() -%}
    {{ return(target.name != 'bigquery_emulator') }}
{%- endmacro %}
