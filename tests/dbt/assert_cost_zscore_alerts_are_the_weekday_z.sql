-- The two cost z-scores are named apart: every cost_zscore alert's z, mean, sigma and
-- points are fct_gpu_cost_anomaly_scores' weekday_* columns of its day, vertical and
-- metric (never the rolling z_score of that mart). Relative tolerance 1e-9.
{{ config(severity='error') }}

with

alerts as (

    select * from {{ ref('fct_alerts') }}
    where rule = 'cost_zscore'

),

scores as (

    select * from {{ ref('fct_gpu_cost_anomaly_scores') }}

),

checked as (

    select
        alerts.alert_id,
        alerts.z_score,
        scores.weekday_z_score,
        alerts.baseline_mean,
        scores.weekday_baseline_mean,
        alerts.baseline_stddev,
        scores.weekday_baseline_stddev,
        alerts.baseline_points,
        scores.weekday_baseline_points

    from alerts
    left join scores
        on
            alerts.alert_date = scores.dt
            and alerts.scope = scores.vertical
            and alerts.metric = scores.metric

)

select * from checked
where
    weekday_z_score is null
    or abs(z_score - weekday_z_score) > 1e-9 * greatest(abs(z_score), 1)
    or abs(baseline_mean - weekday_baseline_mean) > 1e-9 * greatest(abs(baseline_mean), 1)
    or abs(baseline_stddev - weekday_baseline_stddev) > 1e-9 * greatest(abs(baseline_stddev), 1)
    or baseline_points != weekday_baseline_points
