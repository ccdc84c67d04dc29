{#- Per usage alert day x segment x metric (from the per-user deltas): the
    tier that holds the largest part of the day's value and its share of it
    (ties by tier name); users without a tier are left out. The concentration
    drill-down replaces a tier breakdown when one tier holds at least
    `usage_concentration_tier_share` (fct_usage_alert_concentration). -#}

with

user_deltas as (

    select * from {{ ref('int_usage__alert_user_deltas') }}

),

tier_values as (

    select
        dt,
        segment,
        metric,
        tier,
        sum(value) as tier_value,
        row_number() over (partition by dt, segment, metric order by sum(value) desc, tier) as tier_rank

    from user_deltas
    where tier is not null
    group by dt, segment, metric, tier

),

tier_totals as (

    select
        dt,
        segment,
        metric,
        sum(tier_value) as total_value

    from tier_values
    group by dt, segment, metric

),

dominant_tiers as (

    select
        tier_values.dt,
        tier_values.segment,
        tier_values.metric,
        tier_values.tier as dominant_tier,
        {{ safe_divide('tier_values.tier_value', 'tier_totals.total_value') }} as dominant_tier_share

    from tier_values
    inner join tier_totals
        on
            tier_values.dt = tier_totals.dt
            and tier_values.segment = tier_totals.segment
            and tier_values.metric = tier_totals.metric
    where tier_values.tier_rank = 1

)

select * from dominant_tiers
