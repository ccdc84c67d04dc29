{{
    config(
        contract={'enforced': contract_enforced()},
        partition_by=day_partition(),
        cluster_by=['source'],
    )
}}

{#- Contract (column names, order, types in the YAML) enforced on DuckDB and BigQuery;
    not on the BigQuery emulator (macro contract_enforced, docs/bigquery.md "Contracts"). -#}

{#- Is each raw source's day complete? Grain dt x source (usage, gpu_costs), from
    each source's first loaded day to the later of its last loaded day and its
    due day: usage is due through run date - 1 (the run date itself is still
    being collected), GPU costs through the finalised cost day (run date -
    `cost_finalisation_days`). Days after the last loaded day up to the due
    day are `missing`.

    Judged on the rows a partial load loses and an outage does not
    (`judged_rows`): usage, every row (one per active user: the rows are the
    traffic, so an incomplete usage day reads two ways, a partial load or a
    real collapse, and the reason says both and what tells them apart); GPU
    costs, the infrastructure rows (idle / overhead / unused per vertical and
    GPU type), which exist whether or not a request arrives, so a day without
    requests (an outage) is complete and its cost alerts are posted.
    expected_rows = the median judged rows of the last
    `data_health_baseline_weeks` loaded same weekdays before the day (loaded =
    at least one judged row; a missing day never lowers the expectation).
    `incomplete` when judged rows < `data_health_incomplete_fraction` x
    expected; with fewer than `data_health_min_points` such days there is no
    expectation and a loaded day counts as complete. A day whose rows cannot be
    used as they are (int_data_health__daily_volumes `unusable_reason`: a usage
    count column without any value, impossible cost rows) is `incomplete` with
    that reason, whatever its row count. -#}

{%- set weeks = var('data_health_baseline_weeks') | int -%}
{#- a complete day says how far it is from the line: 58 % on a holiday is complete, not "as expected" -#}
{%- set line_pct = "%g" | format(var("data_health_incomplete_fraction") * 100) -%}
{%- set complete = "complete (incomplete below " ~ line_pct ~ "%" -%}

with

volumes as (

    select * from {{ ref('int_data_health__daily_volumes') }}

),

sources as (

    select
        source,
        min(dt) as first_day,
        max(dt) as last_loaded_day,
        case source
            when 'usage' then cast({{ dbt.dateadd('day', -1, run_date()) }} as date)
            else {{ cost_finalised_through() }}
        end as due_through

    from volumes
    group by source

),

bounds as (

    select
        min(first_day) as first_day,
        max(case when due_through > last_loaded_day then due_through else last_loaded_day end) as last_day

    from sources

),

days as (

    {{ days_between('bounds', 'first_day', 'last_day') }}

),

spine as (

    select
        days.dt,
        sources.source,
        sources.due_through

    from days
    inner join sources
        on
            days.dt >= sources.first_day
            and (days.dt <= sources.last_loaded_day or days.dt <= sources.due_through)

),

history as (

    select
        spine.dt,
        spine.source,
        volumes.judged_rows,
        row_number() over (partition by spine.dt, spine.source order by volumes.dt desc) as weeks_back

    from spine
    inner join volumes
        on
            spine.source = volumes.source
            and spine.dt > volumes.dt
            and mod({{ dbt.datediff('volumes.dt', 'spine.dt', 'day') }}, 7) = 0
            and volumes.judged_rows > 0

),

recent_history as (

    select * from history
    where weeks_back <= {{ weeks }}

),

medians as (

    {{ exact_median('recent_history', 'judged_rows', ['dt', 'source'], 'expected_rows') }}

),

points as (

    select
        dt,
        source,
        count(*) as baseline_points

    from recent_history
    group by dt, source

),

joined as (

    select
        spine.dt,
        spine.source,
        cast({{ day_of_week('spine.dt') }} as {{ dbt.type_bigint() }}) as day_of_week,
        cast(coalesce(volumes.loaded_rows, 0) as {{ dbt.type_bigint() }}) as loaded_rows,
        cast(coalesce(volumes.judged_rows, 0) as {{ dbt.type_bigint() }}) as judged_rows,
        volumes.dau,
        volumes.tokens,
        volumes.cost_usd,
        volumes.unusable_reason,
        cast(medians.expected_rows as {{ type_double() }}) as expected_rows,
        cast(coalesce(points.baseline_points, 0) as {{ dbt.type_bigint() }}) as baseline_points,
        spine.dt <= spine.due_through as is_due

    from spine
    left join volumes
        on
            spine.dt = volumes.dt
            and spine.source = volumes.source
    left join medians
        on
            spine.dt = medians.dt
            and spine.source = medians.source
    left join points
        on
            spine.dt = points.dt
            and spine.source = points.source

),

judged as (

    select
        *,
        case
            when loaded_rows = 0 then 'missing'
            when unusable_reason is not null then 'incomplete'
            when
                baseline_points >= {{ var('data_health_min_points') }}
                and judged_rows < {{ var('data_health_incomplete_fraction') }} * expected_rows
                then 'incomplete'
            else 'complete'
        end as status,
        concat(
            {{ format_fixed('100.0 * ' ~ safe_divide('judged_rows', 'expected_rows'), 0) }},
            '% of the same-weekday expectation'
        ) as level_text

    from joined

),

final as (

    select
        dt,
        source,
        day_of_week,
        loaded_rows as row_count,
        judged_rows,
        dau,
        tokens,
        cost_usd,
        expected_rows,
        baseline_points,
        {{ safe_divide('judged_rows', 'expected_rows') }} as completeness,
        status,
        case
            when status = 'missing' then 'no rows loaded'
            when unusable_reason is not null then unusable_reason
            when baseline_points < {{ var('data_health_min_points') }}
                then 'too few loaded same weekdays to judge: assumed complete'
            when status = 'incomplete' and source = 'usage'
                then concat(
                    'active users (rows) at ', level_text, ': a partial load or an outage. A partial load',
                    ' has more rows upstream than were loaded (re-load the day); in an outage the source has',
                    ' no more rows either, and Studio GPU requests (fct_gpu_cost_daily) fell too'
                )
            when status = 'incomplete'
                then concat(
                    'infrastructure rows (idle / overhead / unused) at ', level_text,
                    ': they are written whether or not requests arrive, so this is a partial load, not an outage'
                )
            when source = 'usage'
                then concat('active users (rows) at ', level_text, ': {{ complete }})')
            else concat(
                'infrastructure rows (idle / overhead / unused) at ', level_text, ': {{ complete }}',
                '; request rows are not judged: a day without requests is an outage, not a partial load)'
            )
        end as status_reason,
        is_due,
        '{{ invocation_id }}' as build_id

    from judged

)

select * from final
