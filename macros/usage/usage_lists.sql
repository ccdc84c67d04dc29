{#- The segment and metric vocabularies of the usage marts (DESIGN.md §3.3), in priority order. -#}
{% macro usage_segments() %}{{ return(['enterprise_contract', 'enterprise_pilot', 'heavy', 'paying', 'free']) }}{% endmacro %}

{#- THE usage metric list: name -> how a group of user-days (one row per user per day,
    columns of int_usage__user_days_segmented) aggregates into it. Segment days,
    contributor days, baselines, scores, drivers and alerts all loop over this list;
    adding a metric is one entry here (plus its display name in the alerting package
    and its docs / accepted values), see docs/alert-rules-and-policy.md. -#}
{% macro usage_metric_definitions() %}{{ return({
    'dau': 'count(distinct lt_id)',
    'image_generations': 'sum(image_generations)',
    'video_generations': 'sum(video_generations)',
    'tokens': 'sum(tokens)',
}) }}{% endmacro %}

{% macro usage_metrics() %}{{ return(usage_metric_definitions().keys() | list) }}{% endmacro %}

{#- Rows of a one-column literal table, e.g. `select 'a' as segment union all select 'b' ...`. -#}
{% macro values_as_rows(values, column_name) -%}
{%- for v in values %}select '{{ v }}' as {{ column_name }}{% if not loop.last %} union all {% endif %}{% endfor -%}
{%- endmacro %}
