with

source as (

    select * from {{ source('gpu_costs', 'gpu_request_attribution_and_cost') }}

),

renamed as (

    select
        {{ utc_date('dt', source('gpu_costs', 'gpu_request_attribution_and_cost')) }} as dt,
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
