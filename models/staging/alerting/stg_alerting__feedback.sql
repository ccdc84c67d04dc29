{#- What people said about alerts from Slack (source alerting.alert_feedback,
    written by `python -m alerting serve`): one row per click; empty until the
    first click. Renames and types only. -#}

with

source as (

    {{ source_or_empty('alerting', 'alert_feedback') }}

),

final as (

    select
        feedback_id,
        incident_id,
        alert_id,
        alert_ids,
        action,
        user_id,
        cast(alert_date as date) as alert_date,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(expires_on as date) as expires_on,
        note

    from source

)

select * from final
