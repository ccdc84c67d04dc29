{#- Every monitored cost metric per day x vertical, with the comparison values
    the analyses and alert rules need, all taken strictly BEFORE the day:
      * rolling baseline: mean, sample stddev and count of the previous
        `cost_baseline_days` calendar days (the z-score baseline);
      * the mean of the previous `cost_spike_window_days` days (spike rule,
        efficiency drift);
      * the previous day's value (day-over-day) and the value 7 days earlier
        (week-over-week).
    Days without data are simply absent from a window (no zero-fill: a missing
    cost day is an ingestion problem the source freshness test reports, not a
    $0 day). z = (value - mean) / sample stddev, null below
    `cost_baseline_min_points` points or when sigma is 0. Null values (e.g. cost per request on a day without requests) do
    not enter the means. -#}

{%- set metrics = [
    ('infra_cost', 'usd'),
    ('inference_cost', 'usd'),
    ('idle_cost', 'usd'),
    ('fully_loaded_inference_cost', 'usd'),
    ('customer_fully_loaded_cost', 'usd'),
    ('requests', 'count'),
    ('failure_rate', 'rate'),
    ('cost_per_request', 'usd_per_request'),
    ('idle_inference_ratio', 'ratio'),
] -%}

with

daily_totals as (

    select * from {{ ref('int_gpu_costs__daily_totals') }}

),

metric_days as (

    {% for metric, unit in metrics %}
        select
            dt,
            vertical,
            '{{ metric }}' as metric,
            '{{ unit }}' as unit,
            cast({{ metric }} as {{ type_double() }}) as value
        from daily_totals
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

windows as (

    select
        current_day.dt,
        current_day.vertical,
        current_day.metric,
        avg(history.value) as baseline_mean,
        stddev_samp(history.value) as baseline_stddev,
        count(history.value) as baseline_points,
        avg(
            case
                when history.dt >= cast({{ dbt.dateadd('day', -(var('cost_spike_window_days') | int), 'current_day.dt') }} as date)
                    then history.value
            end
        ) as short_window_mean,
        count(
            case
                when history.dt >= cast({{ dbt.dateadd('day', -(var('cost_spike_window_days') | int), 'current_day.dt') }} as date)
                    then history.value
            end
        ) as short_window_points,
        max(
            case when history.dt = cast({{ dbt.dateadd('day', -1, 'current_day.dt') }} as date) then history.value end
        ) as previous_day_value,
        max(
            case when history.dt = cast({{ dbt.dateadd('day', -7, 'current_day.dt') }} as date) then history.value end
        ) as same_day_last_week_value

    from metric_days as current_day
    inner join metric_days as history
        on
            current_day.vertical = history.vertical
            and current_day.metric = history.metric
            and history.dt < current_day.dt
            and history.dt >= cast({{ dbt.dateadd('day', -(var('cost_baseline_days') | int), 'current_day.dt') }} as date)
    group by current_day.dt, current_day.vertical, current_day.metric

),

joined as (

    select
        metric_days.dt,
        metric_days.vertical,
        metric_days.metric,
        metric_days.unit,
        metric_days.value,
        windows.baseline_mean,
        windows.baseline_stddev,
        coalesce(windows.baseline_points, 0) as baseline_points,
        windows.short_window_mean,
        coalesce(windows.short_window_points, 0) as short_window_points,
        windows.previous_day_value,
        windows.same_day_last_week_value

    from metric_days
    left join windows
        on
            metric_days.dt = windows.dt
            and metric_days.vertical = windows.vertical
            and metric_days.metric = windows.metric

),

final as (

    select
        *,
        case
            when baseline_points >= {{ var('cost_baseline_min_points') }} and baseline_stddev > 0
                then (value - baseline_mean) / baseline_stddev
        end as z_score,
        {{ safe_divide('value - baseline_mean', 'baseline_mean') }} as pct_change,
        baseline_points < {{ var('cost_baseline_min_points') }} as has_insufficient_baseline

    from joined

)

select * from final
