{#- The declared alert rules (var `alert_rules`, dbt_project.yml) of one domain,
    as a list of dicts with the rule name under `name`, in declaration order. -#}
{% macro alert_rules(domain) -%}
{%- set rules = [] -%}
{%- for name, rule in var('alert_rules').items() if rule['domain'] == domain -%}
    {%- do rules.append(dict(rule, name=name)) -%}
{%- endfor -%}
{{ return(rules) }}
{%- endmacro %}

{#- A threshold declared by var name, as SQL: a number, or a case on the vertical
    when the var is a map like {api: 0.70, studio: 0.46}. -#}
{% macro rule_threshold_sql(rule, vertical_expr='vertical') -%}
{%- set value = var(rule['threshold']) -%}
{%- if value is mapping -%}
case {{ vertical_expr }}{% for key, v in value.items() %} when '{{ key }}' then {{ v }}{% endfor %} end
{%- else -%}
{{ value }}
{%- endif -%}
{%- endmacro %}

{#- The team an alert of this rule routes to, as SQL. -#}
{% macro rule_team_sql(rule, vertical_expr='vertical') -%}
{%- if rule['team'] == 'vertical' -%}{{ vertical_expr }}{%- else -%}'{{ rule['team'] }}'{%- endif -%}
{%- endmacro %}

{#- The rule's recommended action as a SQL string expression: the declared text with
    `{threshold_pct}` filled in (scalar thresholds) and `{day}` replaced by the alert's day
    (`day_expr`, YYYY-MM-DD), so a command in it can be copied as it stands. An action
    declared as a map of metric -> text gives each of the rule's metrics its own (`metric_expr`);
    a metric without one is a compile error. -#}
{% macro rule_action_sql(rule, day_expr='dt', metric_expr='metric') -%}
{%- set action = rule.get('action') or '' -%}
{%- if action is mapping -%}
    {%- set missing = rule['metrics'] | reject('in', action) | list -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error('alert rule ' ~ rule['name'] ~ ': no action for metric(s) ' ~ missing | join(', ')) }}
    {%- endif -%}
    {%- set whens = [] -%}
    {%- for metric in rule['metrics'] -%}
        {%- do whens.append("when '" ~ metric ~ "' then " ~ rule_action_literal(rule, action[metric], day_expr)) -%}
    {%- endfor -%}
    {{ return('case ' ~ metric_expr ~ ' ' ~ whens | join(' ') ~ ' end') }}
{%- endif -%}
{{ return(rule_action_literal(rule, action, day_expr)) }}
{%- endmacro %}

{% macro rule_action_literal(rule, text, day_expr) -%}
{%- set value = var(rule['threshold']) -%}
{%- if value is not mapping -%}
    {%- set text = text | replace('{threshold_pct}', (value * 100) | round(1) | string) -%}
{%- endif -%}
{%- set literal = "'" ~ (text | replace("'", "''")) ~ "'" -%}
{%- if '{day}' in text -%}
    {{ return("replace(" ~ literal ~ ", '{day}', cast(" ~ day_expr ~ " as " ~ dbt.type_string() ~ "))") }}
{%- endif -%}
{{ return(literal) }}
{%- endmacro %}

{#- A number or the name of a var holding one. -#}
{% macro number_or_var(value) -%}
{%- if value is string -%}{{ return(var(value)) }}{%- else -%}{{ return(value) }}{%- endif -%}
{%- endmacro %}
