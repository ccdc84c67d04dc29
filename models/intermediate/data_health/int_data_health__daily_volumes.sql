{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['source'],
    )
}}

{#- What each raw source delivered per loaded day: usage rows (= active users:
    one row per user per day), distinct users and tokens; GPU cost rows and
    their cost (SUM(row_cost) over every category = the infrastructure total).
    `judged_rows` are the rows fct_data_health judges completeness on: usage,
    every row (the rows are the traffic); GPU costs, the infrastructure rows
    only (idle / overhead / unused per vertical and GPU type), which exist
    whether or not a request arrives: an outage (no request rows) is not a
    partial load. Incremental: a daily run reads only the reprocess window of
    the raw tables. -#}

with

user_days as (

    select * from {{ ref('stg_web__user_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

request_costs as (

    select * from {{ ref('stg_gpu_costs__request_costs') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

usage_volumes as (

    select
        dt,
        'usage' as source,
        cast(count(*) as {{ dbt.type_bigint() }}) as loaded_rows,
        cast(count(*) as {{ dbt.type_bigint() }}) as judged_rows,
        cast(count(distinct lt_id) as {{ dbt.type_bigint() }}) as dau,
        cast(sum(tokens_consumed) as {{ dbt.type_bigint() }}) as tokens,
        cast(null as {{ type_double() }}) as cost_usd

    from user_days
    group by dt

),

gpu_cost_volumes as (

    select
        dt,
        'gpu_costs' as source,
        cast(count(*) as {{ dbt.type_bigint() }}) as loaded_rows,
        cast(sum(case when cost_category != 'inference' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as judged_rows,
        cast(null as {{ dbt.type_bigint() }}) as dau,
        cast(null as {{ dbt.type_bigint() }}) as tokens,
        cast(sum(row_cost) as {{ type_double() }}) as cost_usd

    from request_costs
    group by dt

),

final as (

    select * from usage_volumes
    union all
    select * from gpu_cost_volumes

)

select * from final
