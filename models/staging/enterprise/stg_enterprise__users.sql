{#- A table, not a view: the enterprise snapshot is read once per run, and every
    model and test that needs it reads this copy. -#}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('enterprise', 'enterprise_users') }}

),

renamed as (

    select
        cast(lt_id as {{ dbt.type_string() }}) as lt_id,
        cast(organization_id as {{ dbt.type_string() }}) as organization_id,
        cast(organization_name as {{ dbt.type_string() }}) as organization_name,
        cast(team_name as {{ dbt.type_string() }}) as team_name,
        lower(cast(contract_type as {{ dbt.type_string() }})) as contract_type

    from source

)

select * from renamed
