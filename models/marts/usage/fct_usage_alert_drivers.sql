{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
        pre_hook="{{ delete_reprocess_window() }}",
    )
}}

{#- the sparse window (macros/incremental/delete_reprocess_window.sql), computed once -#}
{%- set window_start = alert_window_start() -%}

{#- Root cause of every posted usage alert: the contributors of the segment
    (organisations for enterprise segments, McCann split by office; tiers for
    the others) with their value, their own same-weekday baseline mean (same
    method as the segment: the same baseline days (int_usage__baseline_days), missing =
    0), the delta and its share of the segment's delta, ranked by share.
    Contributor deltas add up to the segment's delta. Sparse (only alert days
    have rows), so the reprocess window is deleted first: a day that stops
    alerting after late data loses its drivers. -#}
{%- set lookback = 7 * (var('baseline_lookback_weeks') | int) -%}

with

alerts as (

    select * from {{ ref('fct_usage_anomaly_scores') }}
    where
        is_alert
    {% if is_incremental() %}
            and dt >= {{ window_start }}
        {% endif %}

),

baseline_days as (

    select * from {{ ref('int_usage__baseline_days') }}
    {% if is_incremental() %}
        where dt >= {{ window_start }}
    {% endif %}

),

contributor_days as (

    select * from {{ ref('int_usage__contributor_days') }}
    {% if is_incremental() %}
        where dt >= cast({{ dbt.dateadd('day', -lookback, window_start) }} as date)
    {% endif %}

),

per_contributor as (

    {{ alert_segment_window('alerts', 'contributor_days', 'baseline_days', ['contributor_type', 'contributor']) }}

),

shared as (

    select
        *,
        value - baseline_mean as delta,
        case when segment_delta != 0 then (value - baseline_mean) / segment_delta end as share_of_delta

    from per_contributor

),

final as (

    select
        {{ alert_id("'usage'", 'dt', 'segment', 'metric', "'usage_zscore'") }} as alert_id,
        dt,
        segment,
        metric,
        contributor_type,
        contributor,
        value,
        baseline_mean,
        delta,
        share_of_delta,
        row_number() over (
            partition by dt, segment, metric
            order by share_of_delta desc, abs(delta) desc, contributor
        ) as contributor_rank

    from shared

)

select * from final
