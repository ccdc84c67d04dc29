{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
    )
}}

{#- Segment metrics split by contributor (organisation for enterprise
    segments, tier otherwise), per day. Sparse: a contributor without activity
    on a day has no row; the drivers mart treats a missing row as 0. The
    contributors of a segment-day add up to the segment-day value. -#}

with

segmented as (

    select * from {{ ref('int_usage__user_days_segmented') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

contributor_totals as (

    select
        dt,
        segment,
        contributor_type,
        contributor,
        {%- for metric, aggregate in usage_metric_definitions().items() %}
            {{ aggregate }} as {{ metric }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from segmented
    group by 1, 2, 3, 4

),

unpivoted as (

    {% for metric in usage_metrics() %}
        select
            dt,
            segment,
            '{{ metric }}' as metric,
            contributor_type,
            contributor,
            cast({{ metric }} as {{ type_double() }}) as value
        from contributor_totals
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from unpivoted
