{#-
  Upper bound of one per-user-day count in ltxstudio_agg_user_date (vars
  max_user_day_tokens, max_user_day_generations; see docs/data-inputs.md). A
  reported value outside [0, bound] is implausible: staging flags the row and
  hands the metric on as null, so it never reaches a statistic or an alert.

  The bound also keeps every sum exact and far from overflow on both engines:
  BigQuery's SUM(INT64) raises on overflow and DuckDB's sum of BIGINT is a
  HUGEINT that later casts fail on. Capped at 10^12 per user-day, a day would need
  more than 9 million user-days at the bound before a sum passes 2^63.
-#}
{% macro user_day_bound(var_name) %}
    {%- set value = var(var_name) -%}
    {%- if value is none or value is string or value is boolean or value < 1 or value > 1000000000000 -%}
        {{ exceptions.raise_compiler_error("var " ~ var_name ~ " must be a number between 1 and 10^12, got " ~ value) }}
    {%- endif -%}
    {{ return(value | int) }}
{% endmacro %}
