{#- What reached people: one row per message and incident it carried (a digest
    of three incidents is three rows with one message_ts), from the delivery log
    (source alerting.alert_delivery_log, written by `alerting run` after each
    post). `is_loud`: the message notified the channel (top-level, or a reply
    broadcast to it; DESIGN.md §2 "Loud vs quiet"): the same kinds as
    tests/python/delivery_support.py LOUD_KINDS (the replay counts loud posts
    by it). Charts are their own rows (kind chart).
    Empty until the first alerting run. -#}

with

deliveries as (

    select * from {{ ref('stg_alerting__deliveries') }}

),

posts as (

    select
        destination,
        message_ts,
        coalesce(incident_id, '') as incident_key,
        max(incident_id) as incident_id,
        max(kind) as kind,
        max(thread_ts) as thread_ts,
        min(alert_date) as alert_date,
        count(distinct alert_id) as alerts,
        max({{ severity_rank('severity') }}) as severity_rank,
        max(team) as team,
        max(run_id) as run_id,
        min(delivered_at) as delivered_at

    from deliveries
    group by destination, message_ts, coalesce(incident_id, '')

),

final as (

    select
        {{ dbt.hash(dbt.concat(['destination', "'|'", 'message_ts', "'|'", 'incident_key'])) }} as post_id,
        destination,
        {{ dbt.split_part('destination', "':'", 2) }} as channel,
        message_ts,
        thread_ts,
        message_ts = thread_ts as is_top_level,
        kind,
        kind in ('post', 'data_health', 'broadcast', 'all_clear', 'pipeline_health') as is_loud,
        incident_id,
        alert_date,
        {{ week_start('alert_date') }} as alert_week,
        alerts,
        case severity_rank when 3 then 'critical' when 2 then 'warning' when 1 then 'notice' end as severity,
        team,
        run_id,
        delivered_at

    from posts

)

select * from final
