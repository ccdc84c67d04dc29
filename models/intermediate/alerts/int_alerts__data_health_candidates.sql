{#- The data_health candidates of fct_alerts (rule `data_completeness`): one
    row per source x due day whose status is `incomplete` (warning) or
    `missing` (critical). current_value = the rows the day is judged on
    (usage: every row; gpu_costs: the infrastructure rows), baseline_mean =
    their expectation. The summary is fct_data_health's reason: for usage
    it gives both readings (a partial load or a real collapse) and what
    tells them apart. -#}
{%- set rule = var('alert_rules')['data_completeness'] -%}
{%- set null_double = 'cast(null as ' ~ type_double() ~ ')' -%}
{%- set null_bool = 'cast(null as ' ~ dbt.type_boolean() ~ ')' -%}

with

health as (

    select * from {{ ref('fct_data_health') }}
    where is_due and status != 'complete'

),

final as (

    select
        {{ alert_id("'data_health'", 'dt', 'source', "'rows'", "'data_completeness'") }} as alert_id,
        dt as alert_date,
        'data_health' as domain,
        '{{ rule["team"] }}' as team,
        source as scope,
        'rows' as metric,
        'data_completeness' as rule,
        1 as primary_order,
        '{{ rule["threshold_kind"] }}' as threshold_kind,
        '{{ rule["baseline_kind"] }}' as baseline_kind,
        'rows' as unit,
        cast(judged_rows as {{ type_double() }}) as current_value,
        expected_rows as baseline_mean,
        {{ null_double }} as baseline_stddev,
        cast(null as {{ dbt.type_string() }}) as baseline_stddev_kind,
        baseline_points,
        {{ null_double }} as z_score,
        {{ null_double }} as robust_z_score,
        {{ safe_divide('judged_rows - expected_rows', 'expected_rows') }} as pct_change,
        cast({{ rule_threshold_sql(rule) }} as {{ type_double() }}) as threshold,
        case status when 'missing' then 'critical' else 'warning' end as severity,
        'decrease' as direction,
        false as is_suppressed,
        cast(null as {{ dbt.type_string() }}) as suppression_reason,
        {{ null_bool }} as is_baseline_valid,
        {{ null_bool }} as has_insufficient_baseline,
        {{ null_bool }} as is_low_variance,
        {{ null_bool }} as has_baseline_outlier,
        cast(null as date) as baseline_outlier_date,
        concat(status, ': ', status_reason) as drivers_summary,
        concat(
            case
                when status = 'missing' then 'CRITICAL: no data. '
                when source = 'usage' then 'WARNING: fewer active users than expected: a partial load or a real drop. '
                else 'WARNING: partial load (infrastructure rows missing). '
            end,
            {{ rule_action_sql(rule) }}
        ) as recommended_action,
        'data_completeness' as cause

    from health

)

select * from final
