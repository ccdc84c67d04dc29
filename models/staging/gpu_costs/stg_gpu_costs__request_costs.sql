{{
    config(
        materialized='incremental',
        on_schema_change='append_new_columns',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'cost_category'],
    )
}}

{#- An incremental table, not a view: the one model that reads the raw GPU cost
    table, and each daily run reads only the days it rebuilds (incremental_start_date:
    the reprocess window). Every other model and test reads this table, so the raw
    history is never re-read in a morning (docs/data-inputs.md "Landed once"). -#}

{#- Bounds of the cost columns (macro row_cost_bound, var max_row_cost_usd): a value
    outside [0, bound], NaN or +-inf is handed on as null and flags the row. -#}
{%- set costs = ['row_cost', 'attributed_idle_cost', 'attributed_overhead_cost'] -%}
{%- set bound = row_cost_bound() -%}

{%- set raw_dt = utc_date('dt', source('gpu_costs', 'gpu_request_attribution_and_cost')) %}

with

source as (

    select * from {{ source('gpu_costs', 'gpu_request_attribution_and_cost') }}
    -- stray dates quarantined; a daily run: only the reprocess window (partition pruning)
    where {{ rows_to_land(raw_dt) }}

),

renamed as (

    select
        {{ raw_dt }} as dt,
        cast(request_id as {{ dbt.type_string() }}) as request_id,
        cast(vertical as {{ dbt.type_string() }}) as vertical,
        cast(cost_category as {{ dbt.type_string() }}) as cost_category,
        cast(endpoint as {{ dbt.type_string() }}) as endpoint,
        cast(model_type as {{ dbt.type_string() }}) as model_type,
        cast(organization_name as {{ dbt.type_string() }}) as organization_name,
        cast(process_name as {{ dbt.type_string() }}) as process_name,
        cast(workspace_id as {{ dbt.type_string() }}) as workspace_id,
        cast(result as {{ dbt.type_string() }}) as result,
        cast(is_lt_team as {{ dbt.type_boolean() }}) as is_lt_team,
        cast(gpu_type as {{ dbt.type_string() }}) as gpu_type,
        {%- for cost in costs %}
            cast({{ cost }} as {{ type_double() }}) as raw_{{ cost }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from source

),

bounded as (

    select
        dt,
        request_id,
        vertical,
        cost_category,
        endpoint,
        model_type,
        organization_name,
        process_name,
        workspace_id,
        result,
        is_lt_team,
        gpu_type,
        {%- for cost in costs %}
            case when raw_{{ cost }} between 0 and {{ bound }} then raw_{{ cost }} end as {{ cost }},
        {%- endfor %}
        {%- for cost in costs %}
            raw_{{ cost }},
        {%- endfor %}
        {%- for cost in costs %}
            coalesce(raw_{{ cost }} between 0 and {{ bound }}, true){% if not loop.last %} and{% endif %}
        {%- endfor %} as is_within_bounds

    from renamed

)

select * from bounded
