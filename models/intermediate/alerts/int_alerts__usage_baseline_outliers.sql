{#- For every usage alert candidate (severity above none) whose baseline holds an
    outlier: the baseline day with the largest robust score. Within one baseline
    every point has the same robust scale, so that is the point farthest from
    the baseline median (ties: the latest day). -#}

with

alerts as (

    select * from {{ ref('fct_usage_anomaly_scores') }}
    where severity != 'none' and has_baseline_outlier

),

segment_days as (

    select * from {{ ref('int_usage__segment_days') }}

),

ranked as (

    select
        alerts.dt,
        alerts.segment,
        alerts.metric,
        segment_days.dt as baseline_dt,
        row_number() over (
            partition by alerts.dt, alerts.segment, alerts.metric
            order by abs(segment_days.value - alerts.baseline_median) desc, segment_days.dt desc
        ) as deviation_rank

    from alerts
    inner join segment_days
        on
            alerts.segment = segment_days.segment
            and alerts.metric = segment_days.metric
            and {{ same_weekday_baseline('segment_days.dt', 'alerts.dt') }}

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
