{#- The same-weekday window, defined once: `history_dt` is one of the last
    `weeks` (default: the usage var `baseline_weeks`) same weekdays before
    `day_dt` (7, 14, ... 70 days back).
    Used by the usage baseline choice (int_usage__baseline_days: its lookback
    and its incident pre-screen), the week-over-week check and the
    weekday-aware cost baselines. -#}
{% macro same_weekday_baseline(history_dt, day_dt, weeks=none) -%}
{%- set weeks = var('baseline_weeks') if weeks is none else weeks -%}
{{ day_dt }} > {{ history_dt }}
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

{#- Robust centre and scale of `value_column` per `group_columns` over the
    points in `relation` (a CTE), as four CTEs (no trailing comma):
      robust_medians     the exact median per group (`median_value`);
      robust_deviations  every point with its group's median_value and
                         abs_deviation = |value - median|;
      robust_mads        the exact median of abs_deviation (`mad`);
      robust_baselines   per group: points, median_value, mad,
                         mean_abs_deviation and robust_scale = 1.4826 x MAD
                         (estimates sigma for normal data), 1.253314 x the
                         mean absolute deviation when the MAD is 0, null when
                         both are 0.
    Used by the same-weekday usage baselines and the week-over-week check. -#}
{% macro robust_baseline_ctes(relation, value_column, group_columns) -%}
{%- set on_group = [] -%}
{%- for c in group_columns -%}{%- do on_group.append('robust_deviations.' ~ c ~ ' = robust_mads.' ~ c) -%}{%- endfor -%}
robust_medians as (

    {{ exact_median(relation, value_column, group_columns, 'median_value') }}

),

robust_deviations as (

    select
        {{ relation }}.*,
        robust_medians.median_value,
        abs({{ relation }}.{{ value_column }} - robust_medians.median_value) as abs_deviation

    from {{ relation }}
    inner join robust_medians
        on
            {% for c in group_columns -%}
            {{ 'and ' if not loop.first }}{{ relation }}.{{ c }} = robust_medians.{{ c }}
            {% endfor %}

),

robust_mads as (

    {{ exact_median('robust_deviations', 'abs_deviation', group_columns, 'mad') }}

),

robust_baselines as (

    select
        {% for c in group_columns -%}
        robust_deviations.{{ c }},
        {% endfor -%}
        count(*) as points,
        max(robust_deviations.median_value) as median_value,
        max(robust_mads.mad) as mad,
        avg(robust_deviations.abs_deviation) as mean_abs_deviation,
        case
            when max(robust_mads.mad) > 0 then 1.4826 * max(robust_mads.mad)
            when avg(robust_deviations.abs_deviation) > 0 then 1.253314 * avg(robust_deviations.abs_deviation)
        end as robust_scale

    from robust_deviations
    inner join robust_mads
        on
            {{ on_group | join('\n            and ') }}
    group by {% for c in group_columns %}robust_deviations.{{ c }}{{ ', ' if not loop.last }}{% endfor %}

)
{%- endmacro %}

{#- Per usage alert (`alerts`: dt, segment, metric, baseline_points, delta)
    and entity of the segment (`entity_columns` of `days`: dt, segment,
    metric, value, ...) active on the day or on one of its baseline days (the
    rows of `baseline_days`, int_usage__baseline_days: dt, segment, metric,
    baseline_dt): the entity's value on the day and its own baseline mean
    over the segment's baseline points (missing days = 0), so the entities'
    deltas add up to the segment's delta; segment_delta carried along and
    `on_day_columns` of `days` taken from the day itself. A select (group by
    dt, segment, metric, entity). Used by the usage drivers (contributors) and
    the per-user deltas. -#}
{% macro alert_segment_window(alerts, days, baseline_days, entity_columns, on_day_columns=[]) -%}
select
    {{ alerts }}.dt,
    {{ alerts }}.segment,
    {{ alerts }}.metric,
    {% for c in entity_columns -%}
    {{ days }}.{{ c }},
    {% endfor -%}
    max({{ alerts }}.delta) as segment_delta,
    {% for c in on_day_columns -%}
    max(case when {{ days }}.dt = {{ alerts }}.dt then {{ days }}.{{ c }} end) as {{ c }},
    {% endfor -%}
    sum(case when {{ days }}.dt = {{ alerts }}.dt then {{ days }}.value else 0 end) as value,
    sum(case when {{ days }}.dt < {{ alerts }}.dt then {{ days }}.value else 0 end)
    / max({{ alerts }}.baseline_points) as baseline_mean
from {{ alerts }}
inner join (
    select
        dt,
        segment,
        metric,
        dt as window_dt
    from {{ alerts }}
    union all
    select
        dt,
        segment,
        metric,
        baseline_dt as window_dt
    from {{ baseline_days }}
) as alert_window
    on
        {{ alerts }}.dt = alert_window.dt
        and {{ alerts }}.segment = alert_window.segment
        and {{ alerts }}.metric = alert_window.metric
inner join {{ days }}
    on
        alert_window.segment = {{ days }}.segment
        and alert_window.metric = {{ days }}.metric
        and alert_window.window_dt = {{ days }}.dt
group by
    {{ alerts }}.dt,
    {{ alerts }}.segment,
    {{ alerts }}.metric
    {%- for c in entity_columns %},
    {{ days }}.{{ c }}
    {%- endfor %}
{%- endmacro %}
