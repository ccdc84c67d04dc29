{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment', 'metric'],
    )
}}

{#- Every segment x metric x day from the first to the last loaded day,
    zero-filled: a segment with no active user on a day has value 0 (the day
    is not skipped). `raw_rows_on_day` = 0 marks a day with no raw rows at all
    (an ingestion gap, flagged downstream). -#}

with

segmented as (

    select * from {{ ref('int_usage__user_days_segmented') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

user_days as (

    select * from {{ ref('stg_web__user_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

bounds as (

    select
        {% if is_incremental() -%}
            greatest({{ incremental_start_date() }}, (select min(dt) from {{ this }})) as first_day,
        {%- else -%}
            min(dt) as first_day,
        {%- endif %}
        max(dt) as last_day

    from user_days
    having max(dt) is not null

),

days as (

    {{ days_between('bounds', 'first_day', 'last_day') }}

),

segments as (

    {{ values_as_rows(usage_segments(), 'segment') }}

),

raw_rows_per_day as (

    select
        dt,
        count(*) as raw_rows

    from user_days
    group by 1

),

segment_totals as (

    select
        dt,
        segment,
        {%- for metric, aggregate in usage_metric_definitions().items() %}
            {{ aggregate }} as {{ metric }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from segmented
    group by 1, 2

),

filled as (

    select
        days.dt,
        segments.segment,
        coalesce(raw_rows_per_day.raw_rows, 0) as raw_rows_on_day,
        {%- for metric in usage_metrics() %}
            coalesce(segment_totals.{{ metric }}, 0) as {{ metric }}{% if not loop.last %},{% endif %}
        {%- endfor %}

    from days
    cross join segments
    left join segment_totals
        on
            days.dt = segment_totals.dt
            and segments.segment = segment_totals.segment
    left join raw_rows_per_day
        on days.dt = raw_rows_per_day.dt

),

unpivoted as (

    {% for metric in usage_metrics() %}
        select
            dt,
            segment,
            '{{ metric }}' as metric,
            cast({{ metric }} as {{ type_double() }}) as value,
            raw_rows_on_day
        from filled
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        dt,
        segment,
        metric,
        value,
        {{ day_of_week('dt') }} as day_of_week,
        raw_rows_on_day

    from unpivoted

)

select * from final
