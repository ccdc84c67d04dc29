{#- The decomposition's components from the valued series
    (int_gpu_costs__decomposition_values), per day x vertical:

      request_volume  (requests - baseline requests) x baseline cost per request
                      (the whole inference change without a baseline request)
      request_rate    the rest of the inference change
      idle, overhead, unused   the category's cost - its baseline

    for the totals and every contributor (each against its own baseline),
    plus one `(mix)` row per request breakdown (the vertical's component
    minus the sum of its contributors: traffic moving between contributors of
    different cost per request), so every breakdown adds up to its component.
    Shares and ranks: fct_gpu_cost_decomposition. -#}

with

valued as (

    select * from {{ ref('int_gpu_costs__decomposition_values') }}

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

    {#- the request series split in two: volume and rate (the rest) -#}
    {% for component, delta in [
        ('request_volume', 'volume_effect'),
        ('request_rate', '(cost - baseline_cost) - volume_effect'),
    ] %}
        select
            dt,
            vertical,
            '{{ component }}' as component,
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
            {{ delta }} as delta_usd
        from request_split

        union all
    {% endfor %}

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

)

select * from all_rows
