{#-
  Empty raw inputs (docs/data-inputs.md).

  no_rows_in(relation, date_column): one row when the relation has no rows at all. Used
  by the singular tests tests/dbt/<staging model>_has_rows.sql, which look at the whole
  staging view whatever the daily test window. It stops at the first row (LIMIT 1): on
  DuckDB a daily run opens a few day files instead of counting the whole history (the GPU
  request rows grow by ~150,000 a day in production). `date_column`: the partition column
  of a dt-partitioned raw table; an always-true filter on it lets the check run on BigQuery
  tables created with require_partition_filter (it reads only that column; LIMIT does not
  reduce BigQuery's bytes billed).

  has_rows_in_test_window: one row when a daily run's test window (var
  test_window_days, see get_where_subquery) holds no row of the model; passes when no
  window applies (full refresh, CI), where the whole-table test speaks.
-#}
{% macro no_rows_in(relation, date_column=none) -%}
select count(*) as rows_found
from (
    select 1 as found
    from {{ relation }}
    {% if date_column -%}
        where {{ date_column }} >= cast('1900-01-01' as date)
    {% endif -%}
    limit 1
) as first_row
having count(*) = 0
{%- endmacro %}

{% test has_rows_in_test_window(model) %}

{%- set window_applies = var('test_window_days', none) is not none and not flags.FULL_REFRESH %}
select count(*) as rows_found
from {{ model }}
having count(*) = 0 and {{ 'true' if window_applies else 'false' }}

{% endtest %}
