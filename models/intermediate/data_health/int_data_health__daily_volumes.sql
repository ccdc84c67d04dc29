{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        on_schema_change='append_new_columns',
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['source'],
    )
}}

{#- What each raw source delivered per loaded day: usage rows (= active users:
    one row per user per day), distinct users and tokens; GPU cost rows and
    their cost (SUM(row_cost) over every category = the infrastructure total).
    `judged_rows` are the rows fct_data_health judges completeness on: usage,
    every row (the rows are the traffic); GPU costs, the infrastructure rows
    only (idle / overhead / unused per vertical and GPU type), which exist
    whether or not a request arrives: an outage (no request rows) is not a
    partial load. Incremental: a daily run reads only the reprocess window of
    the raw tables.

    `unusable_reason` (null when none): why the day's rows cannot be used as they are,
    whatever their number; fct_data_health then marks the day `incomplete` with it.
      * usage: a count column without a single value on the day. A column missing or
        renamed in the day's Parquet file is read as null (union_by_name), and a null
        count is 0 in the segment sums: "Current: 0, -100 %" would be posted as a
        collapse. A real day always has values (thousands of active users).
      * gpu_costs: cost rows flagged out of bounds in staging (is_within_bounds): their
        value is kept out of every statistic, so the day's totals are short of it. -#}

{%- set usage_counts = ['num_tokens_consumed', 'num_generate_image', 'num_generate_video'] -%}
{%- set usage_raw_columns = ['raw_tokens_consumed', 'raw_image_generations', 'raw_video_generations'] %}

with

user_days as (

    select * from {{ ref('stg_web__user_days') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

request_costs as (

    select * from {{ ref('stg_gpu_costs__request_costs') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

),

usage_volumes as (

    select
        dt,
        'usage' as source,
        cast(count(*) as {{ dbt.type_bigint() }}) as loaded_rows,
        cast(count(*) as {{ dbt.type_bigint() }}) as judged_rows,
        cast(count(distinct lt_id) as {{ dbt.type_bigint() }}) as dau,
        cast(sum(tokens_consumed) as {{ dbt.type_bigint() }}) as tokens,
        cast(null as {{ type_double() }}) as cost_usd,
        nullif(concat(
            {%- for column in usage_raw_columns %}
                case when count({{ column }}) = 0 then '{{ usage_counts[loop.index0] }} ' else '' end,
            {%- endfor %}
            ''
        ), '') as columns_without_values

    from user_days
    group by dt

),

usage_checked as (

    select
        dt,
        source,
        loaded_rows,
        judged_rows,
        dau,
        tokens,
        cost_usd,
        case when columns_without_values is not null then concat(
            'no value in column(s) ', trim(columns_without_values),
            ' of the raw usage rows (missing or renamed in the Parquet file?)'
        ) end as unusable_reason

    from usage_volumes

),

gpu_cost_volumes as (

    select
        dt,
        'gpu_costs' as source,
        cast(count(*) as {{ dbt.type_bigint() }}) as loaded_rows,
        cast(sum(case when cost_category != 'inference' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as judged_rows,
        cast(null as {{ dbt.type_bigint() }}) as dau,
        cast(null as {{ dbt.type_bigint() }}) as tokens,
        cast(sum(row_cost) as {{ type_double() }}) as cost_usd,
        case when sum(case when is_within_bounds then 0 else 1 end) > 0 then concat(
            cast(sum(case when is_within_bounds then 0 else 1 end) as {{ dbt.type_string() }}),
            ' cost row(s) negative, not finite or above var max_row_cost_usd',
            ' (kept out of every statistic; see stg_gpu_costs__request_costs where not is_within_bounds)'
        ) end as unusable_reason

    from request_costs
    group by dt

),

final as (

    select * from usage_checked
    union all
    select * from gpu_cost_volumes

)

select * from final
