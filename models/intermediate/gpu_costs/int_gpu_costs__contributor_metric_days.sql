{{
    config(
        materialized='incremental',
        on_schema_change='append_new_columns',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'contributor_type', 'driver_metric'],
    )
}}

{#- Every cost driver metric per day x vertical x breakdown x contributor, in
    long shape (driver_metric, value). Who can carry a cost decides the
    breakdown, so idle never lands on a customer:
      * request-borne, by customer (API: endpoint, model, organisation;
        Studio: process, model): `inference_cost` (row_cost of the inference
        rows, LT team included: infrastructure view) and `failed_requests`
        (customers only);
      * non-request, by infrastructure: `idle_cost` by GPU type (the idle
        rows) and `infra_cost` by cost category (inference / idle /
        overhead / unused: every row, the infrastructure total).
    Idle attributed to requests in proportion to their cost is never a
    driver: it would name the busiest customer for idle nobody sent. Days a
    contributor has no row are absent. Input of
    int_gpu_costs__contributor_deltas.

    An incremental table: a daily run aggregates only the reprocess window
    of request rows and replaces those days; the contributor deltas read the
    history of this day-grain table. -#}

{%- set breakdowns = [
    ('api', 'endpoint', 'endpoint'),
    ('api', 'model', 'model_type'),
    ('api', 'organization', 'organization_name'),
    ('studio', 'process', 'process_name'),
    ('studio', 'model', 'model_type'),
] -%}
{%- set request_metrics = ['inference_cost', 'failed_requests'] -%}

with

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

category_gpu_days as (

    select * from {{ ref('int_gpu_costs__category_gpu_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

contributor_days as (

    {% for vertical, contributor_type, column in breakdowns %}
        select
            dt,
            vertical,
            '{{ contributor_type }}' as contributor_type,
            {{ column }} as contributor,
            sum(row_cost) as inference_cost,
            sum(case when is_customer and is_failed then 1 else 0 end) as failed_requests
        from costed_requests
        where vertical = '{{ vertical }}'
        group by dt, vertical, {{ column }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

request_metric_days as (

    {% for metric in request_metrics %}
        select
            dt,
            vertical,
            contributor_type,
            contributor,
            '{{ metric }}' as driver_metric,
            cast({{ metric }} as {{ type_double() }}) as value
        from contributor_days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

infrastructure_metric_days as (

    select
        dt,
        vertical,
        'gpu_type' as contributor_type,
        gpu_type as contributor,
        'idle_cost' as driver_metric,
        cast(sum(row_cost) as {{ type_double() }}) as value

    from category_gpu_days
    where cost_category = 'idle'
    group by dt, vertical, gpu_type

    union all

    select
        dt,
        vertical,
        'cost_category' as contributor_type,
        cost_category as contributor,
        'infra_cost' as driver_metric,
        cast(sum(row_cost) as {{ type_double() }}) as value

    from category_gpu_days
    group by dt, vertical, cost_category

),

final as (

    select * from request_metric_days
    union all
    select * from infrastructure_metric_days

)

select * from final
