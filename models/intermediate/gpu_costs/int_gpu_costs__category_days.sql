{#- Infrastructure cost per day x vertical x cost category: SUM(row_cost) over
    every row of the category (LT team included), plus the attribution the
    category's rows carry (non-zero only on inference rows). The GPU-type
    split summed over GPU types (one aggregation of the raw rows). -#}

with

category_gpu_days as (

    select * from {{ ref('int_gpu_costs__category_gpu_days') }}

),

category_days as (

    select
        dt,
        vertical,
        cost_category,
        sum(cost_rows) as cost_rows,
        sum(row_cost) as row_cost,
        sum(attributed_idle_cost) as attributed_idle_cost,
        sum(attributed_overhead_cost) as attributed_overhead_cost

    from category_gpu_days
    group by dt, vertical, cost_category

)

select * from category_days
