{#- THE cost rule, decided once: one row per inference request with its fully
    loaded cost (row_cost + attributed idle + attributed overhead; inference
    rows only, so nothing is counted twice), its failure flag (result failed or
    timeout), the LT-team flag and the vertical. Every GPU cost mart builds on
    this model or on int_gpu_costs__category_days; none re-derives the rule.
    Missing dimension values become '(none)' so breakdowns keep every dollar. -#}

with

request_costs as (

    select * from {{ ref('stg_gpu_costs__request_costs') }}
    where cost_category = 'inference'

),

costed as (

    select
        dt,
        request_id,
        vertical,
        coalesce(endpoint, '(none)') as endpoint,
        coalesce(model_type, '(none)') as model_type,
        coalesce(organization_name, '(none)') as organization_name,
        coalesce(process_name, '(none)') as process_name,
        coalesce(workspace_id, '(none)') as workspace_id,
        gpu_type,
        result,
        coalesce(result in ('failed', 'timeout'), false) as is_failed,
        is_lt_team,
        not is_lt_team as is_customer,
        -- row_cost is null only where staging flagged an impossible value (is_within_bounds): 0, as in the sums
        coalesce(row_cost, 0) as row_cost,
        coalesce(attributed_idle_cost, 0) as attributed_idle_cost,
        coalesce(attributed_overhead_cost, 0) as attributed_overhead_cost,
        coalesce(row_cost, 0) + coalesce(attributed_idle_cost, 0) + coalesce(attributed_overhead_cost, 0)
            as fully_loaded_cost

    from request_costs

)

select * from costed
