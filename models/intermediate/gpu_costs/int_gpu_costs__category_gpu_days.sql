{{
    config(
        materialized='incremental',
        on_schema_change='append_new_columns',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'cost_category', 'gpu_type'],
    )
}}

{#- Infrastructure cost per day x vertical x cost category x GPU type:
    SUM(row_cost) over every row (LT team included) and the attribution the
    rows carry (non-zero only on inference rows). int_gpu_costs__category_days
    is this summed over GPU types; the cost decomposition splits idle /
    overhead / unused by GPU type from here.

    An incremental table (one of the day-grain aggregates of the request
    rows): a daily run aggregates only the reprocess window of request rows
    and replaces those days; every later reader of the history reads this
    small table, not the request rows. -#}

with

request_costs as (

    select * from {{ ref('stg_gpu_costs__request_costs') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

category_gpu_days as (

    select
        dt,
        vertical,
        cost_category,
        coalesce(gpu_type, '(none)') as gpu_type,
        count(*) as cost_rows,
        sum(row_cost) as row_cost,
        sum(coalesce(attributed_idle_cost, 0)) as attributed_idle_cost,
        sum(coalesce(attributed_overhead_cost, 0)) as attributed_overhead_cost

    from request_costs
    group by dt, vertical, cost_category, coalesce(gpu_type, '(none)')

)

select * from category_gpu_days
