{#- The segment and metric vocabularies of the usage marts (DESIGN.md §3.3), in priority order. -#}
{% macro usage_segments() %}{{ return(['enterprise_contract', 'enterprise_pilot', 'heavy', 'paying', 'free']) }}{% endmacro %}

{% macro usage_metrics() %}{{ return(['dau', 'image_generations', 'video_generations', 'tokens']) }}{% endmacro %}

{#- Rows of a one-column literal table, e.g. `select 'a' as segment union all select 'b' ...`. -#}
{% macro values_as_rows(values, column_name) -%}
{%- for v in values %}select '{{ v }}' as {{ column_name }}{% if not loop.last %} union all {% endif %}{% endfor -%}
{%- endmacro %}
