{{ config(contract={'enforced': contract_enforced()}) }}

{#- Contract (column names, order, types in the YAML) enforced on DuckDB and BigQuery;
    not on the BigQuery emulator (macro contract_enforced, docs/bigquery.md "Contracts"). -#}

{#- One row per incident (alerts sharing a cause, see int_alerts__policy): its
    primary (headline) alert, members, highest severity, the teams it concerns,
    whether any member may be posted, and its cause (a short machine label:
    segment_shift for usage, the primary's component for gpu_cost (idle_cost,
    inference_cost, failures, infra), data_completeness for data health). -#}

with

policy as (

    select * from {{ ref('int_alerts__policy') }}

),

primaries as (

    select * from policy
    where is_incident_primary

),

incident_teams as (

    select distinct
        incident_id,
        team

    from policy

),

team_lists as (

    select
        incident_id,
        {{ dbt.listagg('team', "','", 'order by team') }} as teams

    from incident_teams
    group by incident_id

),

members as (

    select
        incident_id,
        cast(count(*) as {{ dbt.type_bigint() }}) as member_count,
        cast(sum(case when is_postable then 1 else 0 end) as {{ dbt.type_bigint() }}) as postable_member_count,
        max(severity_rank) as severity_rank

    from policy
    group by incident_id

),

final as (

    select
        primaries.incident_id,
        primaries.alert_date,
        primaries.domain,
        primaries.scope,
        primaries.alert_id as primary_alert_id,
        members.member_count,
        members.postable_member_count,
        case members.severity_rank when 3 then 'critical' when 2 then 'warning' else 'notice' end as severity,
        primaries.direction,
        team_lists.teams,
        members.postable_member_count > 0 as is_postable,
        primaries.cause

    from primaries
    inner join members
        on primaries.incident_id = members.incident_id
    inner join team_lists
        on primaries.incident_id = team_lists.incident_id

)

select * from final
