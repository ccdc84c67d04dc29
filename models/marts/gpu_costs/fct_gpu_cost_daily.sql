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

{#- Analysis 1, daily total (API + Studio): one row per day x vertical.
    Infrastructure figures include the LT team; customer figures exclude it.
    Money is unrounded. `is_finalised`: the day is at least
    `cost_finalisation_days` before the run date (cost data has settled). -#}

with

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

final as (

    select
        dt,
        vertical,
        infra_cost,
        inference_cost,
        idle_cost,
        overhead_cost,
        unused_cost,
        attributed_idle_cost,
        attributed_overhead_cost,
        fully_loaded_inference_cost,
        customer_fully_loaded_cost,
        customer_inference_cost,
        lt_team_fully_loaded_cost,
        requests,
        lt_team_requests,
        failed_requests,
        failed_cost,
        failure_rate,
        cost_per_request,
        idle_inference_ratio,
        inference_rows,
        unattributed_idle_cost,
        unattributed_overhead_cost,
        idle_share_of_infra,
        dt <= {{ cost_finalised_through() }} as is_finalised

    from daily_totals

)

select * from final
