-- Source freshness judged against the run date (var `run_date`, default today),
-- not the wall clock, so `make daily RUN_DATE=...` replays a morning of history.
-- Fails (one row per stale source) when the source's last loaded day is older
-- than its `error_after` freshness in models/staging/sources.yml (read from
-- the graph, said once) counted back from the run date. `make daily` runs this
-- first (tag freshness) and stops on a failure. Enabled only by the var
-- `check_freshness` (the daily path): a plain `dbt build` on historical data
-- must not depend on the wall clock.
-- Its failing rows are stored (store_failures): `alerting pipeline-health` names each
-- stale source and its last loaded day from them.
{{ config(severity='error', tags=['freshness'], enabled=var('check_freshness', false), store_failures=true) }}

{%- set limits = {} -%}
{%- if execute -%}
    {%- for node in graph.sources.values() if node.meta.get('data_health_source') -%}
        {%- set error_after = (node.config.get('freshness') or node.get('freshness') or {}).get('error_after') or {} -%}
        {%- set hours = {'minute': 1 / 60, 'hour': 1, 'day': 24}[error_after.get('period', 'hour')] * (error_after.get('count') or 0) -%}
        {%- do limits.update({node.meta['data_health_source']: hours}) -%}
    {%- endfor -%}
{%- endif %}

with

last_loaded as (

    select
        source,
        max(dt) as last_loaded_day

    from {{ ref('fct_data_health') }}
    where row_count > 0
    group by source

),

limits as (

    {% for source, hours in limits.items() %}
        select
            '{{ source }}' as source,
            {{ hours }} as error_after_hours
        {% if not loop.last %}union all{% endif %}
    {% else %}
        select
            'no source declares meta.data_health_source' as source,
            -1 as error_after_hours
    {% endfor %}

)

select
    limits.source,
    last_loaded.last_loaded_day,
    {{ run_date() }} as run_date,
    limits.error_after_hours

from limits
left join last_loaded
    on limits.source = last_loaded.source
where
    last_loaded.last_loaded_day is null
    or 24 * {{ dbt.datediff('last_loaded.last_loaded_day', run_date(), 'day') }} > limits.error_after_hours
