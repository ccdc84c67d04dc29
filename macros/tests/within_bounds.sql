{#- Fails on every row where the column lies outside [min_value, max_value], NaN and +-inf
    included (`not between`: NaN is above every number on DuckDB and compares false on
    BigQuery, so both engines fail it); nulls pass. -#}
{% test within_bounds(model, column_name, max_value, min_value=0) %}

select *
from {{ model }}
where not ({{ column_name }} between {{ min_value }} and {{ max_value }})

{% endtest %}
