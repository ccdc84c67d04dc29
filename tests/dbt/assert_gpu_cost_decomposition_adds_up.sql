-- The cost decomposition closes: per day x vertical the five components
-- (request_volume, request_rate, idle, overhead, unused) add up to the infra
-- cost change vs the trailing 7-day average, and each breakdown (gpu_type;
-- endpoint / model / organization / process, with its (mix) row) adds up to
-- its component.
{{ config(severity='error') }}

with

decomposition as (

    select * from {{ ref('fct_gpu_cost_decomposition') }}

),

totals as (

    select
        dt,
        vertical,
        'components' as checked,
        'total' as contributor_type,
        max(infra_change) as expected,
        sum(delta_usd) as actual,
        count(*) as n_rows

    from decomposition
    where contributor_type = 'total'
    group by dt, vertical

),

breakdowns as (

    select
        detail.dt,
        detail.vertical,
        detail.component as checked,
        detail.contributor_type,
        max(total.delta_usd) as expected,
        sum(detail.delta_usd) as actual,
        count(*) as n_rows

    from decomposition as detail
    inner join decomposition as total
        on
            detail.dt = total.dt
            and detail.vertical = total.vertical
            and detail.component = total.component
            and total.contributor_type = 'total'
    where detail.contributor_type != 'total'
    group by detail.dt, detail.vertical, detail.component, detail.contributor_type

),

checked as (

    select * from totals
    union all
    select * from breakdowns

)

select *
from checked
where
    abs(actual - expected) > {{ var('cost_invariant_tolerance_usd') }}
    or (checked = 'components' and n_rows != 5)
