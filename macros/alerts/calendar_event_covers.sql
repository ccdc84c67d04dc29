{#- THE rule of when a row of seed calendar_events (joined as `calendar_events`)
    covers a day of a scope: starts_on <= day <= ends_on, and its scope is the
    scope (segment, vertical or source) or `*`. Used by the usage and cost
    baselines, the empirical null and the loud rule's named event. -#}
{% macro calendar_event_covers(day, scope) -%}
{{ day }} between calendar_events.starts_on and calendar_events.ends_on
and ({{ scope }} = calendar_events.scope or calendar_events.scope = '*')
{%- endmacro %}
