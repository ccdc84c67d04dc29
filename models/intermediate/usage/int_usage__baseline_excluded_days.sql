{#- The days of each usage segment (every metric) that are no ordinary day: one list that
    the baseline points (int_usage__baseline_days) and the segment's
    empirical null (int_alerts__usage_null_p_values) both leave out; the cost
    twin is int_gpu_costs__baseline_excluded_days.
      * calendar_event: a row of seed calendar_events with
        exclude_from_baseline covers it (scope `*` or the segment): a holiday
        is not an ordinary weekday;
      * expected: people marked a usage alert of the segment that day
        "Expected" from Slack (int_alerts__expected_days). -#}

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

expected as (

    select
        dt,
        scope as segment,
        'expected' as reason

    from {{ ref('int_alerts__expected_days') }}
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
        select * from expected
    ) as excluded
    group by dt, segment

)

select * from final
