{{
    config(
        materialized='incremental',
        on_schema_change='append_new_columns',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'series', 'contributor_type'],
    )
}}

{#- The cost decomposition's series in one long shape, per day x vertical:
    (series, contributor_type, contributor) -> requests and cost on the day.
    series `request` (all inference rows, LT team included, their direct
    inference cost) as a total and by endpoint / model / organization (API)
    or process / model (Studio); `idle`, `overhead`, `unused` as a total and
    by gpu_type. Input of int_gpu_costs__decomposition_values.

    An incremental table: a daily run aggregates only the reprocess window
    of request rows (and of the day-grain totals) and replaces those days;
    the trailing windows of int_gpu_costs__decomposition_values read the
    history of this table. -#}

{%- set breakdowns = [
    ('api', 'endpoint', 'endpoint'),
    ('api', 'model', 'model_type'),
    ('api', 'organization', 'organization_name'),
    ('studio', 'process', 'process_name'),
    ('studio', 'model', 'model_type'),
] -%}

with

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

category_gpu_days as (

    select * from {{ ref('int_gpu_costs__category_gpu_days') }}
    where
        cost_category in ('idle', 'overhead', 'unused')
    {% if is_incremental() %}
            and dt >= {{ incremental_start_date() }}
        {% endif %}

),

series_days as (

    select
        dt,
        vertical,
        'request' as series,
        'total' as contributor_type,
        'all' as contributor,
        cast(inference_rows as {{ type_double() }}) as requests,
        inference_cost as cost
    from daily_totals

    {% for category in ['idle', 'overhead', 'unused'] %}
        union all
        select
            dt,
            vertical,
            '{{ category }}' as series,
            'total' as contributor_type,
            'all' as contributor,
            cast(null as {{ type_double() }}) as requests,
            {{ category }}_cost as cost
        from daily_totals
    {% endfor %}

    union all
    select
        dt,
        vertical,
        cost_category as series,
        'gpu_type' as contributor_type,
        gpu_type as contributor,
        cast(null as {{ type_double() }}) as requests,
        row_cost as cost
    from category_gpu_days

    {% for vertical, contributor_type, column in breakdowns %}
        union all
        select
            dt,
            vertical,
            'request' as series,
            '{{ contributor_type }}' as contributor_type,
            {{ column }} as contributor,
            cast(count(*) as {{ type_double() }}) as requests,
            sum(row_cost) as cost
        from costed_requests
        where vertical = '{{ vertical }}'
        group by dt, vertical, {{ column }}
    {% endfor %}

)

select * from series_days
