{{ config(contract={'enforced': contract_enforced()}) }}

{#- Contract (column names, order, types in the YAML) enforced on DuckDB and BigQuery;
    not on the BigQuery emulator (macro contract_enforced, docs/bigquery.md "Contracts"). -#}

{#- Root cause of every gpu_cost alert, as numbers (the alerting module and the
    report render them): for each alert, every contributor of each breakdown
    (API: endpoint, model, organisation; Studio: process, model) with the
    day's value of the alert's driver measure, its baseline (the previous day
    for previous-day rules, else the mean of the previous
    `cost_spike_window_days` days), the delta and its share of the breakdown's
    total delta. `contributor_rank` 1 = the largest increase within the
    breakdown. -#}

with

alerts as (

    select
        alert_id,
        dt,
        vertical,
        driver_metric,
        driver_baseline_kind

    from {{ ref('int_alerts__gpu_cost_evaluated') }}

),

contributor_deltas as (

    select * from {{ ref('int_gpu_costs__contributor_deltas') }}
    where dt <= {{ cost_finalised_through() }}

),

final as (

    select
        alerts.alert_id,
        contributor_deltas.contributor_type,
        contributor_deltas.contributor,
        contributor_deltas.driver_metric,
        contributor_deltas.baseline_kind,
        contributor_deltas.value,
        contributor_deltas.baseline as baseline_value,
        contributor_deltas.delta,
        contributor_deltas.share_of_delta,
        cast(contributor_deltas.contributor_rank as {{ dbt.type_bigint() }}) as contributor_rank,
        cast(
            case
                when contributor_deltas.contributor_type in ('endpoint', 'process') then 1
                when contributor_deltas.contributor_type = 'model' then 2
                else 3
            end as {{ dbt.type_bigint() }}
        ) as breakdown_order,
        case when contributor_deltas.driver_metric = 'failed_requests' then 'count' else 'usd' end as unit

    from alerts
    inner join contributor_deltas
        on
            alerts.dt = contributor_deltas.dt
            and alerts.vertical = contributor_deltas.vertical
            and alerts.driver_metric = contributor_deltas.driver_metric
            and alerts.driver_baseline_kind = contributor_deltas.baseline_kind

)

select * from final
