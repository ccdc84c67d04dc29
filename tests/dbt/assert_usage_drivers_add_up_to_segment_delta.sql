-- The contributors of every usage alert add up to the segment: the sum of
-- their deltas equals the segment's delta and their shares sum to 1.
{{ config(severity='error') }}

with

drivers as (

    select * from {{ ref('fct_usage_alert_drivers') }}

),

scores as (

    select * from {{ ref('fct_usage_anomaly_scores') }}

),

per_alert as (

    select
        dt,
        segment,
        metric,
        sum(delta) as sum_of_deltas,
        sum(share_of_delta) as sum_of_shares

    from drivers
    group by 1, 2, 3

)

select
    per_alert.*,
    scores.delta as segment_delta

from per_alert
inner join scores
    on
        per_alert.dt = scores.dt
        and per_alert.segment = scores.segment
        and per_alert.metric = scores.metric
where
    abs(per_alert.sum_of_deltas - scores.delta) > 1e-6 * greatest(1, abs(scores.delta))
    or abs(per_alert.sum_of_shares - 1) > 1e-9
