{{
    config(
        materialized='table',
        partition_by=day_partition('alert_date'),
        cluster_by=['domain', 'alert_id'],
    )
}}

{#- The points each alert's chart draws (alerting/charts.py), one row per
    alert x day, so the chart never needs SQL of its own:

      usage     the same weekday as the alert day over the last
                `chart_usage_weeks` weeks (13, at least
                baseline_lookback_weeks + 1; zero-filled like the scores),
                `is_baseline_point` on the baseline days that form the
                alert's mean and sigma (int_usage__baseline_days; baseline_kind
                previous_week: the same weekday last week);
      gpu_cost  the metric's last `chart_cost_days` (35) days of the
                vertical, each with its own rolling baseline (mean, sample
                stddev of the previous `cost_baseline_days` days) for the
                band, `is_baseline_point` on the days the alert's rule
                compared with, by the alert's `baseline_kind` when
                fct_alerts has that column (rolling: the previous
                `cost_baseline_days` days; same_weekday: the same weekday
                over `cost_weekday_baseline_weeks` weeks; trailing_7d: the
                previous `cost_spike_window_days` days; previous_day /
                same_weekday_transition: the day before; previous_week: 7
                days before), else by rule (cost_zscore rolling,
                day_over_day_jump previous day, the others trailing 7 days).

    Data-health alerts have no series here (the report shows
    fct_data_health). The alert's own mean / sigma stay in fct_alerts: the
    chart draws the alert's bands from there. -#}

{#- at least the baseline lookback, so every chosen baseline point is drawn -#}
{%- set usage_weeks = [var('chart_usage_weeks', 13) | int, (var('baseline_lookback_weeks') | int) + 1] | max -%}
{%- set cost_days = var('chart_cost_days', 35) | int -%}
{%- set cost_baseline_days = var('cost_baseline_days') | int -%}
{%- set short_days = var('cost_spike_window_days') | int -%}
{%- set weekday_weeks = var('cost_weekday_baseline_weeks', 8) | int -%}
{#- baseline_kind is read when the build's fct_alerts has it (checked at run time) -#}
{%- set alert_columns = [] -%}
{%- if execute -%}
    {%- set alert_columns = adapter.get_columns_in_relation(ref('fct_alerts'))
        | map(attribute='name') | map('lower') | list -%}
{%- endif -%}

with

alerts as (

    select
        alert_id,
        alert_date,
        domain,
        scope,
        metric,
        {% if 'baseline_kind' in alert_columns -%}
            baseline_kind
        {%- else -%}
            case rule
                when 'cost_zscore' then 'rolling'
                when 'day_over_day_jump' then 'previous_day'
                when 'usage_zscore' then 'same_weekday'
                else 'trailing_7d'
            end as baseline_kind
        {%- endif %}

    from {{ ref('fct_alerts') }}
    where domain in ('usage', 'gpu_cost')

),

segment_days as (

    select * from {{ ref('int_usage__segment_days') }}

),

baseline_days as (

    select * from {{ ref('int_usage__baseline_days') }}

),

cost_baselines as (

    select * from {{ ref('int_gpu_costs__metric_baselines') }}

),

usage_points as (

    select
        alerts.alert_id,
        alerts.alert_date,
        alerts.domain,
        alerts.scope,
        alerts.metric,
        segment_days.dt,
        cast(segment_days.value as {{ type_double() }}) as value,
        cast(null as {{ type_double() }}) as point_baseline_mean,
        cast(null as {{ type_double() }}) as point_baseline_stddev,
        case
            when alerts.baseline_kind = 'previous_week'
                then segment_days.dt = cast({{ dbt.dateadd('day', -7, 'alerts.alert_date') }} as date)
            else baseline_days.baseline_dt is not null
        end as is_baseline_point,
        segment_days.dt = alerts.alert_date as is_alert_day

    from alerts
    inner join segment_days
        on
            alerts.scope = segment_days.segment
            and alerts.metric = segment_days.metric
            and alerts.alert_date >= segment_days.dt
            and cast({{ dbt.dateadd('day', -7 * usage_weeks, 'alerts.alert_date') }} as date) < segment_days.dt
            and mod({{ dbt.datediff('segment_days.dt', 'alerts.alert_date', 'day') }}, 7) = 0
    left join baseline_days
        on
            alerts.alert_date = baseline_days.dt
            and alerts.scope = baseline_days.segment
            and alerts.metric = baseline_days.metric
            and segment_days.dt = baseline_days.baseline_dt
    where alerts.domain = 'usage'

),

cost_window as (

    select
        alerts.alert_id,
        alerts.alert_date,
        alerts.domain,
        alerts.scope,
        alerts.metric,
        alerts.baseline_kind,
        cost_baselines.dt,
        cost_baselines.value,
        cost_baselines.baseline_mean as point_baseline_mean,
        cost_baselines.baseline_stddev as point_baseline_stddev,
        {{ dbt.datediff('cost_baselines.dt', 'alerts.alert_date', 'day') }} as days_back  -- noqa: LT05

    from alerts
    inner join cost_baselines
        on
            alerts.scope = cost_baselines.vertical
            and alerts.metric = cost_baselines.metric
            and alerts.alert_date >= cost_baselines.dt
            and cast({{ dbt.dateadd('day', -cost_days, 'alerts.alert_date') }} as date) < cost_baselines.dt
    where alerts.domain = 'gpu_cost'

),

cost_points as (

    select
        alert_id,
        alert_date,
        domain,
        scope,
        metric,
        dt,
        value,
        point_baseline_mean,
        point_baseline_stddev,
        days_back > 0 and case
            when baseline_kind = 'rolling' then days_back <= {{ cost_baseline_days }}
            when baseline_kind = 'same_weekday' then days_back <= {{ 7 * weekday_weeks }} and mod(days_back, 7) = 0
            when baseline_kind in ('previous_day', 'same_weekday_transition') then days_back = 1
            when baseline_kind = 'previous_week' then days_back = 7
            else days_back <= {{ short_days }}
        end as is_baseline_point,
        days_back = 0 as is_alert_day

    from cost_window

),

final as (

    select * from usage_points
    union all
    select * from cost_points

)

select * from final
