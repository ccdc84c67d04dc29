{#- The days people marked "Expected" from Slack (a known event nobody had put in
    seeds/calendar_events.csv): (day, domain, scope) of every alert of the
    incident clicked on. The alert's series comes from the delivery log (what
    was posted), not from fct_alerts, so the baselines can leave these days out
    without a cycle. Usage baselines (int_usage__baseline_excluded_days) and cost
    baselines (int_gpu_costs__baseline_excluded_days) treat them like calendar
    events with exclude_from_baseline. -#}

with

feedback as (

    select * from {{ ref('stg_alerting__feedback') }}
    where action = 'expected'

),

deliveries as (

    select * from {{ ref('stg_alerting__deliveries') }}
    where alert_id is not null and series_key is not null

),

final as (

    select distinct
        deliveries.alert_date as dt,
        {{ dbt.split_part('deliveries.series_key', "'|'", 1) }} as domain,
        {{ dbt.split_part('deliveries.series_key', "'|'", 2) }} as scope

    from feedback
    inner join deliveries
        on {{ in_id_list('deliveries.alert_id', 'feedback.alert_ids') }}

)

select * from final
