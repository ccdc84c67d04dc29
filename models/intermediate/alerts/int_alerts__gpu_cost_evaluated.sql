{#- A table, not a view: computed once per run; the candidates, the drivers mart
    and the tests read the result instead of re-running the rules. -#}
{{ config(materialized='table') }}

{#- Evaluates every declared gpu_cost rule (var `alert_rules`, domain gpu_cost)
    on the finalised cost days (dt <= run date - `cost_finalisation_days`): one
    row per day x vertical x metric x rule that fired. Every cost rule watches
    increases. Nothing here names a rule: a rule's declaration says which
    metrics it watches, which baseline (`cost_alert_baselines`) it compares
    with, what its threshold is compared with (threshold_kind) and who gets it.

    What is compared with the threshold (`breach`): z for `z` rules (severity by
    the cost z bands, fires above the notice band); the change vs the baseline
    for `fraction_change`; the value for `absolute` and `ratio`. Non-z rules:
    warning when breached, critical when the breach is at least
    `cost_threshold_critical_factor` x the threshold. A rule does not fire when
    its baseline has fewer points than the baseline's `min_points`. -#}

{%- set factor = var('cost_threshold_critical_factor') -%}
{%- set baselines = var('cost_alert_baselines') -%}
{%- set null_double = 'cast(null as ' ~ type_double() ~ ')' -%}

with

metric_baselines as (

    select * from {{ ref('int_gpu_costs__metric_baselines') }}
    where dt <= {{ cost_finalised_through() }}

),

rule_rows as (

    {% for rule in alert_rules('gpu_cost') %}
        {%- set b = baselines[rule['baseline_kind']] -%}
        {%- set min_points = number_or_var(b.get('min_points', 0)) | int -%}
        {%- set pct = safe_divide('value - ' ~ b['mean'], b['mean']) -%}
        {%- set breach = {'z': b.get('z', null_double), 'fraction_change': pct}.get(rule['threshold_kind'], 'value') -%}
        select
            dt,
            vertical,
            metric,
            unit,
            value,
            '{{ rule["name"] }}' as rule,
            {{ loop.index }} as rule_order,
            '{{ rule["threshold_kind"] }}' as threshold_kind,
            '{{ b["reported_as"] }}' as baseline_kind,
            {{ b['mean'] }} as baseline_mean,
            {{ b.get('stddev', null_double) }} as baseline_stddev,
            {{ "'" ~ b['stddev_kind'] ~ "'" if b.get('stddev_kind') else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
                as baseline_stddev_kind,
            cast({{ b['points'] }} as {{ dbt.type_bigint() }}) as baseline_points,
            {{ b.get('z', null_double) }} as z_score,
            {{ pct }} as pct_change,
            cast({{ rule_threshold_sql(rule) }} as {{ type_double() }}) as threshold,
            {{ breach }} as breach,
            {%- if min_points > 0 %}
                {{ b['points'] }} < {{ min_points }} as has_insufficient_baseline,
            {%- else %}
                cast(null as {{ dbt.type_boolean() }}) as has_insufficient_baseline,
            {%- endif %}
            {{ rule_team_sql(rule) }} as team,
            '{{ b["drivers"] }}' as driver_baseline_kind
        from metric_baselines
        where
            metric in ({{ sql_string_list(rule["metrics"]) }})
            and {{ b['points'] }} >= {{ min_points }}
            {%- if rule['threshold_kind'] == 'z' %}
                and {{ severity_from_z(breach, 'gpu_cost') }} != 'none'
            {%- endif %}
            and {{ breach }} > cast({{ rule_threshold_sql(rule) }} as {{ type_double() }})
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

severities as (

    select
        *,
        case
            when threshold_kind = 'z' then {{ severity_from_z('breach', 'gpu_cost') }}
            when breach >= {{ factor }} * threshold then 'critical'
            else 'warning'
        end as severity

    from rule_rows

),

final as (

    select
        {{ alert_id("'gpu_cost'", 'dt', 'vertical', 'metric', 'rule') }} as alert_id,
        dt,
        vertical,
        metric,
        unit,
        value,
        rule,
        rule_order,
        threshold_kind,
        baseline_kind,
        baseline_mean,
        baseline_stddev,
        baseline_stddev_kind,
        baseline_points,
        z_score,
        pct_change,
        {#- the band the alert crossed: a CRITICAL shows the critical band -#}
        case
            when threshold_kind = 'z' then cast({{ z_band_threshold('severity', 'gpu_cost') }} as {{ type_double() }})
            when severity = 'critical' then {{ factor }} * threshold
            else threshold
        end as threshold,
        breach,
        has_insufficient_baseline,
        team,
        driver_baseline_kind,
        severity,
        {#- who can carry the change: requests (by customer) for inference and
            failures; idle by GPU type (never by customer); anything else the
            infrastructure total by cost category -#}
        case
            when metric = 'inference_cost' then 'inference_cost'
            when metric in ('idle_cost', 'idle_inference_ratio', 'unattributed_idle_cost') then 'idle_cost'
            when metric = 'failure_rate' then 'failed_requests'
            else 'infra_cost'
        end as driver_metric,
        case metric
            {%- for metric, cause in var('cost_metric_causes').items() %}
                when '{{ metric }}' then '{{ cause }}'
            {%- endfor %}
            else 'infra'
        end as cause

    from severities

)

select * from final
