{#- One row per enterprise seat, with the segment it puts the user in and the
    organisation name it is reported under (McCann split by office). -#}
{%- set excluded = sql_string_list(var('excluded_organizations') | map('lower')) -%}

with

enterprise_users as (

    select * from {{ ref('stg_enterprise__users') }}

),

classified as (

    select
        lt_id,
        organization_id,
        organization_name,
        team_name,
        contract_type,
        case
            when lower(trim(organization_name)) = lower('{{ var("split_organization") }}')
                then concat(
                    '{{ var("split_organization") }}_',
                    coalesce(nullif(trim(team_name), ''), 'unassigned')
                )
            else organization_name
        end as reporting_organization,
        case contract_type
            when 'contract' then 'enterprise_contract'
            when 'pilot' then 'enterprise_pilot'
        end as segment,
        lower(trim(organization_name)) in ({{ excluded }}) as is_excluded

    from enterprise_users

)

select * from classified
