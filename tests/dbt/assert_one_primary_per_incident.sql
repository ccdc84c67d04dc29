-- Every incident has exactly one primary (headline) alert.
{{ config(severity='error') }}

select
    incident_id,
    sum(case when is_incident_primary then 1 else 0 end) as primaries

from {{ ref('fct_alerts') }}
group by incident_id
having sum(case when is_incident_primary then 1 else 0 end) != 1
