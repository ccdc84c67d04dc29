{#- The last finalised cost day: run date (var `run_date`, null = today) minus
    `cost_finalisation_days`. Cost data takes ~3 days to settle; cost alerts and
    the `is_finalised` flag use this day. -#}
{% macro run_date() -%}
{%- if var('run_date') is none -%}current_date{%- else -%}cast('{{ run_date_var() }}' as date){%- endif -%}
{%- endmacro %}

{#- The var `run_date` as a checked 'YYYY-MM-DD' string: it goes into SQL as a literal, so
    anything but a real calendar date (a typo, a quote, SQL) is refused at compile time. -#}
{% macro run_date_var() %}
    {%- set value = var('run_date') | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error("var run_date must be a date YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {%- set parts = value.split('-') | map('int') | list -%}
    {%- set month_days = [31, 29 if parts[0] % 4 == 0 and (parts[0] % 100 != 0 or parts[0] % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- if parts[1] < 1 or parts[1] > 12 or parts[2] < 1 or parts[2] > month_days[parts[1] - 1] -%}
        {{ exceptions.raise_compiler_error("var run_date must be a real calendar date YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}

{% macro cost_finalised_through() -%}
cast({{ dbt.dateadd('day', -(var('cost_finalisation_days') | int), run_date()) }} as date)
{%- endmacro %}
