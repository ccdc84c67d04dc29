{#- Deterministic incident id (hex md5, identical on BigQuery and DuckDB): alerts
    that share a cause share it. Arguments are SQL expressions; `direction` may be
    an empty-string literal for domains whose incidents do not split by direction. -#}
{% macro incident_id(domain, alert_date, scope, direction) -%}
{{ dbt.hash(dbt.concat([domain, "'|'", "cast(" ~ alert_date ~ " as " ~ dbt.type_string() ~ ")", "'|'", scope, "'|'", direction])) }}
{%- endmacro %}
