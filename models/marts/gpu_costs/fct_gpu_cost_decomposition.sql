{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical', 'component'],
    )
}}

{#- Cost root cause by decomposition: per day x vertical, the change of the
    infrastructure cost against its trailing 7-day average (the mean of the
    previous `cost_spike_window_days` days with data, the day excluded; the
    baseline of the spike rule) split into components that add up to it:

      request_volume  (requests - baseline requests) x baseline cost per request
      request_rate    requests x (cost per request - baseline cost per request)
      idle, overhead, unused   the category's cost - its baseline

    Requests are all inference rows (LT team included: infrastructure view),
    their cost the direct inference cost (row_cost); idle and overhead are
    their own components, never spread over requests. volume + rate = the
    inference change exactly; with no baseline request the whole inference
    change is volume.

    Detail rows (contributor_type != 'total'): idle / overhead / unused by
    gpu_type; the request components by endpoint, model, organization (API)
    or process, model (Studio), each contributor split the same way against
    its own baseline (absent days = 0). Traffic moving between contributors
    of different cost per request counts as volume for the contributors but
    as rate for the vertical: the `(mix)` row of each breakdown holds that
    difference, so every breakdown adds up to its component.

    share_of_change = delta_usd / the vertical's infra change (null when 0);
    share_of_component = delta_usd / the component's total delta_usd.
    Ranks order by the change's direction (the largest push in the direction
    infra moved is 1). Days without a previous day in the window have no rows. -#}

{%- set window_days = var('cost_spike_window_days') | int -%}
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
        where dt >= {{ incremental_start_date(window_days) }}
    {% endif %}

),

costed_requests as (

    select * from {{ ref('int_gpu_costs__costed_requests') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date(window_days) }}
    {% endif %}

),

category_gpu_days as (

    select * from {{ ref('int_gpu_costs__category_gpu_days') }}
    where
        cost_category in ('idle', 'overhead', 'unused')
    {% if is_incremental() %}
            and dt >= {{ incremental_start_date(window_days) }}
        {% endif %}

),

series_days as (

    {#- every series of the decomposition in one long shape: (series,
        contributor_type, contributor) -> requests and cost on a day -#}
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

),

window_days as (

    select
        current_day.dt,
        current_day.vertical,
        current_day.infra_cost,
        count(history.dt) as baseline_days,
        avg(history.infra_cost) as baseline_infra_cost

    from daily_totals as current_day
    inner join daily_totals as history
        on
            current_day.vertical = history.vertical
            and current_day.dt > history.dt
            and history.dt >= cast({{ dbt.dateadd('day', -window_days, 'current_day.dt') }} as date)
    {% if is_incremental() %}
        where current_day.dt >= {{ incremental_start_date() }}
    {% endif %}
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
        coalesce(sum(case when history.dt < keys.dt then history.requests end), 0)
        / max(window_days.baseline_days) as baseline_requests,
        coalesce(sum(case when history.dt = keys.dt then history.cost end), 0) as cost,
        coalesce(sum(case when history.dt < keys.dt then history.cost end), 0)
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
    group by keys.dt, keys.vertical, keys.series, keys.contributor_type, keys.contributor

),

request_split as (

    select
        *,
        {{ safe_divide('cost', 'requests') }} as cost_per_request,
        {{ safe_divide('baseline_cost', 'baseline_requests') }} as baseline_cost_per_request,
        case
            when baseline_requests > 0 then (requests - baseline_requests) * baseline_cost / baseline_requests
            else cost - baseline_cost
        end as volume_effect

    from valued
    where series = 'request'

),

components as (

    select
        dt,
        vertical,
        'request_volume' as component,
        contributor_type,
        contributor,
        baseline_days,
        infra_cost,
        baseline_infra_cost,
        requests,
        baseline_requests,
        cost,
        baseline_cost,
        cost_per_request,
        baseline_cost_per_request,
        volume_effect as delta_usd
    from request_split

    union all

    select
        dt,
        vertical,
        'request_rate' as component,
        contributor_type,
        contributor,
        baseline_days,
        infra_cost,
        baseline_infra_cost,
        requests,
        baseline_requests,
        cost,
        baseline_cost,
        cost_per_request,
        baseline_cost_per_request,
        (cost - baseline_cost) - volume_effect as delta_usd
    from request_split

    union all

    select
        dt,
        vertical,
        series as component,
        contributor_type,
        contributor,
        baseline_days,
        infra_cost,
        baseline_infra_cost,
        cast(null as {{ type_double() }}) as requests,
        cast(null as {{ type_double() }}) as baseline_requests,
        cost,
        baseline_cost,
        cast(null as {{ type_double() }}) as cost_per_request,
        cast(null as {{ type_double() }}) as baseline_cost_per_request,
        cost - baseline_cost as delta_usd
    from valued
    where series != 'request'

),

mix as (

    {#- per request breakdown: the vertical's component minus the sum of its
        contributors' (volume counted by contributors that is rate for the vertical) -#}
    select
        detail.dt,
        detail.vertical,
        detail.component,
        detail.contributor_type,
        '(mix)' as contributor,
        max(total.baseline_days) as baseline_days,
        max(total.infra_cost) as infra_cost,
        max(total.baseline_infra_cost) as baseline_infra_cost,
        cast(null as {{ type_double() }}) as requests,
        cast(null as {{ type_double() }}) as baseline_requests,
        cast(null as {{ type_double() }}) as cost,
        cast(null as {{ type_double() }}) as baseline_cost,
        cast(null as {{ type_double() }}) as cost_per_request,
        cast(null as {{ type_double() }}) as baseline_cost_per_request,
        max(total.delta_usd) - sum(detail.delta_usd) as delta_usd

    from components as detail
    inner join components as total
        on
            detail.dt = total.dt
            and detail.vertical = total.vertical
            and detail.component = total.component
            and total.contributor_type = 'total'
    where
        detail.component in ('request_volume', 'request_rate')
        and detail.contributor_type != 'total'
    group by detail.dt, detail.vertical, detail.component, detail.contributor_type

),

all_rows as (

    select * from components
    union all
    select * from mix

),

shared as (

    select
        all_rows.*,
        'trailing_7d' as baseline_kind,
        all_rows.infra_cost - all_rows.baseline_infra_cost as infra_change,
        case when all_rows.infra_cost >= all_rows.baseline_infra_cost then 1 else -1 end as change_sign,
        sum(case when all_rows.contributor_type = 'total' then all_rows.delta_usd end)
            over (partition by all_rows.dt, all_rows.vertical, all_rows.component)
            as component_delta_usd

    from all_rows

),

final as (

    select
        dt,
        vertical,
        component,
        contributor_type,
        contributor,
        baseline_kind,
        baseline_days,
        infra_cost,
        baseline_infra_cost,
        infra_change,
        requests,
        baseline_requests,
        cost,
        baseline_cost,
        cost_per_request,
        baseline_cost_per_request,
        delta_usd,
        {#- a zero delta is a share of 0 (never -0.0 on a falling day) -#}
        case
            when infra_change = 0 then null
            when delta_usd = 0 then cast(0 as {{ type_double() }})
            else delta_usd / infra_change
        end as share_of_change,
        case
            when component_delta_usd = 0 then null
            when delta_usd = 0 then cast(0 as {{ type_double() }})
            else delta_usd / component_delta_usd
        end as share_of_component,
        case
            when contributor_type = 'total'
                then
                    row_number() over (
                        partition by dt, vertical, contributor_type
                        order by delta_usd * change_sign desc, component asc
                    )
        end as component_rank,
        row_number() over (
            partition by dt, vertical, component, contributor_type
            order by delta_usd * change_sign desc, contributor asc
        ) as contributor_rank

    from shared

)

select * from final
