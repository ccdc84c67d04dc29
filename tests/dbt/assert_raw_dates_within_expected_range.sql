-- Names the raw rows the staging models quarantine: dated before var first_data_day or
-- after run date + 1 (macro dt_is_expected). One row per source and stray date, with its
-- row count; the rows are kept in main_dbt_test__audit.assert_raw_dates_within_expected_range
-- (store_failures). Warn: the rows are left out of every model (they stay in raw), so the
-- build and its alerts go on; fix or delete them upstream. docs/data-inputs.md.
-- Reads only the stray partitions of raw (normally none): the filter is on `dt`.
{{ config(severity='warn', store_failures=true) }}

{%- set raw_tables = [
    ('usage', source('web', 'ltxstudio_agg_user_date')),
    ('gpu_costs', source('gpu_costs', 'gpu_request_attribution_and_cost')),
] %}

with

{% for name, relation in raw_tables %}
    {{ name }}_stray as (

        select
            '{{ name }}' as source,
            {{ utc_date('dt', relation) }} as dt,
            count(*) as raw_rows

        from {{ relation }}
        where not ({{ dt_is_expected(utc_date('dt', relation)) }})
        group by 2

    ),
{% endfor %}

final as (

    {% for name, _ in raw_tables %}
        select * from {{ name }}_stray
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select * from final
