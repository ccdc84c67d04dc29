{#- A var's list of names as SQL string literals for `in (...)`: 'a', 'b'
    (single quotes doubled, so a name from configuration cannot end the literal). -#}
{% macro sql_string_list(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{- quoted | join(', ') -}}
{%- endmacro %}
