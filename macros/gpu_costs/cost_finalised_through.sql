{#- The last finalised cost day: run date (var `run_date`, null = today) minus
    `cost_finalisation_days`. Cost data takes ~3 days to settle; cost alerts and
    the `is_finalised` flag use this day. -#}
{% macro run_date() -%}
{%- if var('run_date') is none -%}current_date{%- else -%}cast('{{ var("run_date") }}' as date){%- endif -%}
{%- endmacro %}

{% macro cost_finalised_through() -%}
cast({{ dbt.dateadd('day', -(var('cost_finalisation_days') | int), run_date()) }} as date)
{%- endmacro %}
