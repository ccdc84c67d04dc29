{#- Every decomposition series (int_gpu_costs__decomposition_series_days)
    on a day against its trailing window: the day's requests and cost and
    their mean over the day's trailing window of ordinary days
    (int_gpu_costs__spike_window_days, as the spike rule's; absent days of a
    series = 0), with the vertical's infra cost and its trailing average. A
    series seen only in the window appears too (a contributor that vanished
    shows its negative change). Days without an ordinary day in the window
    have no rows. -#}

{%- set window_days = var('cost_spike_window_days') | int -%}

with

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}

),

series_days as (

    select * from {{ ref('int_gpu_costs__decomposition_series_days') }}

),

spike_window_days as (

    select * from {{ ref('int_gpu_costs__spike_window_days') }}

),

window_days as (

    select
        current_day.dt,
        current_day.vertical,
        current_day.infra_cost,
        count(history.dt) as baseline_days,
        avg(history.infra_cost) as baseline_infra_cost

    from daily_totals as current_day
    inner join spike_window_days
        on
            current_day.dt = spike_window_days.dt
            and current_day.vertical = spike_window_days.vertical
    inner join daily_totals as history
        on
            spike_window_days.vertical = history.vertical
            and spike_window_days.window_dt = history.dt
    group by current_day.dt, current_day.vertical, current_day.infra_cost

),

keys as (

    {#- every series seen on the day or in its window, so a contributor that
        vanished today shows its (negative) change too -#}
    select distinct
        window_days.dt,
        series_days.vertical,
        series_days.series,
        series_days.contributor_type,
        series_days.contributor

    from series_days
    inner join window_days
        on
            series_days.vertical = window_days.vertical
            and series_days.dt <= window_days.dt
            and series_days.dt >= cast({{ dbt.dateadd('day', -window_days, 'window_days.dt') }} as date)

),

valued as (

    select
        keys.dt,
        keys.vertical,
        keys.series,
        keys.contributor_type,
        keys.contributor,
        max(window_days.baseline_days) as baseline_days,
        max(window_days.infra_cost) as infra_cost,
        max(window_days.baseline_infra_cost) as baseline_infra_cost,
        coalesce(sum(case when history.dt = keys.dt then history.requests end), 0) as requests,
        coalesce(sum(case when spike_window_days.window_dt is not null then history.requests end), 0)
        / max(window_days.baseline_days) as baseline_requests,
        coalesce(sum(case when history.dt = keys.dt then history.cost end), 0) as cost,
        coalesce(sum(case when spike_window_days.window_dt is not null then history.cost end), 0)
        / max(window_days.baseline_days) as baseline_cost

    from keys
    inner join window_days
        on
            keys.dt = window_days.dt
            and keys.vertical = window_days.vertical
    left join series_days as history
        on
            keys.vertical = history.vertical
            and keys.series = history.series
            and keys.contributor_type = history.contributor_type
            and keys.contributor = history.contributor
            and keys.dt >= history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -window_days, 'keys.dt') }} as date)
    left join spike_window_days
        on
            keys.dt = spike_window_days.dt
            and keys.vertical = spike_window_days.vertical
            and history.dt = spike_window_days.window_dt
    group by keys.dt, keys.vertical, keys.series, keys.contributor_type, keys.contributor

)

select * from valued
