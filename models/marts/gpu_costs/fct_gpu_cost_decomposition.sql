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
    infra moved is 1). Days without a previous day in the window have no rows.
    Built from int_gpu_costs__decomposition_series_days -> _values ->
    _components; this model adds the shares and ranks. -#}

with

all_rows as (

    select * from {{ ref('int_gpu_costs__decomposition_components') }}
    {% if is_incremental() %}
        where dt >= {{ incremental_start_date() }}
    {% endif %}

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
