-- A mute row whose scope, metric or rule is not `*` and not a known value matches nothing:
-- a typo (`tokns`, `usage_zcore`) would silently mute nothing. One row per such mute row and
-- field, naming the unknown value. Known values: the usage segments (macro usage_segments),
-- the verticals, the data-health sources, the usage metrics (macro usage_metrics), the
-- metrics and names of var alert_rules. Warn: the build goes on (the row mutes nothing).
{{ config(severity='warn') }}

{%- set rules = var('alert_rules') -%}
{%- set metrics = usage_metrics() | list -%}
{%- for rule in rules.values() if rule.metrics != '*' -%}
    {%- do metrics.extend(rule.metrics) -%}
{%- endfor -%}
{%- set known = {
    'scope': usage_segments() + ['api', 'studio', 'usage', 'gpu_costs'],
    'metric': metrics | unique | list,
    'rule': rules.keys() | list,
} %}

with

mutes as (

    select * from {{ ref('alert_mutes') }}

),

{% for field, values in known.items() %}
    unknown_{{ field }} as (

        select
            '{{ field }}' as unknown_field,
            {{ field }} as unknown_value,
            scope,
            metric,
            rule,
            starts_on,
            ends_on,
            reason

        from mutes
        where
            {{ field }} != '*'
            and {{ field }} not in ('{{ values | join("', '") }}')

    ),
{% endfor %}

final as (

    {% for field in known %}
        select * from unknown_{{ field }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
