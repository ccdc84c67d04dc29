{#- Deterministic alert id (hex md5, identical on BigQuery and DuckDB): the same
    alert gets the same id on every re-run, which is what exactly-once delivery keys on.
    Arguments are SQL expressions; pass literals quoted, e.g. "'usage'". -#}
{% macro alert_id(domain, alert_date, scope, metric, rule) -%}
{{ dbt.hash(dbt.concat([domain, "'|'", "cast(" ~ alert_date ~ " as " ~ dbt.type_string() ~ ")", "'|'", scope, "'|'", metric, "'|'", rule])) }}
{%- endmacro %}
