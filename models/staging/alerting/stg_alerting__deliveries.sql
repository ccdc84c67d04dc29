{#- The delivery log as dbt sees it: one row per delivered thing per destination
    (empty until the first `alerting run`). Renames and types only. -#}

with

source as (

    {{ source_or_empty('alerting', 'alert_delivery_log') }}

),

final as (

    select
        destination,
        delivery_key,
        kind,
        alert_id,
        incident_id,
        cast(alert_date as date) as alert_date,
        series_key,
        severity,
        direction,
        team,
        channel_id,
        message_ts,
        coalesce(thread_ts, message_ts) as thread_ts,
        run_id,
        cast(delivered_at as {{ dbt.type_timestamp() }}) as delivered_at

    from source

)

select * from final
