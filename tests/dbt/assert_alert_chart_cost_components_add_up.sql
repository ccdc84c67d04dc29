{#- The category components of a cost alert's bar add up to the vertical's
    infrastructure change against the same baseline (fct_gpu_cost_daily). -#}

{%- set short_days = var('cost_spike_window_days') | int -%}

with

components as (

    select
        alert_id,
        alert_date,
        vertical,
        sum(delta_usd) as delta_usd

    from {{ ref('fct_alert_chart_cost_components') }}
    group by alert_id, alert_date, vertical

),

daily as (

    select * from {{ ref('fct_gpu_cost_daily') }}

),

expected as (

    select
        components.alert_id,
        components.delta_usd,
        max(case when daily.dt = components.alert_date then daily.infra_cost end)
        - avg(case when daily.dt < components.alert_date then daily.infra_cost end) as infra_change

    from components
    inner join daily
        on
            components.vertical = daily.vertical
            and components.alert_date >= daily.dt
            and cast({{ dbt.dateadd('day', -short_days, 'components.alert_date') }} as date) <= daily.dt
    group by components.alert_id, components.delta_usd

)

select * from expected
where abs(delta_usd - infra_change) > {{ var('cost_invariant_tolerance_usd') }}
