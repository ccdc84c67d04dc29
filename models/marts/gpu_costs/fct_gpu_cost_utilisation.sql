{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'cost_category'],
    )
}}

{#- Analysis 7, utilisation by cost category: per day x vertical x category,
    the category's infrastructure cost (SUM(row_cost), LT team included), its
    share of the vertical's infra spend, and the vertical's idle:inference
    ratio (idle cost / direct inference cost; the same on every category row
    of a day x vertical). -#}

with

category_days as (

    select * from {{ ref('int_gpu_costs__category_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

final as (

    select
        category_days.dt,
        category_days.vertical,
        category_days.cost_category,
        category_days.cost_rows,
        category_days.row_cost as cost,
        {{ safe_divide('category_days.row_cost', 'daily_totals.infra_cost') }} as share_of_infra_cost,
        daily_totals.idle_inference_ratio

    from category_days
    inner join daily_totals
        on
            category_days.dt = daily_totals.dt
            and category_days.vertical = daily_totals.vertical

)

select * from final
