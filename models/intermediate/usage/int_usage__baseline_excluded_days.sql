{#- The days of each usage segment (every metric) that are no ordinary day: one list that
    the baseline points (int_usage__baseline_days) and the segment's
    empirical null (int_alerts__usage_null_p_values) both leave out; the cost
    twin is int_gpu_costs__baseline_excluded_days.
      * calendar_event: a row of seed calendar_events with
        exclude_from_baseline covers it (scope `*` or the segment): a holiday
        is not an ordinary weekday;
      * expected / acknowledged: people's last verdict from Slack on a usage
        alert of the segment that day was "Expected" (a known event) or
        "Acknowledge" (a confirmed incident) (int_alerts__feedback_excluded_days);
      * warmup: heavy and every segment after it in the priority order
        (paying, free), on the days whose previous ISO week is not wholly in
        the data: heavy is decided from that week, so before it is loaded
        nobody is heavy and their usage counts as paying or free - values
        that are not comparable with any later day (an empty heavy segment, a
        paying segment twice its size), and would widen sigma for the next
        ten weeks. -#}
{%- set segments = usage_segments() -%}
{%- set heavy_on = var('heavy_min_active_days') is not none or var('heavy_min_weekly_tokens') is not none -%}

with

segment_days as (

    select distinct
        dt,
        segment

    from {{ ref('int_usage__segment_days') }}

),

calendar_events as (

    select * from {{ ref('calendar_events') }}
    where exclude_from_baseline

),

events as (

    select
        segment_days.dt,
        segment_days.segment,
        'calendar_event' as reason

    from segment_days
    inner join calendar_events
        on
            {{ calendar_event_covers('segment_days.dt', 'segment_days.segment') }}

),

first_day as (

    select min(dt) as dt
    from segment_days

),

warmup as (

    select
        segment_days.dt,
        segment_days.segment,
        'warmup' as reason

    from segment_days
    cross join first_day
    where
        {{ 'true' if heavy_on else 'false' }}
        and segment_days.segment in ({{ sql_string_list(segments[segments.index('heavy'):]) }})
        and {{ week_start('segment_days.dt') }} < cast({{ dbt.dateadd('day', 7, 'first_day.dt') }} as date)

),

answered as (

    select
        dt,
        scope as segment,
        reason

    from {{ ref('int_alerts__feedback_excluded_days') }}
    where domain = 'usage'

),

final as (

    select
        dt,
        segment,
        min(reason) as reason

    from (
        select * from events
        union all
        select * from answered
        union all
        select * from warmup
    ) as excluded
    group by dt, segment

)

select * from final
