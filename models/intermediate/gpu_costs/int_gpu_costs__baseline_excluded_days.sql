{#- The days a cost baseline leaves out, per vertical - one list that the
    weekday baseline (int_gpu_costs__metric_weekday_baselines) and the chart
    of an alert's baseline (fct_alert_chart_series) both read:
      * outage days: no customer request at all (rule idle_without_traffic
        reports those); one of them (inference 0, idle share doubled) would
        inflate the pooled sigma for weeks and blind the z to a real spike;
      * known event days (seed calendar_events, exclude_from_baseline, scope
        `*` or the vertical): a holiday is not an ordinary weekday;
      * days whose cost alert of the vertical people's last verdict from Slack
        called "Expected" (a known event) or acknowledged (a confirmed
        incident) (int_alerts__feedback_excluded_days). -#}

with

metric_days as (

    select * from {{ ref('int_gpu_costs__metric_days') }}

),

calendar_events as (

    select * from {{ ref('calendar_events') }}
    where exclude_from_baseline

),

outages as (

    select
        dt,
        vertical,
        'outage' as reason

    from metric_days
    where metric = 'requests' and value = 0

),

events as (

    select
        metric_days.dt,
        metric_days.vertical,
        'calendar_event' as reason

    from metric_days
    inner join calendar_events
        on
            {{ calendar_event_covers('metric_days.dt', 'metric_days.vertical') }}

),

answered as (

    select
        dt,
        scope as vertical,
        reason

    from {{ ref('int_alerts__feedback_excluded_days') }}
    where domain = 'gpu_cost'

),

final as (

    select
        dt,
        vertical,
        min(reason) as reason

    from (
        select * from outages
        union all
        select * from events
        union all
        select * from answered
    ) as excluded
    group by dt, vertical

)

select * from final
