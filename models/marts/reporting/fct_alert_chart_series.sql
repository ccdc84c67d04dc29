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
      gpu_cost  the metric's days of the vertical back far enough to hold
                the alert's whole baseline (the last `chart_cost_days` (35)
                days, or 7 x `cost_weekday_baseline_weeks` + 1 (57) when
                longer), `is_baseline_point` on exactly the days the alert's
                mean stands on, by its `baseline_kind` (rolling: the previous
                `cost_baseline_days` days; same_weekday: the same weekday over
                `cost_weekday_baseline_weeks` weeks, outage days - no
                customer request - left out as the baseline leaves them out;
                trailing_7d: the days of its trailing window,
                int_gpu_costs__spike_window_days;
                previous_day / same_weekday_transition: the day before;
                previous_week: 7 days before), days without a value never,
                and `is_spread_point` on the days its sigma is computed from
                (sample: the baseline points; pooled_within_weekday: every
                day of the `cost_weekday_baseline_weeks` weeks but outages,
                each against its own weekday's mean - `weekday_offset`).

    So the chart draws the alert's own baseline (fct_alerts: mean, sigma and
    its kind) over the points it was computed from, and
    tests/dbt/assert_alert_chart_series_reproduces_the_baseline.sql
    recomputes the alert's points, mean and sigma from this mart.
    Data-health alerts have no series here (the report shows
    fct_data_health). -#}

{#- at least the baseline lookback, so every chosen baseline point is drawn -#}
{%- set usage_weeks = [var('chart_usage_weeks', 13) | int, (var('baseline_lookback_weeks') | int) + 1] | max -%}
{%- set cost_days = var('chart_cost_days', 35) | int -%}
{%- set cost_baseline_days = var('cost_baseline_days') | int -%}
{%- set short_days = var('cost_spike_window_days') | int -%}
{%- set weekday_weeks = var('cost_weekday_baseline_weeks', 8) | int -%}
{%- set cost_window_days = [cost_days, 7 * weekday_weeks + 1, cost_baseline_days + 1, short_days + 1] | max -%}
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

excluded_days as (

    {#- the days the cost baselines leave out (outages, known event days) -#}
    select * from {{ ref('int_gpu_costs__baseline_excluded_days') }}

),

spike_window_days as (

    select * from {{ ref('int_gpu_costs__spike_window_days') }}

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
        cast(null as {{ dbt.type_bigint() }}) as weekday_offset,
        case
            when alerts.baseline_kind = 'previous_week'
                then segment_days.dt = cast({{ dbt.dateadd('day', -7, 'alerts.alert_date') }} as date)
            else baseline_days.baseline_dt is not null
        end as is_baseline_point,
        {#- a usage sigma is the sample sigma of the baseline points themselves -#}
        alerts.baseline_kind = 'same_weekday' and baseline_days.baseline_dt is not null as is_spread_point,
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
        excluded_days.dt is not null as is_excluded_day,
        spike_window_days.window_dt is not null as is_trailing_window_day,
        {{ dbt.datediff('cost_baselines.dt', 'alerts.alert_date', 'day') }} as days_back  -- noqa: LT05

    from alerts
    inner join cost_baselines
        on
            alerts.scope = cost_baselines.vertical
            and alerts.metric = cost_baselines.metric
            and alerts.alert_date >= cost_baselines.dt
            and cast({{ dbt.dateadd('day', -cost_window_days, 'alerts.alert_date') }} as date) < cost_baselines.dt
    left join excluded_days
        on
            cost_baselines.vertical = excluded_days.vertical
            and cost_baselines.dt = excluded_days.dt
    left join spike_window_days
        on
            alerts.alert_date = spike_window_days.dt
            and alerts.scope = spike_window_days.vertical
            and cost_baselines.dt = spike_window_days.window_dt
    where alerts.domain = 'gpu_cost'

),

cost_flags as (

    select
        *,
        days_back > 0 and value is not null and case
            when baseline_kind = 'rolling' then days_back <= {{ cost_baseline_days }}
            when baseline_kind = 'same_weekday'
                then days_back <= {{ 7 * weekday_weeks }} and mod(days_back, 7) = 0 and not is_excluded_day
            when baseline_kind in ('previous_day', 'same_weekday_transition') then days_back = 1
            when baseline_kind = 'previous_week' then days_back = 7
            else is_trailing_window_day
        end as is_baseline_point,
        days_back > 0 and value is not null and case
            when baseline_kind = 'rolling' then days_back <= {{ cost_baseline_days }}
            when baseline_kind = 'same_weekday' then days_back <= {{ 7 * weekday_weeks }} and not is_excluded_day
            else false
        end as is_spread_point

    from cost_window

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
        cast(mod(days_back, 7) as {{ dbt.type_bigint() }}) as weekday_offset,
        is_baseline_point,
        is_spread_point,
        days_back = 0 as is_alert_day

    from cost_flags

),

final as (

    select * from usage_points
    union all
    select * from cost_points

)

select * from final
