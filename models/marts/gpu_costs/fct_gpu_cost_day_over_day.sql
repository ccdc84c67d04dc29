{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='dt',
        partition_by=day_partition(),
        cluster_by=['vertical'],
    )
}}

{#- Analysis 4, day-over-day: each day x vertical against the previous calendar
    day. `*_pct_change` is a fraction ((today - yesterday) / yesterday; null
    when yesterday is 0 or missing). -#}

{%- set metrics = ['infra_cost', 'customer_fully_loaded_cost', 'requests', 'cost_per_request'] -%}

with

metric_baselines as (

    select * from {{ ref('int_gpu_costs__metric_baselines') }}
    where
        metric in ({{ sql_string_list(metrics) }})
    {% if is_incremental() %}
            and dt >= {{ incremental_start_date() }}
        {% endif %}

),

pivoted as (

    select
        dt,
        vertical,
        {% for metric in metrics %}
            max(case when metric = '{{ metric }}' then value end) as {{ metric }},
            max(case when metric = '{{ metric }}' then previous_day_value end) as previous_day_{{ metric }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}

    from metric_baselines
    group by dt, vertical

),

final as (

    select
        dt,
        vertical,
        {% for metric in metrics %}
            {{ metric }},
            previous_day_{{ metric }},
            {{ metric }} - previous_day_{{ metric }} as {{ metric }}_change,
            {{ safe_divide(metric ~ ' - previous_day_' ~ metric, 'previous_day_' ~ metric) }} as {{ metric }}_pct_change
            {%- if not loop.last %},{% endif %}
        {% endfor %}

    from pivoted

)

select * from final
