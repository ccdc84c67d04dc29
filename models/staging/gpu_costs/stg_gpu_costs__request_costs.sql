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

{%- set raw_dt = utc_date('dt', source('gpu_costs', 'gpu_request_attribution_and_cost')) %}

with

source as (

    select * from {{ source('gpu_costs', 'gpu_request_attribution_and_cost') }}
    {% if is_incremental() %}
        -- only the reprocess window of raw (in the select that reads it: partition pruning)
        where {{ raw_dt }} >= {{ incremental_start_date() }}
    {% endif %}

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
        cast(row_cost as {{ type_double() }}) as row_cost,
        cast(attributed_idle_cost as {{ type_double() }}) as attributed_idle_cost,
        cast(attributed_overhead_cost as {{ type_double() }}) as attributed_overhead_cost

    from source

)

select * from renamed
