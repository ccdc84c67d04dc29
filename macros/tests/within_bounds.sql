{#- Fails on every row where the column lies outside [min_value, max_value] (nulls pass). -#}
{% test within_bounds(model, column_name, max_value, min_value=0) %}

select *
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}

{% endtest %}
