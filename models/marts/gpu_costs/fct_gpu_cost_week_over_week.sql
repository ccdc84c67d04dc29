{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical'],
    )
}}

{#- Analysis 5, week-over-week, per day x vertical: the 7 days ending on the
    day (dt-6 .. dt) against the 7 days before them (dt-13 .. dt-7), and the
    day against the same weekday a week earlier. Percent changes are
    fractions, null when the earlier value is 0 or missing. -#}

{%- set metrics = ['infra_cost', 'customer_fully_loaded_cost', 'requests'] -%}
{%- set week_ago = 'cast(' ~ dbt.dateadd('day', -7, 'current_day.dt') ~ ' as date)' -%}

with

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date(13) }}
    {% endif %}

),

windows as (

    select
        current_day.dt,
        current_day.vertical,
        count(distinct case when history.dt > {{ week_ago }} then history.dt end) as days_in_week,
        count(distinct case when history.dt <= {{ week_ago }} then history.dt end) as days_in_previous_week,
        {% for metric in metrics %}
            max(case when history.dt = current_day.dt then history.{{ metric }} end) as {{ metric }},
            max(case when history.dt = {{ week_ago }} then history.{{ metric }} end) as same_day_last_week_{{ metric }},
            sum(case when history.dt > {{ week_ago }} then history.{{ metric }} end) as week_{{ metric }},
            sum(case when history.dt <= {{ week_ago }} then history.{{ metric }} end) as previous_week_{{ metric }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}

    from daily_totals as current_day
    inner join daily_totals as history
        on
            current_day.vertical = history.vertical
            and current_day.dt >= history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -13, 'current_day.dt') }} as date)
    {% if is_incremental() %}
        where current_day.dt >= {{ incremental_start_date() }}
    {% endif %}
    group by current_day.dt, current_day.vertical

),

final as (

    select
        dt,
        vertical,
        days_in_week,
        days_in_previous_week,
        {% for metric in metrics %}
            {{ metric }},
            same_day_last_week_{{ metric }},
            {{ safe_divide(metric ~ ' - same_day_last_week_' ~ metric, 'same_day_last_week_' ~ metric) }}
                as {{ metric }}_wow_pct_change,
            week_{{ metric }},
            previous_week_{{ metric }},
            {{ safe_divide('week_' ~ metric ~ ' - previous_week_' ~ metric, 'previous_week_' ~ metric) }}
                as week_{{ metric }}_pct_change
            {%- if not loop.last %},{% endif %}
        {% endfor %}

    from windows

)

select * from final
