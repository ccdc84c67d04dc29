{#- The same-weekday baseline window, defined once: `history_dt` is one of the
    last `weeks` (default: the usage var `baseline_weeks`) same weekdays before
    `day_dt` (7, 14, ... 70 days back), or `day_dt` itself when include_day.
    Used by the usage baselines and drivers and the weekday-aware cost baselines. -#}
{% macro same_weekday_baseline(history_dt, day_dt, include_day=false, weeks=none) -%}
{%- set weeks = var('baseline_weeks') if weeks is none else weeks -%}
{{ day_dt }} {{ '>=' if include_day else '>' }} {{ history_dt }}
and {{ history_dt }} >= cast({{ dbt.dateadd('day', -7 * (weeks | int), day_dt) }} as date)
and mod({{ dbt.datediff(history_dt, day_dt, 'day') }}, 7) = 0
{%- endmacro %}

{#- Exact median of `value_column` per `group_columns` over `relation` (a CTE),
    as a select with the group columns and `alias`: the mean of the middle one
    or two values, portable (BigQuery has no exact median aggregate). -#}
{% macro exact_median(relation, value_column, group_columns, alias) -%}
select
    {{ group_columns | join(', ') }},
    avg({{ value_column }}) as {{ alias }}
from (
    select
        {{ group_columns | join(', ') }},
        {{ value_column }},
        row_number() over (partition by {{ group_columns | join(', ') }} order by {{ value_column }}) as value_rank,
        count(*) over (partition by {{ group_columns | join(', ') }}) as n_values
    from {{ relation }}
) as ranked
where value_rank in (floor((n_values + 1) / 2.0), ceil((n_values + 1) / 2.0))
group by {{ group_columns | join(', ') }}
{%- endmacro %}
