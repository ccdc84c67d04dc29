{{
    config(
        materialized='table',
        partition_by=day_partition('alert_date'),
        cluster_by=['domain', 'team'],
    )
}}

{#- Every alert of both domains, one row per alert (DESIGN.md §3.3). The
    alerting module reads this table; `alert_id` is stable across re-runs. -#}

with

usage_alerts as (

    select * from {{ ref('int_usage__alerts') }}

),

gpu_cost_alerts as (

    select * from {{ ref('int_gpu_cost__alerts') }}

),

unioned as (

    select * from usage_alerts
    union all
    select * from gpu_cost_alerts

)

select * from unioned
