{#-
  The days a raw row may carry: from the var `first_data_day` (nothing can be older)
  to the run date + 1 (the run date's own partial day, plus one day of clock skew
  between the loader and the scheduler). A raw row dated outside is quarantined: the
  staging models leave it out (it stays in raw, untouched) and the warn test
  `assert_raw_dates_within_expected_range` names its source and date. So a stray
  2099 row never becomes the newest built day (the incremental window is
  max(dt) - reprocess_days) and a 1970 row never stretches fct_data_health back
  over 56 years of "missing" days. docs/data-inputs.md "Quarantined dates".
-#}
{% macro first_data_day() %}
    {%- set value = var('first_data_day') | string -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value) -%}
        {{ exceptions.raise_compiler_error("var first_data_day must be a date YYYY-MM-DD, got '" ~ value ~ "'") }}
    {%- endif -%}
    {{ return("cast('" ~ value ~ "' as date)") }}
{% endmacro %}

{% macro last_expected_day() %}{{ return('cast(' ~ dbt.dateadd('day', 1, run_date()) ~ ' as date)') }}{% endmacro %}

{#- SQL condition: the date expression `dt` lies in the expected range (a null `dt` is not
    quarantined: it reaches staging, whose not_null test on dt names it). -#}
{% macro dt_is_expected(dt) %}{{ return('(' ~ dt ~ ' is null or ' ~ dt ~ ' between ' ~ first_data_day() ~ ' and ' ~ last_expected_day() ~ ')') }}{% endmacro %}

{#- The filter of the one select that reads a raw table in its staging model: the expected
    dates, and on an incremental run only the reprocess window (incremental_start_date), in
    that select so that the scan is pruned. -#}
{% macro rows_to_land(dt) %}
    {%- set window = ' and ' ~ dt ~ ' >= ' ~ incremental_start_date() if is_incremental() else '' -%}
    {{ return(dt_is_expected(dt) ~ window) }}
{% endmacro %}
