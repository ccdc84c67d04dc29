{#- The monitored metrics of int_gpu_costs__daily_totals in long format, one
    row per day x vertical x metric, with the unit the alerts format them in. -#}

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
    ('idle_share_of_infra', 'fraction'),
    ('unattributed_idle_cost', 'usd'),
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

)

select * from metric_days
