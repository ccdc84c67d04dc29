-- Warns (does not fail) and names every due day whose raw data is incomplete or
-- missing: its alerts are held (incomplete_data) and a data-health alert is raised.
{{ config(severity='warn') }}

select
    dt,
    source,
    status,
    row_count,
    judged_rows,
    expected_rows,
    completeness

from {{ ref('fct_data_health') }}
where is_due and status != 'complete'
