{{ config(materialized='table') }}

{#- The empirical null of the usage z rule (docs/alert-rules-and-policy.md
    "Loud or quiet", (e)): one row per scored series-day (segment x metric of
    fct_usage_anomaly_scores with a z; suppressed ones too, since their alerts
    are held with a p-value, but they are never in a reference).

    t_p_value is the series-day's p-value under the t null (macro
    usage_t_p_value; int_alerts__loudness reads it as the alert's). Real
    usage is heavier-tailed than t: a few accounts move a small segment, and
    the product has its own rhythms, so |t| > 4 happens several times more often
    than t predicts. The segment's own history says how often: null_points =
    the segment's series-days (all its metrics) in the `loud_null_lookback_days`
    days before, leaving out the days its baselines leave out
    (int_usage__baseline_excluded_days: calendar events, days marked
    "Expected" from Slack); null_rank = how many of them had a t p-value at
    least as small. null_p_value = (1 + null_rank) / (1 + null_points), the
    fraction of the segment's ordinary days as surprising as this one (a
    conservative rank p-value), once null_points reaches
    `loud_null_min_points`, and before that whenever an earlier ordinary day
    was at least as surprising (null_rank >= 1): a short history cannot
    certify a small p-value, but it can say the segment has done this
    before. A record day of a short history has no null p-value (t alone
    decides). The loud decision uses the larger of
    t_p_value and null_p_value: the null can only quiet an alert.
    trend_pct_change = the day's change against the same-weekday trend
    prediction (int_usage__baselines), as pct_change is against the mean:
    the large-effect test reads both, since a day that is only where the
    series was heading is not news (null without a trend). -#}
{%- set lookback_days = var('loud_null_lookback_days') | int -%}

with

usage_scores as (

    select * from {{ ref('fct_usage_anomaly_scores') }}
    where z_score is not null

),

usage_trends as (

    select * from {{ ref('int_usage__baselines') }}

),

event_days as (

    select * from {{ ref('int_usage__baseline_excluded_days') }}

),

series_days as (

    select
        usage_scores.dt,
        usage_scores.segment,
        usage_scores.metric,
        usage_scores.is_suppressed,
        {{ usage_t_p_value(
            'usage_scores.z_score', 'usage_scores.baseline_points', 'usage_scores.value',
            'usage_trends.trend_prediction', 'usage_trends.trend_stddev'
        ) }} as t_p_value,
        {{ safe_divide(
            'usage_scores.value - usage_trends.trend_prediction', 'abs(usage_trends.trend_prediction)'
        ) }} as trend_pct_change

    from usage_scores
    left join usage_trends
        on
            usage_scores.dt = usage_trends.dt
            and usage_scores.segment = usage_trends.segment
            and usage_scores.metric = usage_trends.metric

),

reference_days as (

    select series_days.*

    from series_days
    left join event_days
        on
            series_days.dt = event_days.dt
            and series_days.segment = event_days.segment
    where
        event_days.dt is null
        and not series_days.is_suppressed
        and series_days.t_p_value is not null

),

null_counts as (

    select
        series_days.dt,
        series_days.segment,
        series_days.metric,
        count(*) as null_points,
        sum(case when reference_days.t_p_value <= series_days.t_p_value then 1 else 0 end) as null_rank

    from series_days
    inner join reference_days
        on
            series_days.segment = reference_days.segment
            and series_days.dt > reference_days.dt
            and cast({{ dbt.dateadd('day', -lookback_days, 'series_days.dt') }} as date) <= reference_days.dt
    group by series_days.dt, series_days.segment, series_days.metric

),

final as (

    select
        series_days.dt,
        series_days.segment,
        series_days.metric,
        cast(series_days.t_p_value as {{ type_double() }}) as t_p_value,
        cast(series_days.trend_pct_change as {{ type_double() }}) as trend_pct_change,
        cast(coalesce(null_counts.null_points, 0) as {{ dbt.type_bigint() }}) as null_points,
        cast(coalesce(null_counts.null_rank, 0) as {{ dbt.type_bigint() }}) as null_rank,
        cast(
            case
                when
                    null_counts.null_points >= {{ var('loud_null_min_points') | int }}
                    or null_counts.null_rank >= 1
                    then (1 + null_counts.null_rank) / (1.0 + null_counts.null_points)
            end as {{ type_double() }}
        ) as null_p_value

    from series_days
    left join null_counts
        on
            series_days.dt = null_counts.dt
            and series_days.segment = null_counts.segment
            and series_days.metric = null_counts.metric

)

select * from final
