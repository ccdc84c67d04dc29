{#-
  Upper bound of one GPU cost value in gpu_request_attribution_and_cost (var
  max_row_cost_usd, USD; see docs/data-inputs.md). A value outside [0, bound], NaN or
  +-inf is impossible: staging flags the row and hands the value on as null.
-#}
{% macro row_cost_bound() %}
    {%- set value = var('max_row_cost_usd') -%}
    {%- if value is none or value is string or value is boolean or value < 1 or value > 1000000000 -%}
        {{ exceptions.raise_compiler_error("var max_row_cost_usd must be a number between 1 and 10^9, got " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}
