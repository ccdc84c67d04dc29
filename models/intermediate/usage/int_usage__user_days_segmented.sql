{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['segment'],
        on_schema_change='append_new_columns',
    )
}}

{#- One row per active user per day with the one segment the user is in that
    day (priority: enterprise contract, enterprise pilot, heavy, paying, free)
    and the contributor used for drill-down (organisation or tier). Members of
    the excluded organisations are dropped here, once. Heavy is decided from
    the previous complete ISO week only, never from the day itself. -#}
{%- set min_days = var('heavy_min_active_days') -%}
{%- set min_tokens = var('heavy_min_weekly_tokens') -%}

with

user_days as (

    select * from {{ ref('stg_web__user_days') }}
    {% if is_incremental() %}
        -- the rebuilt days plus the two calendar weeks before them (previous-week activity)
        where dt >= {{ incremental_start_date(14) }}
    {% endif %}

),

enterprise_members as (

    select * from {{ ref('int_usage__enterprise_members') }}

),

weekly_activity as (

    select
        lt_id,
        {{ week_start('dt') }} as week_start,
        count(*) as active_days,
        sum(coalesce(tokens_consumed, 0)) as tokens

    from user_days
    group by 1, 2

),

with_context as (

    select
        user_days.dt,
        user_days.lt_id,
        user_days.tier_name,
        coalesce(user_days.tokens_consumed, 0) as tokens,
        coalesce(user_days.image_generations, 0) as image_generations,
        coalesce(user_days.video_generations, 0) as video_generations,
        (
            user_days.tokens_consumed is null
            or user_days.image_generations is null
            or user_days.video_generations is null
        ) as has_null_metric,
        enterprise_members.segment as enterprise_segment,
        enterprise_members.reporting_organization,
        coalesce(enterprise_members.is_excluded, false) as is_excluded,
        coalesce(previous_week.active_days, 0) as previous_week_active_days,
        coalesce(previous_week.tokens, 0) as previous_week_tokens

    from user_days
    left join enterprise_members
        on user_days.lt_id = enterprise_members.lt_id
    left join weekly_activity as previous_week
        on
            user_days.lt_id = previous_week.lt_id
            and previous_week.week_start = cast({{ dbt.dateadd('day', -7, week_start('user_days.dt')) }} as date)

),

tiered as (

    select
        *,
        case lower(trim(tier_name))
            when 'free' then 'Free'
            when 'lite' then 'Lite'
            when 'standard' then 'Standard'
            when 'pro' then 'Pro'
            else 'Free'
        end as tier,
        coalesce(lower(trim(tier_name)) not in ('free', 'lite', 'standard', 'pro'), true) as is_unknown_tier,
        {% if min_days is none and min_tokens is none -%}
            false
        {%- else -%}
            enterprise_segment is null
            {%- if min_days is not none %}
                and previous_week_active_days >= {{ min_days }}
            {%- endif %}
            {%- if min_tokens is not none %}
                and previous_week_tokens >= {{ min_tokens }}
            {%- endif %}
        {%- endif %} as is_heavy

    from with_context
    where not is_excluded

),

segmented as (

    select
        dt,
        lt_id,
        case
            when enterprise_segment is not null then enterprise_segment
            when is_heavy then 'heavy'
            when tier in ('Lite', 'Standard', 'Pro') then 'paying'
            else 'free'
        end as segment,
        case when enterprise_segment is not null then 'organization' else 'tier' end as contributor_type,
        coalesce(reporting_organization, tier) as contributor,
        tier,
        tier_name as raw_tier_name,
        is_unknown_tier,
        reporting_organization as organization,
        previous_week_active_days,
        previous_week_tokens,
        tokens,
        image_generations,
        video_generations,
        has_null_metric

    from tiered
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

)

select * from segmented
