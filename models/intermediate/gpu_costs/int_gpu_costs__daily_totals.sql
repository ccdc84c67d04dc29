{{
    config(
        materialized='incremental',
        on_schema_change='append_new_columns',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical'],
    )
}}

{#- One row per day x vertical with every total the cost marts and alerts use:
    infrastructure cost by category (LT team included) from the category
    totals, fully loaded inference cost and customer figures (LT team
    excluded) from the costed requests. Ratios are null when their
    denominator is 0.

    Idle and overhead are attributed onto the day's inference rows. On a day
    with no inference row at all (an outage: GPUs paid for, nothing served)
    there is no request to carry them: that idle / overhead cost is
    `unattributed_*` (else 0), so the cost invariants still close and the day
    keeps its metric rows (idle_share_of_infra, unattributed_idle_cost).

    An incremental table: a daily run reads only the reprocess window of
    the request rows and of the category totals and replaces those days;
    the metric baselines, the marts and the alerts read the history of this
    small table instead of re-aggregating request rows. -#}

with

category_days as (

    select * from {{ ref('int_gpu_costs__category_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

categories as (

    select
        dt,
        vertical,
        sum(row_cost) as infra_cost,
        sum(case when cost_category = 'inference' then row_cost else 0 end) as inference_cost,
        sum(case when cost_category = 'idle' then row_cost else 0 end) as idle_cost,
        sum(case when cost_category = 'overhead' then row_cost else 0 end) as overhead_cost,
        sum(case when cost_category = 'unused' then row_cost else 0 end) as unused_cost,
        sum(case when cost_category = 'inference' then cost_rows else 0 end) as inference_rows

    from category_days
    group by dt, vertical

),

requests as (

    select
        dt,
        vertical,
        sum(attributed_idle_cost) as attributed_idle_cost,
        sum(attributed_overhead_cost) as attributed_overhead_cost,
        sum(fully_loaded_cost) as fully_loaded_inference_cost,
        sum(case when is_customer then fully_loaded_cost else 0 end) as customer_fully_loaded_cost,
        sum(case when is_customer then row_cost else 0 end) as customer_inference_cost,
        sum(case when is_lt_team then fully_loaded_cost else 0 end) as lt_team_fully_loaded_cost,
        sum(case when is_customer then 1 else 0 end) as requests,
        sum(case when is_lt_team then 1 else 0 end) as lt_team_requests,
        sum(case when is_customer and is_failed then 1 else 0 end) as failed_requests,
        sum(case when is_customer and is_failed then fully_loaded_cost else 0 end) as failed_cost

    from costed_requests
    group by dt, vertical

),

joined as (

    select
        categories.dt,
        categories.vertical,
        categories.infra_cost,
        categories.inference_cost,
        categories.idle_cost,
        categories.overhead_cost,
        categories.unused_cost,
        categories.inference_rows,
        case when categories.inference_rows = 0 then categories.idle_cost else 0 end as unattributed_idle_cost,
        case when categories.inference_rows = 0 then categories.overhead_cost else 0 end as unattributed_overhead_cost,
        coalesce(requests.attributed_idle_cost, 0) as attributed_idle_cost,
        coalesce(requests.attributed_overhead_cost, 0) as attributed_overhead_cost,
        coalesce(requests.fully_loaded_inference_cost, 0) as fully_loaded_inference_cost,
        coalesce(requests.customer_fully_loaded_cost, 0) as customer_fully_loaded_cost,
        coalesce(requests.customer_inference_cost, 0) as customer_inference_cost,
        coalesce(requests.lt_team_fully_loaded_cost, 0) as lt_team_fully_loaded_cost,
        coalesce(requests.requests, 0) as requests,
        coalesce(requests.lt_team_requests, 0) as lt_team_requests,
        coalesce(requests.failed_requests, 0) as failed_requests,
        coalesce(requests.failed_cost, 0) as failed_cost

    from categories
    left join requests
        on
            categories.dt = requests.dt
            and categories.vertical = requests.vertical

),

final as (

    select
        *,
        {{ safe_divide('customer_fully_loaded_cost', 'requests') }} as cost_per_request,
        {{ safe_divide('failed_requests', 'requests') }} as failure_rate,
        {{ safe_divide('idle_cost', 'inference_cost') }} as idle_inference_ratio,
        {{ safe_divide('idle_cost', 'infra_cost') }} as idle_share_of_infra

    from joined

)

select * from final
