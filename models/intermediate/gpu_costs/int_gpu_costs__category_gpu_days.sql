{#- Infrastructure cost per day x vertical x cost category x GPU type:
    SUM(row_cost) over every row (LT team included) and the attribution the
    rows carry (non-zero only on inference rows). int_gpu_costs__category_days
    is this summed over GPU types; the cost decomposition splits idle /
    overhead / unused by GPU type from here. -#}

with

request_costs as (

    select * from {{ ref('stg_gpu_costs__request_costs') }}

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
