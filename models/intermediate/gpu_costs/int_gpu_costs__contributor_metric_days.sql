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

{#- Every cost driver metric per day x vertical x breakdown (API: endpoint,
    model, organisation; Studio: process, model) x contributor, in long
    shape (driver_metric, value): fully_loaded_cost / inference_cost /
    attributed_idle_cost (all inference rows, LT team included:
    infrastructure view) and failed_requests (customers only). Days a
    contributor has no request are absent. Input of
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
{%- set driver_metrics = ['fully_loaded_cost', 'inference_cost', 'attributed_idle_cost', 'failed_requests'] -%}

with

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
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
            sum(fully_loaded_cost) as fully_loaded_cost,
            sum(row_cost) as inference_cost,
            sum(attributed_idle_cost) as attributed_idle_cost,
            sum(case when is_customer and is_failed then 1 else 0 end) as failed_requests
        from costed_requests
        where vertical = '{{ vertical }}'
        group by dt, vertical, {{ column }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

contributor_metric_days as (

    {% for metric in driver_metrics %}
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

)

select * from contributor_metric_days
