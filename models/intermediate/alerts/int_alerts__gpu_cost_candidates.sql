{#- The gpu_cost candidates of fct_alerts: every declared cost rule that fired
    (int_alerts__gpu_cost_evaluated) in the candidate columns, with a short
    plain-text drivers summary for analysts (the rank-1 contributor of each
    breakdown from fct_gpu_cost_alert_drivers; GPU type / cost category
    before endpoint / process before model before organisation: an idle rise
    names GPU types, never a customer) and the recommended action (severity + the rule's
    declared action). Validity flags that do not apply to cost rules are null. -#}

{%- set null_double = 'cast(null as ' ~ type_double() ~ ')' -%}

with

evaluated as (

    select * from {{ ref('int_alerts__gpu_cost_evaluated') }}

),

drivers as (

    select * from {{ ref('fct_gpu_cost_alert_drivers') }}
    where contributor_rank = 1

),

driver_labels as (

    select
        alert_id,
        breakdown_order,
        baseline_kind,
        unit,
        concat(
            replace(contributor_type, '_', ' '),
            ' ',
            contributor,
            ' ',
            case when delta >= 0 then '+' else '-' end,
            case
                when unit = 'count'
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

    from drivers

),

drivers_summary as (

    select
        alert_id,
        concat(
            case max(baseline_kind) when 'previous_day' then 'vs previous day' else 'vs 7-day average' end,
            {#- failed requests are compared at the day's traffic (int_gpu_costs__contributor_deltas) -#}
            case max(unit) when 'count' then ' failure rate: ' else ': ' end,
            {{ dbt.listagg('label', "'; '", 'order by breakdown_order') }}
        ) as drivers_summary

    from driver_labels
    group by alert_id

),

final as (

    select
        evaluated.alert_id,
        evaluated.dt as alert_date,
        'gpu_cost' as domain,
        evaluated.team,
        evaluated.vertical as scope,
        evaluated.metric,
        evaluated.rule,
        evaluated.rule_order as primary_order,
        evaluated.threshold_kind,
        evaluated.baseline_kind,
        evaluated.unit,
        evaluated.value as current_value,
        evaluated.baseline_mean,
        evaluated.baseline_stddev,
        evaluated.baseline_stddev_kind,
        evaluated.baseline_points,
        evaluated.z_score,
        {{ null_double }} as robust_z_score,
        evaluated.pct_change,
        evaluated.threshold,
        evaluated.severity,
        'increase' as direction,
        false as is_suppressed,
        cast(null as {{ dbt.type_string() }}) as suppression_reason,
        not evaluated.has_insufficient_baseline as is_baseline_valid,
        evaluated.has_insufficient_baseline,
        cast(null as {{ dbt.type_boolean() }}) as is_low_variance,
        cast(null as {{ dbt.type_boolean() }}) as has_baseline_outlier,
        cast(null as date) as baseline_outlier_date,
        drivers_summary.drivers_summary,
        concat(
            case evaluated.severity
                when 'critical' then 'CRITICAL: act today. '
                when 'warning' then 'WARNING: investigate. '
                else 'NOTICE: no action unless it persists. '
            end,
            case evaluated.rule
                {%- for rule in alert_rules('gpu_cost') %}
                    when '{{ rule["name"] }}' then {{ rule_action_sql(rule, 'evaluated.dt', 'evaluated.metric') }}
                {%- endfor %}
            end
        ) as recommended_action,
        evaluated.cause

    from evaluated
    left join drivers_summary
        on evaluated.alert_id = drivers_summary.alert_id

)

select * from final
