-- The per-user deltas of every usage alert add up to the segment's delta
-- (same baseline method as the segment), and the concentration mart's new +
-- returning split closes.
{{ config(severity='error') }}

with

per_alert as (

    select
        dt,
        segment,
        metric,
        sum(delta) as sum_of_deltas

    from {{ ref('int_usage__alert_user_deltas') }}
    group by dt, segment, metric

)

select
    concentration.dt,
    concentration.segment,
    concentration.metric,
    concentration.segment_delta,
    per_alert.sum_of_deltas,
    concentration.new_user_delta,
    concentration.returning_user_delta

from {{ ref('fct_usage_alert_concentration') }} as concentration
left join per_alert
    on
        concentration.dt = per_alert.dt
        and concentration.segment = per_alert.segment
        and concentration.metric = per_alert.metric
where
    abs(coalesce(per_alert.sum_of_deltas, 0) - concentration.segment_delta)
    > 1e-6 * greatest(1, abs(concentration.segment_delta))
    or abs(
        coalesce(concentration.new_user_delta, 0) + coalesce(concentration.returning_user_delta, 0)
        - concentration.segment_delta
    ) > 1e-6 * greatest(1, abs(concentration.segment_delta))
