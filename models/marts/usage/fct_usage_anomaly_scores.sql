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

{#- The usage-monitor playbook, one row per day x segment x metric that has a
    baseline: z = (value - mean) / sample stddev of the last 10 same weekdays,
    severity by |z|, direction, enterprise weekend suppression, validity flags
    and the robust (median / MAD) score beside the classic one.

    sigma = 0 (or null, i.e. one baseline point): z and the robust score are
    null, severity is `none` and `is_zero_variance` / `is_low_variance` say
    why; no division by zero. mean = 0: pct_change is null.

    wow_* (last columns): the complementary week-over-week check from
    int_usage__week_over_week (change vs the same weekday last week against
    the typical week-over-week change, robust), which sees a sudden shift
    when an earlier shift inside the same-weekday baseline has inflated
    sigma. It does not change severity / is_alert: rules read wow_z_score. -#}

with

segment_days as (

    select * from {{ ref('int_usage__segment_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

baselines as (

    select * from {{ ref('int_usage__baselines') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

week_over_week as (

    select * from {{ ref('int_usage__week_over_week') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

joined as (

    select
        segment_days.dt,
        segment_days.segment,
        segment_days.metric,
        segment_days.day_of_week,
        segment_days.day_of_week in (1, 7) as is_weekend,
        segment_days.value,
        segment_days.raw_rows_on_day,
        baselines.baseline_mean,
        baselines.baseline_stddev,
        baselines.baseline_points,
        baselines.baseline_median,
        baselines.baseline_mad,
        baselines.baseline_robust_scale,
        baselines.baseline_outlier_points,
        week_over_week.wow_previous_value,
        week_over_week.wow_change,
        week_over_week.wow_pct_change,
        week_over_week.wow_baseline_median,
        week_over_week.wow_baseline_scale,
        week_over_week.wow_baseline_points,
        week_over_week.wow_z_score,
        week_over_week.has_insufficient_wow_baseline

    from segment_days
    inner join baselines
        on
            segment_days.dt = baselines.dt
            and segment_days.segment = baselines.segment
            and segment_days.metric = baselines.metric
    left join week_over_week
        on
            segment_days.dt = week_over_week.dt
            and segment_days.segment = week_over_week.segment
            and segment_days.metric = week_over_week.metric

),

scored as (

    select
        *,
        case
            when baseline_stddev > 0 then (value - baseline_mean) / baseline_stddev
        end as z_score,
        case
            when baseline_robust_scale > 0 then (value - baseline_median) / baseline_robust_scale
        end as robust_z_score,
        case
            when baseline_mean != 0 then (value - baseline_mean) / baseline_mean
        end as pct_change,
        value - baseline_mean as delta

    from joined

),

classified as (

    select
        *,
        {{ severity_from_z('z_score', 'usage') }} as severity,
        case when value < baseline_mean then 'decrease' else 'increase' end as direction,
        segment in ('enterprise_contract', 'enterprise_pilot') and is_weekend as is_enterprise_weekend,
        baseline_points < {{ var('baseline_weeks') }} as has_insufficient_baseline,
        coalesce(baseline_stddev, 0) = 0 as is_zero_variance,
        coalesce(baseline_stddev, 0) <= {{ var('low_variance_cv') }} * abs(baseline_mean) as is_low_variance,
        baseline_outlier_points > 0 as has_baseline_outlier,
        raw_rows_on_day = 0 as has_no_raw_rows

    from scored

),

final as (

    select
        dt,
        segment,
        metric,
        day_of_week,
        is_weekend,
        value,
        baseline_mean,
        baseline_stddev,
        baseline_points,
        z_score,
        pct_change,
        delta,
        severity,
        direction,
        is_enterprise_weekend as is_suppressed,
        case when is_enterprise_weekend then 'enterprise_weekend' end as suppression_reason,
        has_insufficient_baseline,
        is_zero_variance,
        is_low_variance,
        has_baseline_outlier,
        baseline_outlier_points,
        baseline_median,
        baseline_mad,
        robust_z_score,
        has_no_raw_rows,
        not(has_insufficient_baseline or is_low_variance or has_baseline_outlier) as is_baseline_valid,
        severity != 'none' and not is_enterprise_weekend as is_alert,
        wow_previous_value,
        wow_change,
        wow_pct_change,
        wow_baseline_median,
        wow_baseline_scale,
        coalesce(wow_baseline_points, 0) as wow_baseline_points,
        wow_z_score,
        coalesce(has_insufficient_wow_baseline, true) as has_insufficient_wow_baseline

    from classified

)

select * from final
