{#- The days people's answers from Slack take out of later baselines: no
    ordinary day, by the last verdict on each incident (a later verdict
    corrects an earlier one):
      * expected:     "Expected" - a known event nobody had put in
                      seeds/calendar_events.csv;
      * acknowledged: "Acknowledge" - a confirmed incident, which must not
                      widen sigma or shift the mean of the series' next ten
                      weeks (DESIGN.md section 2: confirmed incidents do not
                      feed future baselines).
    A "False alarm" (the day was ordinary) takes nothing out; a snooze (quiet,
    not a verdict on the day) neither takes out nor puts back. (day, domain,
    scope) of every alert of the incident clicked on. The alert's series comes from the delivery log (what
    was posted), not from fct_alerts, so the baselines can leave these days out
    without a cycle. Usage baselines (int_usage__baseline_excluded_days) and
    cost baselines (int_gpu_costs__baseline_excluded_days) treat them like
    calendar events with exclude_from_baseline. -#}

with

feedback as (

    select * from {{ ref('stg_alerting__feedback') }}

),

deliveries as (

    select * from {{ ref('stg_alerting__deliveries') }}
    where alert_id is not null and series_key is not null

),

last_answers as (

    select
        alert_ids,
        action

    from (
        select
            alert_ids,
            action,
            row_number() over (
                partition by incident_id order by created_at desc, feedback_id desc
            ) as recency
        from feedback
        where action in ('expected', 'acknowledge', 'false_alarm')
    ) as ordered
    where recency = 1 and action in ('expected', 'acknowledge')

),

final as (

    select distinct
        deliveries.alert_date as dt,
        {{ dbt.split_part('deliveries.series_key', "'|'", 1) }} as domain,
        {{ dbt.split_part('deliveries.series_key', "'|'", 2) }} as scope,
        case last_answers.action when 'expected' then 'expected' else 'acknowledged' end as reason

    from last_answers
    inner join deliveries
        on {{ in_id_list('deliveries.alert_id', 'last_answers.alert_ids') }}

)

select * from final
