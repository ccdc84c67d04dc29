{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['process_name', 'workspace_id'],
    )
}}

{#- Analysis 3, Studio cost by process and workspace: customer requests only
    (LT team excluded). Roll up over workspace_id for the per-process view.
    Sums back to the Studio row of fct_gpu_cost_daily. -#}

with

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    where
        vertical = 'studio'
        and is_customer
    {% if is_incremental() %}
            and dt >= {{ incremental_start_date() }}
        {% endif %}

),

aggregated as (

    select
        dt,
        process_name,
        workspace_id,
        count(*) as requests,
        sum(case when is_failed then 1 else 0 end) as failed_requests,
        sum(row_cost) as inference_cost,
        sum(attributed_idle_cost) as attributed_idle_cost,
        sum(attributed_overhead_cost) as attributed_overhead_cost,
        sum(fully_loaded_cost) as fully_loaded_cost

    from costed_requests
    group by dt, process_name, workspace_id

),

final as (

    select
        *,
        {{ safe_divide('fully_loaded_cost', 'requests') }} as cost_per_request,
        {{ safe_divide('fully_loaded_cost', 'sum(fully_loaded_cost) over (partition by dt, process_name)') }}
            as share_of_process_cost,
        {{ safe_divide('fully_loaded_cost', 'sum(fully_loaded_cost) over (partition by dt)') }} as share_of_studio_cost

    from aggregated

)

select * from final
