-- The finalised cost day's largest customers: the inference cost of their own requests (LT team excluded;
-- idle / overhead / unused are infrastructure, never a customer's), top 3 per breakdown (`make demo`).
with cost_day as (
    select max(dt) as dt
    from {{ ref('fct_gpu_cost_daily') }}
    where is_finalised
),

customers as (
    select
        'api endpoint' as breakdown,
        endpoint as customer,
        inference_cost,
        dt
    from {{ ref('fct_gpu_cost_api_by_endpoint_model') }}
    union all
    select
        'api model' as breakdown,
        model_type as customer,
        inference_cost,
        dt
    from {{ ref('fct_gpu_cost_api_by_endpoint_model') }}
    union all
    select
        'api organisation' as breakdown,
        organization_name as customer,
        inference_cost,
        dt
    from {{ ref('fct_gpu_cost_api_by_organization') }}
    union all
    select
        'studio process' as breakdown,
        process_name as customer,
        inference_cost,
        dt
    from {{ ref('fct_gpu_cost_studio_by_process') }}
),

ranked as (
    select
        customers.breakdown,
        customers.customer,
        sum(customers.inference_cost) as cost,
        sum(customers.inference_cost)
        / nullif(sum(sum(customers.inference_cost)) over (partition by customers.breakdown), 0) as share,
        row_number() over (
            partition by customers.breakdown order by sum(customers.inference_cost) desc, customers.customer
        ) as customer_rank
    from customers
    inner join cost_day on customers.dt = cost_day.dt
    group by customers.breakdown, customers.customer
)

select
    breakdown,
    customer_rank,
    customer,
    round(cost, 2) as inference_usd,
    round(100 * share, 1) as share_pct
from ranked
where customer_rank <= 3
order by breakdown, customer_rank
