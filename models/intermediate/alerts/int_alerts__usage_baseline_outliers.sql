{#- For every usage alert candidate (severity above none) whose baseline holds an
    outlier: the baseline day with the largest robust score. Within one baseline
    every point has the same robust scale, so that is the point farthest from
    the baseline median (ties: the latest day). -#}

with

alerts as (

    select * from {{ ref('fct_usage_anomaly_scores') }}
    where severity != 'none' and has_baseline_outlier

),

baseline_days as (

    select * from {{ ref('int_usage__baseline_days') }}

),

ranked as (

    select
        alerts.dt,
        alerts.segment,
        alerts.metric,
        baseline_days.baseline_dt,
        row_number() over (
            partition by alerts.dt, alerts.segment, alerts.metric
            order by abs(baseline_days.baseline_value - alerts.baseline_median) desc, baseline_days.baseline_dt desc
        ) as deviation_rank

    from alerts
    inner join baseline_days
        on
            alerts.dt = baseline_days.dt
            and alerts.segment = baseline_days.segment
            and alerts.metric = baseline_days.metric

),

final as (

    select
        dt,
        segment,
        metric,
        baseline_dt as baseline_outlier_date

    from ranked
    where deviation_rank = 1

)

select * from final
