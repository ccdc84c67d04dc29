{{ config(contract={'enforced': contract_enforced()}) }}

{#- Contract (column names, order, types in the YAML) enforced on DuckDB and BigQuery;
    not on the BigQuery emulator (macro contract_enforced, docs/bigquery.md "Contracts"). -#}

{#- Root cause of every gpu_cost alert, as numbers (the alerting module and the
    report render them): for each alert, every contributor of each breakdown
    of the alert's driver measure, with the day's value, its baseline (the
    previous day for previous-day rules, else the mean of the previous
    `cost_spike_window_days` days), the delta and its share of the
    breakdown's total delta. `contributor_rank` 1 = the largest increase
    within the breakdown.

    Who can carry the cost decides the breakdown (int_gpu_costs__contributor_metric_days):
    inference cost and failed requests by customer (API: endpoint, model,
    organisation; Studio: process, model); idle by GPU type; the
    infrastructure total by cost category. An infrastructure-total alert
    names customers (their inference cost) only when inference is the
    category that rose most: an idle, overhead or unused rise names no
    customer. -#}

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

leading_categories as (

    select
        dt,
        vertical,
        baseline_kind,
        contributor as cost_category

    from contributor_deltas
    where driver_metric = 'infra_cost' and contributor_rank = 1

),

alert_measures as (

    select * from alerts

    union all

    -- the customers behind an infrastructure rise that inference led
    select
        alerts.alert_id,
        alerts.dt,
        alerts.vertical,
        'inference_cost' as driver_metric,
        alerts.driver_baseline_kind

    from alerts
    inner join leading_categories
        on
            alerts.dt = leading_categories.dt
            and alerts.vertical = leading_categories.vertical
            and alerts.driver_baseline_kind = leading_categories.baseline_kind
    where alerts.driver_metric = 'infra_cost' and leading_categories.cost_category = 'inference'

),

final as (

    select
        alert_measures.alert_id,
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
                when contributor_deltas.contributor_type in ('cost_category', 'gpu_type') then 0
                when contributor_deltas.contributor_type in ('endpoint', 'process') then 1
                when contributor_deltas.contributor_type = 'model' then 2
                else 3
            end as {{ dbt.type_bigint() }}
        ) as breakdown_order,
        case when contributor_deltas.driver_metric = 'failed_requests' then 'count' else 'usd' end as unit

    from alert_measures
    inner join contributor_deltas
        on
            alert_measures.dt = contributor_deltas.dt
            and alert_measures.vertical = contributor_deltas.vertical
            and alert_measures.driver_metric = contributor_deltas.driver_metric
            and alert_measures.driver_baseline_kind = contributor_deltas.baseline_kind

)

select * from final
