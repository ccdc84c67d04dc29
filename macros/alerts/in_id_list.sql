{#- True when `id_column` is one of the ids in the comma-separated `list_column`
    (alert_feedback.alert_ids: one click names every alert of its incident). -#}
{% macro in_id_list(id_column, list_column) -%}
    {{ dbt.position(dbt.concat(["','", id_column, "','"]), dbt.concat(["','", list_column, "','"])) }} > 0
{%- endmacro %}
