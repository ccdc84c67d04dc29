{#- Fails on every day x vertical where a GPU cost breakdown mart does not sum
    back to fct_gpu_cost_daily (|difference| > `cost_invariant_tolerance_usd`).
    `measures` maps the mart's column to the daily column it must sum to;
    `vertical` pins a single-vertical mart (api / studio), otherwise the mart's
    own `vertical` column is used. A day missing on either side counts as 0. -#}
{% test sums_back_to_gpu_cost_daily(model, measures, vertical=none) %}

with

mart as (

    select
        dt,
        {% if vertical %}'{{ vertical }}'{% else %}vertical{% endif %} as vertical,
        {% for mart_column in measures %}
            sum({{ mart_column }}) as {{ mart_column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ model }}
    group by 1, 2

),

daily as (

    {#- same rows as the tested mart: get_where_subquery applies the daily test window, if any -#}
    select * from {{ get_where_subquery(ref('fct_gpu_cost_daily'), with_test_where=false) }}
    {% if vertical %}where vertical = '{{ vertical }}'{% endif %}

),

compared as (

    select
        coalesce(mart.dt, daily.dt) as dt,
        coalesce(mart.vertical, daily.vertical) as vertical,
        {% for mart_column, daily_column in measures.items() %}
            coalesce(mart.{{ mart_column }}, 0) as mart_{{ mart_column }},
            coalesce(daily.{{ daily_column }}, 0) as daily_{{ daily_column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from mart
    full outer join daily
        on
            mart.dt = daily.dt
            and mart.vertical = daily.vertical

)

select * from compared
where
    {% for mart_column, daily_column in measures.items() %}
        abs(mart_{{ mart_column }} - daily_{{ daily_column }}) > {{ var('cost_invariant_tolerance_usd') }}
        {% if not loop.last %}or {% endif %}
    {% endfor %}

{% endtest %}
