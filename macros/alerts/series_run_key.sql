{#- A run of a series is its consecutive alert days: the key is the same for every
    day of one run (the day's number minus its rank among the series' alert days)
    and differs between runs. `series` are the partition columns, `day` a date
    column. Used where a run matters: how long a snooze "until resolved" holds
    (int_alerts__policy) and whether a change began before a known event
    (fct_alerts). -#}
{% macro series_run_key(series, day) -%}
{{ dbt.datediff("cast('2000-01-01' as date)", day, 'day') }}
    - dense_rank() over (partition by {{ series }} order by {{ day }})
{%- endmacro %}
