{#- A table, not a view: computed once per run; fct_alerts and the tests read the
    result instead of re-running the rules once per test. -#}
{{ config(materialized='table') }}

{#- The gpu_cost rows of fct_alerts (same columns, same order as the usage
    rows). Evaluated only on finalised cost days (dt <= run date -
    `cost_finalisation_days`). One row per day x vertical x metric x rule that
    fired; every rule watches increases (cost going up). Routing: API -> api,
    Studio -> studio; the spike-vs-7-day-average rule -> engineering.

    Severity: cost_zscore by z in the cost bands (notice > 2, warning > 3,
    critical > 4.5). Threshold rules: warning when breached, critical when the
    value (for the percentage rules: the change) is at least
    `cost_threshold_critical_factor` x the threshold.

    drivers_summary: per breakdown (API: endpoint, model, organisation;
    Studio: process, model) the contributor with the largest increase of the
    metric's driver measure and its share of the breakdown's total change, vs
    the previous day (day_over_day_jump) or the 7-day average (other rules).
    Raw text (org names are user-controlled): the alerting module escapes it. -#}

{%- set factor = var('cost_threshold_critical_factor') -%}
{%- set cpr = var('cost_per_request_threshold_usd') -%}
{%- set dod = var('day_over_day_jump_pct') -%}
{%- set null_double = 'cast(null as ' ~ type_double() ~ ')' -%}
{#- rule: (metrics it watches, baseline_mean, baseline_stddev, z_score,
    pct_change, threshold, breach = what is compared with the threshold,
    extra condition, driver baseline kind) -#}
{%- set rules = [
    ('cost_zscore', ['infra_cost', 'inference_cost', 'idle_cost', 'failure_rate', 'cost_per_request'],
        'baseline_mean', 'baseline_stddev', 'z_score', 'pct_change', null_double, 'z_score',
        'z_score > ' ~ var('cost_z_notice'), 'short_window_mean'),
    ('cost_spike_vs_7d_avg', ['infra_cost', 'inference_cost', 'idle_cost'],
        'short_window_mean', null_double, null_double, 'short_window_pct_change', var('cost_spike_pct'),
        'short_window_pct_change', 'short_window_points >= ' ~ var('cost_spike_window_days'), 'short_window_mean'),
    ('idle_cost_above_threshold', ['idle_cost'],
        'short_window_mean', null_double, null_double, 'short_window_pct_change', var('idle_cost_threshold_usd'),
        'value', 'true', 'short_window_mean'),
    ('inference_cost_above_threshold', ['inference_cost'],
        'short_window_mean', null_double, null_double, 'short_window_pct_change', var('inference_cost_threshold_usd'),
        'value', 'true', 'short_window_mean'),
    ('idle_inference_ratio_above_threshold', ['idle_inference_ratio'],
        'short_window_mean', null_double, null_double, 'short_window_pct_change', var('idle_inference_ratio_threshold'),
        'value', 'true', 'short_window_mean'),
    ('failure_rate_above_threshold', ['failure_rate'],
        'short_window_mean', null_double, null_double, 'short_window_pct_change', var('failure_rate_threshold'),
        'value', 'true', 'short_window_mean'),
    ('cost_per_request_above_threshold', ['cost_per_request'],
        'short_window_mean', null_double, null_double, 'short_window_pct_change', 'cost_per_request_threshold',
        'value', 'true', 'short_window_mean'),
    ('day_over_day_jump', ['infra_cost'],
        'previous_day_value', null_double, null_double, 'previous_day_pct_change', 'day_over_day_threshold',
        'previous_day_pct_change', 'true', 'previous_day'),
] -%}
{%- set actions = {
    'cost_zscore': 'Far above its rolling baseline: check the top drivers for a new workload, '
        ~ 'model change or retry storm.',
    'cost_spike_vs_7d_avg': 'Spend is more than ' ~ ((var('cost_spike_pct') * 100) | round(1)) ~ ' % above the '
        ~ '7-day average: engineering to confirm it is expected (launch, new customer), not a runaway workload.',
    'idle_cost_above_threshold': 'Idle GPU cost above budget: review autoscaling and reserved capacity; '
        ~ 'scale down idle GPUs.',
    'inference_cost_above_threshold': 'Inference spend above budget: check the top endpoint / model / '
        ~ 'organisation for unexpected volume or a costlier model.',
    'idle_inference_ratio_above_threshold': 'Idle cost far exceeds inference cost: GPUs are mostly idle; '
        ~ 'right-size the fleet.',
    'failure_rate_above_threshold': 'Spend wasted on failed / timed-out requests: check the top endpoint / '
        ~ 'process for errors or timeouts.',
    'cost_per_request_above_threshold': 'Cost per request above target: check model mix, utilisation and failures.',
    'day_over_day_jump': 'Infrastructure cost jumped vs the previous day: check the top drivers.',
} -%}

with

metric_baselines as (

    select * from {{ ref('int_gpu_costs__metric_baselines') }}
    where dt <= {{ cost_finalised_through() }}

),

contributor_deltas as (

    select * from {{ ref('int_gpu_costs__contributor_deltas') }}
    where
        contributor_rank = 1
        and dt <= {{ cost_finalised_through() }}

),

with_thresholds as (

    select
        *,
        case vertical when 'api' then {{ cpr['api'] }} when 'studio' then {{ cpr['studio'] }} end
            as cost_per_request_threshold,
        case vertical when 'api' then {{ dod['api'] }} when 'studio' then {{ dod['studio'] }} end
            as day_over_day_threshold,
        {{ safe_divide('value - short_window_mean', 'short_window_mean') }} as short_window_pct_change,
        {{ safe_divide('value - previous_day_value', 'previous_day_value') }} as previous_day_pct_change

    from metric_baselines

),

rule_rows as (

    {#- one select per rule; `breach` is what is compared with `threshold` (the
        value, or its fractional change for the percentage rules; z for cost_zscore) -#}
    {% for rule, metrics, mean, sd, z, pct, threshold, breach, condition, driver_kind in rules %}
        select
            dt,
            vertical,
            metric,
            unit,
            value,
            {{ mean }} as baseline_mean,
            {{ sd }} as baseline_stddev,
            {{ z }} as z_score,
            {{ pct }} as pct_change,
            cast({{ threshold }} as {{ type_double() }}) as threshold,
            {{ breach }} as breach,
            '{{ rule }}' as rule,
            '{{ driver_kind }}' as driver_baseline_kind
        from with_thresholds
        where
            metric in ('{{ metrics | join("', '") }}')
            and {{ condition }}
            {% if rule != 'cost_zscore' %}and {{ breach }} > {{ threshold }}{% endif %}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

classified as (

    select
        *,
        case
            when rule = 'cost_zscore'
                then
                    case
                        when breach > {{ var('cost_z_critical') }} then 'critical'
                        when breach > {{ var('cost_z_warning') }} then 'warning'
                        else 'notice'
                    end
            when breach >= {{ factor }} * threshold then 'critical'
            else 'warning'
        end as severity,
        case
            when rule = 'cost_spike_vs_7d_avg' then 'engineering'
            else vertical
        end as team,
        case metric
            when 'inference_cost' then 'inference_cost'
            when 'idle_cost' then 'attributed_idle_cost'
            when 'idle_inference_ratio' then 'attributed_idle_cost'
            when 'failure_rate' then 'failed_requests'
            else 'fully_loaded_cost'
        end as driver_metric

    from rule_rows

),

driver_labels as (

    select
        dt,
        vertical,
        driver_metric,
        baseline_kind,
        case contributor_type
            when 'endpoint' then 1
            when 'process' then 1
            when 'model' then 2
            else 3
        end as breakdown_order,
        concat(
            contributor_type,
            ' ',
            contributor,
            ' ',
            case when delta >= 0 then '+' else '-' end,
            case
                when driver_metric = 'failed_requests'
                    then
                        concat(
                            cast(cast(round(abs(delta)) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}),
                            ' failed'
                        )
                else concat('$', {{ format_fixed('abs(delta)', 2) }})
            end,
            case
                when share_of_delta is not null
                    then
                        concat(
                            ' (',
                            cast(
                                cast(round(100 * share_of_delta) as {{ dbt.type_bigint() }}) as {{ dbt.type_string() }}
                            ),
                            '% of change)'
                        )
                else ''
            end
        ) as label

    from contributor_deltas

),

drivers as (

    select
        dt,
        vertical,
        driver_metric,
        baseline_kind,
        concat(
            case baseline_kind when 'previous_day' then 'vs previous day: ' else 'vs 7-day average: ' end,
            {{ dbt.listagg('label', "'; '", 'order by breakdown_order') }}
        ) as drivers_summary

    from driver_labels
    group by dt, vertical, driver_metric, baseline_kind

),

final as (

    select
        {{ alert_id("'gpu_cost'", 'classified.dt', 'classified.vertical', 'classified.metric', 'classified.rule') }}
            as alert_id,
        classified.dt as alert_date,
        'gpu_cost' as domain,
        classified.team,
        classified.vertical as scope,
        classified.metric,
        classified.unit,
        classified.value as current_value,
        classified.baseline_mean,
        classified.baseline_stddev,
        classified.z_score,
        classified.pct_change,
        cast(classified.threshold as {{ type_double() }}) as threshold,
        classified.severity,
        'increase' as direction,
        false as is_suppressed,
        cast(null as {{ dbt.type_string() }}) as suppression_reason,
        classified.rule,
        drivers.drivers_summary,
        concat(
            case classified.severity
                when 'critical' then 'CRITICAL: act today. '
                when 'warning' then 'WARNING: investigate. '
                else 'NOTICE: no action unless it persists. '
            end,
            case classified.rule
                {% for rule, text in actions.items() %}
                    when '{{ rule }}' then '{{ text }}'
                {% endfor %}
            end
        ) as recommended_action

    from classified
    left join drivers
        on
            classified.dt = drivers.dt
            and classified.vertical = drivers.vertical
            and classified.driver_metric = drivers.driver_metric
            and classified.driver_baseline_kind = drivers.baseline_kind

)

select * from final
