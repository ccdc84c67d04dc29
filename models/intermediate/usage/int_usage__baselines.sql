{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
    )
}}

{#- The same-weekday baseline of every segment x metric x day: the values of
    the last `baseline_weeks` same weekdays strictly before the day (7, 14, ...
    70 days back; the series is zero-filled, so every slot inside the loaded
    range has a value). Classic statistics (mean, sample standard deviation)
    and robust ones (median, MAD, outliers by modified z-score) side by side.

    Robust scale: 1.4826 x MAD (so that it estimates sigma for normal data);
    when MAD = 0, 1.253314 x mean absolute deviation from the median; when
    both are 0 (all points equal) there is no robust scale and no outlier. -#}
{%- set lookback = 7 * (var('baseline_weeks') | int) -%}

with

targets as (

    select * from {{ ref('int_usage__segment_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

history as (

    select * from {{ ref('int_usage__segment_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date(lookback) }}
    {% endif %}

),

baseline_points as (

    select
        targets.dt,
        targets.segment,
        targets.metric,
        history.dt as baseline_dt,
        history.value as baseline_value

    from targets
    inner join history
        on
            targets.segment = history.segment
            and targets.metric = history.metric
            and {{ same_weekday_baseline('history.dt', 'targets.dt') }}

),

medians as (

    {{ exact_median('baseline_points', 'baseline_value', ['dt', 'segment', 'metric'], 'baseline_median') }}

),

deviations as (

    select
        baseline_points.*,
        abs(baseline_points.baseline_value - medians.baseline_median) as abs_deviation,
        medians.baseline_median

    from baseline_points
    inner join medians
        on
            baseline_points.dt = medians.dt
            and baseline_points.segment = medians.segment
            and baseline_points.metric = medians.metric

),

mads as (

    {{ exact_median('deviations', 'abs_deviation', ['dt', 'segment', 'metric'], 'baseline_mad') }}

),

classic as (

    select
        dt,
        segment,
        metric,
        count(*) as baseline_points,
        avg(baseline_value) as baseline_mean,
        stddev_samp(baseline_value) as baseline_stddev,
        avg(abs_deviation) as baseline_mean_abs_deviation,
        max(baseline_median) as baseline_median

    from deviations
    group by dt, segment, metric

),

scaled as (

    select
        classic.*,
        mads.baseline_mad,
        case
            when mads.baseline_mad > 0 then 1.4826 * mads.baseline_mad
            when classic.baseline_mean_abs_deviation > 0 then 1.253314 * classic.baseline_mean_abs_deviation
        end as robust_scale

    from classic
    inner join mads
        on
            classic.dt = mads.dt
            and classic.segment = mads.segment
            and classic.metric = mads.metric

),

outliers as (

    select
        deviations.dt,
        deviations.segment,
        deviations.metric,
        sum(
            case
                when deviations.abs_deviation / scaled.robust_scale > {{ var('baseline_outlier_robust_z') }} then 1
                else 0
            end
        ) as baseline_outlier_points

    from deviations
    inner join scaled
        on
            deviations.dt = scaled.dt
            and deviations.segment = scaled.segment
            and deviations.metric = scaled.metric
    group by deviations.dt, deviations.segment, deviations.metric

),

final as (

    select
        scaled.dt,
        scaled.segment,
        scaled.metric,
        scaled.baseline_points,
        scaled.baseline_mean,
        scaled.baseline_stddev,
        scaled.baseline_median,
        scaled.baseline_mad,
        scaled.robust_scale as baseline_robust_scale,
        outliers.baseline_outlier_points

    from scaled
    inner join outliers
        on
            scaled.dt = outliers.dt
            and scaled.segment = outliers.segment
            and scaled.metric = outliers.metric

)

select * from final
