-- The chart's baseline is the alert's: from fct_alert_chart_series alone, every
-- usage / GPU-cost alert whose baseline has points, a mean and a sigma gets
-- them back - as many baseline points as fct_alerts.baseline_points (kinds
-- rolling, same_weekday, trailing_7d), their mean = baseline_mean, and the
-- sigma of its baseline_stddev_kind = baseline_stddev: `sample` the sample
-- stddev of the spread points; `pooled_within_weekday` the within-weekday
-- variance of the spread points pooled over their weekday groups
-- (weekday_offset), x (1 + 1/n) for the n same-weekday points, square root.
-- Relative tolerance 1e-9.
{{ config(severity='error') }}

with

series as (

    select * from {{ ref('fct_alert_chart_series') }}

),

alerts as (

    select * from {{ ref('fct_alerts') }}
    where domain in ('usage', 'gpu_cost') and baseline_kind in ('rolling', 'same_weekday', 'trailing_7d')

),

baseline as (

    select
        alert_id,
        count(*) as points,
        avg(value) as mean_value,
        stddev_samp(value) as sample_stddev

    from series
    where is_baseline_point
    group by alert_id

),

weekday_groups as (

    select
        alert_id,
        weekday_offset,
        count(*) as points,
        var_samp(value) as group_variance

    from series
    where is_spread_point
    group by alert_id, weekday_offset

),

pooled as (

    select
        alert_id,
        sum(case when points > 1 then (points - 1) * group_variance else 0 end)
        / nullif(sum(case when points > 1 then points - 1 else 0 end), 0) as pooled_variance

    from weekday_groups
    group by alert_id

),

checked as (

    select
        alerts.alert_id,
        alerts.baseline_stddev_kind,
        alerts.baseline_points,
        baseline.points as series_points,
        alerts.baseline_mean,
        baseline.mean_value as series_mean,
        alerts.baseline_stddev,
        case alerts.baseline_stddev_kind
            when 'sample' then baseline.sample_stddev
            when 'pooled_within_weekday' then sqrt(pooled.pooled_variance * (1 + 1.0 / baseline.points))
        end as series_stddev

    from alerts
    left join baseline
        on alerts.alert_id = baseline.alert_id
    left join pooled
        on alerts.alert_id = pooled.alert_id

)

select * from checked
where
    coalesce(series_points, 0) != baseline_points
    or abs(series_mean - baseline_mean) > 1e-9 * greatest(abs(baseline_mean), 1)
    or (series_mean is null) != (baseline_mean is null)
    or (
        baseline_stddev is not null
        and (series_stddev is null or abs(series_stddev - baseline_stddev) > 1e-9 * greatest(abs(baseline_stddev), 1))
    )
