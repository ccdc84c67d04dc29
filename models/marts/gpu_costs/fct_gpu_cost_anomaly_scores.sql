{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'metric'],
    )
}}

{#- Analysis 6, anomaly z-score: each day x vertical x metric against the
    previous `cost_baseline_days` days (the day itself excluded).
    z = (value - mean) / sample stddev; null when the baseline has fewer than
    `cost_baseline_min_points` points or sigma is 0. Severity by |z| in the
    cost bands (notice > 2, warning > 3, critical > 4.5), both directions.

    Two cost z-scores, named apart: `z_score` here is the ROLLING z (the
    playbook's analysis: previous `cost_baseline_days` days, sample sigma);
    the cost_zscore ALERT compares with the same weekday instead
    (`weekday_z_score`: the mean of the last `cost_weekday_baseline_weeks`
    same weekdays, a pooled within-weekday sigma; fct_alerts.z_score of a
    cost_zscore alert, baseline_kind same_weekday, baseline_stddev_kind
    pooled_within_weekday). A spike on a quiet weekday, or a rolling window
    holding a weekly pattern, gives the two different values. -#}

with

metric_baselines as (

    select * from {{ ref('int_gpu_costs__metric_baselines') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

final as (

    select
        dt,
        vertical,
        metric,
        unit,
        value,
        baseline_mean,
        baseline_stddev,
        baseline_points,
        z_score,
        pct_change,
        has_insufficient_baseline,
        {{ severity_from_z('z_score', 'gpu_cost') }} as severity,
        case when value < baseline_mean then 'decrease' else 'increase' end as direction,
        weekday_baseline_mean,
        weekday_baseline_stddev,
        weekday_baseline_points,
        weekday_z_score

    from metric_baselines

)

select * from final
