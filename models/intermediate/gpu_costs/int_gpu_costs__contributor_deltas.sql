{#- Who drove a day's change: per day x vertical x breakdown (API: endpoint,
    model, organisation; Studio: process, model) x contributor x driver metric,
    the day's value against two baselines (the previous day; the mean over the
    day's trailing window of ordinary days, int_gpu_costs__spike_window_days,
    as the spike rule's - a contributor absent on a day counting as 0), its
    delta and its share of the breakdown's total delta.
    Driver metrics: fully_loaded_cost / inference_cost / attributed_idle_cost
    (all inference rows, LT team included: infrastructure view) and
    failed_requests (customers only, as the failure rate). `contributor_rank`
    1 is the largest increase.
    Failures are compared at today's traffic: a contributor's baseline is the
    failures expected from today's customer requests at its failures per
    request of the baseline (window, or previous day). The deltas then add up
    to the vertical's excess failures, requests x (today's failure rate - the
    baseline's), so they have the failure rate's sign: a failure-rate rise on
    a quiet day is not explained by failures that fell with the traffic.
    The contributors' daily values come from
    int_gpu_costs__contributor_metric_days. A total delta below 1e-9 in
    absolute value is float noise: it is 0 and the shares are null. -#}

{%- set window_days = var('cost_spike_window_days') | int -%}
{#- |total delta| below this is float noise, i.e. 0 (USD or requests) -#}
{%- set zero_delta = '1e-9' -%}

with

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}

),

contributor_metric_days as (

    select * from {{ ref('int_gpu_costs__contributor_metric_days') }}

),

spike_window_days as (

    select * from {{ ref('int_gpu_costs__spike_window_days') }}

),

window_days as (

    select
        spike_window_days.dt,
        spike_window_days.vertical,
        count(*) as days_in_window,
        sum(window_totals.requests) as window_requests

    from spike_window_days
    left join daily_totals as window_totals
        on
            spike_window_days.vertical = window_totals.vertical
            and spike_window_days.window_dt = window_totals.dt
    group by spike_window_days.dt, spike_window_days.vertical

),

day_requests as (

    select
        day_totals.dt,
        day_totals.vertical,
        day_totals.requests,
        previous_totals.requests as previous_day_requests

    from daily_totals as day_totals
    left join daily_totals as previous_totals
        on
            day_totals.vertical = previous_totals.vertical
            and previous_totals.dt = cast({{ dbt.dateadd('day', -1, 'day_totals.dt') }} as date)

),

keys as (

    {#- every contributor seen on the day or in its window, so a contributor
        that vanished today shows its (negative) delta too -#}
    select distinct
        day_spine.dt,
        contributor_metric_days.vertical,
        contributor_metric_days.contributor_type,
        contributor_metric_days.contributor,
        contributor_metric_days.driver_metric

    from contributor_metric_days
    inner join daily_totals as day_spine
        on
            contributor_metric_days.vertical = day_spine.vertical
            and contributor_metric_days.dt <= day_spine.dt
            and contributor_metric_days.dt >= cast({{ dbt.dateadd('day', -window_days, 'day_spine.dt') }} as date)

),

valued as (

    select
        keys.dt,
        keys.vertical,
        keys.contributor_type,
        keys.contributor,
        keys.driver_metric,
        coalesce(sum(case when history.dt = keys.dt then history.value end), 0) as value,
        coalesce(
            sum(case when history.dt = cast({{ dbt.dateadd('day', -1, 'keys.dt') }} as date) then history.value end),
            0
        ) as previous_day_value,
        coalesce(sum(case when spike_window_days.window_dt is not null then history.value end), 0) as window_sum

    from keys
    left join contributor_metric_days as history
        on
            keys.vertical = history.vertical
            and keys.contributor_type = history.contributor_type
            and keys.contributor = history.contributor
            and keys.driver_metric = history.driver_metric
            and keys.dt >= history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -window_days, 'keys.dt') }} as date)
    left join spike_window_days
        on
            keys.dt = spike_window_days.dt
            and keys.vertical = spike_window_days.vertical
            and history.dt = spike_window_days.window_dt
    group by keys.dt, keys.vertical, keys.contributor_type, keys.contributor, keys.driver_metric

),

baselines as (

    select
        valued.dt,
        valued.vertical,
        valued.contributor_type,
        valued.contributor,
        valued.driver_metric,
        'previous_day' as baseline_kind,
        valued.value,
        case
            when valued.driver_metric = 'failed_requests'
                then
                    {{ safe_divide(
                        'valued.previous_day_value * day_requests.requests', 'day_requests.previous_day_requests'
                    ) }}
            else valued.previous_day_value
        end as baseline

    from valued
    left join day_requests
        on
            valued.dt = day_requests.dt
            and valued.vertical = day_requests.vertical

    union all

    select
        valued.dt,
        valued.vertical,
        valued.contributor_type,
        valued.contributor,
        valued.driver_metric,
        'short_window_mean' as baseline_kind,
        valued.value,
        case
            when valued.driver_metric = 'failed_requests'
                then {{ safe_divide('valued.window_sum * day_requests.requests', 'window_days.window_requests') }}
            else {{ safe_divide('valued.window_sum', 'window_days.days_in_window') }}
        end as baseline

    from valued
    left join window_days
        on
            valued.dt = window_days.dt
            and valued.vertical = window_days.vertical
    left join day_requests
        on
            valued.dt = day_requests.dt
            and valued.vertical = day_requests.vertical

),

deltas as (

    select
        *,
        value - coalesce(baseline, 0) as delta

    from baselines

),

summed as (

    select
        *,
        sum(delta) over (partition by dt, vertical, contributor_type, driver_metric, baseline_kind) as summed_delta

    from deltas

),

with_totals as (

    {#- a total below `zero_delta` is float noise (deltas that cancel in exact
        arithmetic sum to ~1e-17 in doubles): 0, so no share of ~1e15 -#}
    select
        dt,
        vertical,
        contributor_type,
        contributor,
        driver_metric,
        baseline_kind,
        value,
        baseline,
        delta,
        case when abs(summed_delta) < {{ zero_delta }} then 0 else summed_delta end as total_delta

    from summed

),

final as (

    select
        *,
        {{ safe_divide('delta', 'total_delta') }} as share_of_delta,
        row_number() over (
            partition by dt, vertical, contributor_type, driver_metric, baseline_kind
            order by delta desc, contributor asc
        ) as contributor_rank

    from with_totals

)

select * from final
