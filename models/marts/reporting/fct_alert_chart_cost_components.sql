{{
    config(
        materialized='table',
        partition_by=day_partition('alert_date'),
        cluster_by=['alert_id'],
    )
}}

{#- The small stacked bar beside a cost alert's chart: the vertical's
    infrastructure change on the alert day split by cost category
    (inference, idle, overhead, unused), each category's cost against its
    mean over the previous `cost_spike_window_days` days (the basis of the
    cost decomposition; a category absent on a baseline day counts as 0).
    The components add up to the infra change vs the same baseline.

    This is the fallback the report and the Slack chart use when
    fct_gpu_cost_decomposition (volume / rate / idle / overhead / unused) is
    not built; with it, alerting/charts.py draws the decomposition instead. -#}

{%- set short_days = var('cost_spike_window_days') | int -%}

with

alerts as (

    select distinct
        alert_id,
        alert_date,
        scope as vertical

    from {{ ref('fct_alerts') }}
    where domain = 'gpu_cost'

),

utilisation as (

    select * from {{ ref('fct_gpu_cost_utilisation') }}

),

categories as (

    select distinct cost_category from utilisation

),

baseline_days as (

    select distinct
        dt,
        vertical

    from utilisation

),

alert_categories as (

    select
        alerts.alert_id,
        alerts.alert_date,
        alerts.vertical,
        categories.cost_category

    from alerts
    cross join categories

),

day_costs as (

    select
        alert_categories.alert_id,
        alert_categories.cost_category,
        coalesce(sum(utilisation.cost), 0) as cost

    from alert_categories
    left join utilisation
        on
            alert_categories.vertical = utilisation.vertical
            and alert_categories.cost_category = utilisation.cost_category
            and alert_categories.alert_date = utilisation.dt
    group by alert_categories.alert_id, alert_categories.cost_category

),

window_days as (

    select
        alerts.alert_id,
        count(*) as baseline_day_count

    from alerts
    inner join baseline_days
        on
            alerts.vertical = baseline_days.vertical
            and alerts.alert_date > baseline_days.dt
            and cast({{ dbt.dateadd('day', -short_days, 'alerts.alert_date') }} as date) <= baseline_days.dt
    group by alerts.alert_id

),

window_costs as (

    select
        alert_categories.alert_id,
        alert_categories.cost_category,
        coalesce(sum(utilisation.cost), 0) as window_cost

    from alert_categories
    left join utilisation
        on
            alert_categories.vertical = utilisation.vertical
            and alert_categories.cost_category = utilisation.cost_category
            and alert_categories.alert_date > utilisation.dt
            and cast({{ dbt.dateadd('day', -short_days, 'alert_categories.alert_date') }} as date) <= utilisation.dt
    group by alert_categories.alert_id, alert_categories.cost_category

),

final as (

    select
        alert_categories.alert_id,
        alert_categories.alert_date,
        alert_categories.vertical,
        alert_categories.cost_category as component,
        day_costs.cost,
        window_costs.window_cost / window_days.baseline_day_count as baseline_cost,
        day_costs.cost - window_costs.window_cost / window_days.baseline_day_count as delta_usd,
        window_days.baseline_day_count

    from alert_categories
    inner join day_costs
        on
            alert_categories.alert_id = day_costs.alert_id
            and alert_categories.cost_category = day_costs.cost_category
    inner join window_costs
        on
            alert_categories.alert_id = window_costs.alert_id
            and alert_categories.cost_category = window_costs.cost_category
    inner join window_days
        on alert_categories.alert_id = window_days.alert_id

)

select * from final
