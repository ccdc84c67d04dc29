{#- Infrastructure cost per day x vertical x cost category: SUM(row_cost) over
    every row of the category (LT team included), plus the attribution the
    category's rows carry (non-zero only on inference rows). -#}

with

request_costs as (

    select * from {{ ref('stg_gpu_costs__request_costs') }}

),

category_days as (

    select
        dt,
        vertical,
        cost_category,
        count(*) as cost_rows,
        sum(row_cost) as row_cost,
        sum(coalesce(attributed_idle_cost, 0)) as attributed_idle_cost,
        sum(coalesce(attributed_overhead_cost, 0)) as attributed_overhead_cost

    from request_costs
    group by dt, vertical, cost_category

)

select * from category_days
