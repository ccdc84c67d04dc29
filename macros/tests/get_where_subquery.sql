{#-
  Overrides dbt's get_where_subquery (what a data test selects from) to add an
  optional daily test window. When the var `test_window_days` is set and the run
  is not a --full-refresh, every data test on a relation with a `dt` column only
  checks rows with dt >= run date - test_window_days: the scheduler's daily run
  then tests what it rebuilt instead of re-scanning the whole raw history every
  morning (on BigQuery: bytes billed). Full refreshes and CI (var unset) test
  every row. A test's own `where` config is kept and combined.
-#}
{% macro get_where_subquery(relation, with_test_where=true) -%}
    {%- set clauses = [] -%}
    {%- set where = config.get('where') if with_test_where else none -%}
    {%- if where -%}
        {%- do clauses.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set window = var('test_window_days', none) -%}
    {%- if execute and window is not none and not flags.FULL_REFRESH -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if 'dt' in columns -%}
            {%- do clauses.append('dt >= cast(' ~ dbt.dateadd('day', -(window | int), run_date()) ~ ' as date)') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ (clauses | join(' and ')) ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
