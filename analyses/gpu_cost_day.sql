-- The finalised cost day per vertical and in total, rounded to cents (`make demo` shows it with `dbt show`).
-- customer_usd: the fully loaded cost of customers' requests (LT team excluded).
with last_finalised as (
    select max(dt) as dt
    from {{ ref('fct_gpu_cost_daily') }}
    where is_finalised
),

cost_day as (
    select daily.*
    from {{ ref('fct_gpu_cost_daily') }} as daily
    inner join last_finalised on daily.dt = last_finalised.dt
)

select
    dt,
    vertical,
    round(infra_cost, 2) as infra_usd,
    round(idle_cost, 2) as idle_usd,
    round(customer_fully_loaded_cost, 2) as customer_usd,
    requests
from cost_day
union all
select
    max(dt) as dt,
    'total' as vertical,
    round(sum(infra_cost), 2) as infra_usd,
    round(sum(idle_cost), 2) as idle_usd,
    round(sum(customer_fully_loaded_cost), 2) as customer_usd,
    sum(requests) as requests
from cost_day
order by vertical
