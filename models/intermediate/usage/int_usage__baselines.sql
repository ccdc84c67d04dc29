{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
        on_schema_change='append_new_columns',
    )
}}

{#- The same-weekday baseline of every segment x metric x day over the points
    int_usage__baseline_days chose (the last `baseline_weeks` same weekdays
    before the day that are neither event days nor incident days, within
    `baseline_lookback_weeks`; the series is zero-filled, so every slot inside
    the loaded range has a value). Classic statistics (mean, sample standard
    deviation) and robust ones (median, MAD, outliers by modified z-score)
    side by side.

    Robust scale (macro robust_baseline_ctes): 1.4826 x MAD (so that it
    estimates sigma for normal data); when MAD = 0, 1.253314 x mean absolute
    deviation from the median; when both are 0 (all points equal) there is no
    robust scale and no outlier.
    The same-weekday linear trend (the series grows or shrinks: a flat mean of
    ten weeks lags a trend by five and a half weeks of it): least squares of
    the baseline values on x = weeks before the day (negative), predicted at
    x = 0; trend_stddev is the standard error of that prediction for one new
    point, s_r x sqrt(1 + 1/n + mean(x)^2 / Sxx), s_r the residual standard
    deviation on n - 2 d.f. Null with fewer than 3 points or one x. -#}

with

baseline_points as (

    select * from {{ ref('int_usage__baseline_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

{{ robust_baseline_ctes('baseline_points', 'baseline_value', ['dt', 'segment', 'metric']) }},

points_in_weeks as (

    select
        *,
        -- noqa: disable=LT05
        -1.0 * {{ dbt.datediff('baseline_dt', 'dt', 'day') }} / 7 as weeks_before
        -- noqa: enable=LT05

    from baseline_points

),

classic as (

    select
        dt,
        segment,
        metric,
        avg(baseline_value) as baseline_mean,
        stddev_samp(baseline_value) as baseline_stddev,
        count(*) as points,
        avg(weeks_before) as weeks_mean,
        var_samp(weeks_before) as weeks_variance,
        var_samp(baseline_value) as value_variance,
        covar_samp(weeks_before, baseline_value) as weeks_value_covariance

    from points_in_weeks
    group by dt, segment, metric

),

trends as (

    select
        *,
        weeks_value_covariance / weeks_variance as trend_slope,
        greatest(
            (points - 1) * (value_variance - weeks_value_covariance * weeks_value_covariance / weeks_variance)
            / (points - 2),
            0
        ) as residual_variance

    from classic
    where points >= 3 and weeks_variance > 0

),

outliers as (

    select
        robust_deviations.dt,
        robust_deviations.segment,
        robust_deviations.metric,
        sum(
            case
                when
                    robust_deviations.abs_deviation / robust_baselines.robust_scale
                    > {{ var('baseline_outlier_robust_z') }}
                    then 1
                else 0
            end
        ) as baseline_outlier_points

    from robust_deviations
    inner join robust_baselines
        on
            robust_deviations.dt = robust_baselines.dt
            and robust_deviations.segment = robust_baselines.segment
            and robust_deviations.metric = robust_baselines.metric
    group by robust_deviations.dt, robust_deviations.segment, robust_deviations.metric

),

final as (

    select
        robust_baselines.dt,
        robust_baselines.segment,
        robust_baselines.metric,
        robust_baselines.points as baseline_points,
        classic.baseline_mean,
        classic.baseline_stddev,
        robust_baselines.median_value as baseline_median,
        robust_baselines.mad as baseline_mad,
        robust_baselines.robust_scale as baseline_robust_scale,
        outliers.baseline_outlier_points,
        trends.baseline_mean - trends.trend_slope * trends.weeks_mean as trend_prediction,
        sqrt(
            trends.residual_variance * (
                1 + 1.0 / trends.points
                + trends.weeks_mean * trends.weeks_mean / ((trends.points - 1) * trends.weeks_variance)
            )
        ) as trend_stddev

    from robust_baselines
    inner join classic
        on
            robust_baselines.dt = classic.dt
            and robust_baselines.segment = classic.segment
            and robust_baselines.metric = classic.metric
    inner join outliers
        on
            robust_baselines.dt = outliers.dt
            and robust_baselines.segment = outliers.segment
            and robust_baselines.metric = outliers.metric
    left join trends
        on
            robust_baselines.dt = trends.dt
            and robust_baselines.segment = trends.segment
            and robust_baselines.metric = trends.metric

)

select * from final
