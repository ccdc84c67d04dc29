-- Every posted usage alert has at least one contributor row (root cause is never missing).
{{ config(severity='error') }}

select scores.*
from {{ ref('fct_usage_anomaly_scores') }} as scores
left join {{ ref('fct_usage_alert_drivers') }} as drivers
    on
        scores.dt = drivers.dt
        and scores.segment = drivers.segment
        and scores.metric = drivers.metric
where scores.is_alert and drivers.alert_id is null
