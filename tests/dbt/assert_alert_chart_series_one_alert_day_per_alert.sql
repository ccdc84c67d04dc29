{#- Every usage / GPU-cost alert's chart has exactly one alert-day point, no
    point after the alert day, and (usage) as many baseline points as the
    alert's baseline counted (previous_week: the one same weekday last week). -#}

with

series as (

    select * from {{ ref('fct_alert_chart_series') }}

),

alerts as (

    select * from {{ ref('fct_alerts') }}
    where domain in ('usage', 'gpu_cost')

),

per_alert as (

    select
        alert_id,
        sum(case when is_alert_day then 1 else 0 end) as alert_day_points,
        sum(case when is_baseline_point then 1 else 0 end) as baseline_points,
        sum(case when dt > alert_date then 1 else 0 end) as future_points

    from series
    group by alert_id

),

usage_points as (

    select * from {{ ref('fct_usage_anomaly_scores') }}

),

checked as (

    select
        alerts.alert_id,
        alerts.domain,
        per_alert.alert_day_points,
        per_alert.baseline_points,
        per_alert.future_points,
        case
            when alerts.baseline_kind = 'previous_week' then 1
            else usage_points.baseline_points
        end as expected_baseline_points

    from alerts
    left join per_alert
        on alerts.alert_id = per_alert.alert_id
    left join usage_points
        on
            alerts.domain = 'usage'
            and alerts.alert_date = usage_points.dt
            and alerts.scope = usage_points.segment
            and alerts.metric = usage_points.metric

)

select * from checked
where
    coalesce(alert_day_points, 0) != 1
    or future_points > 0
    or (domain = 'usage' and baseline_points != expected_baseline_points)
