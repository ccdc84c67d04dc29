{#- One row per thread (destination, root message): an incident's life across
    days, as people saw it. A thread is opened by a top-level post and carries
    the repeats, broadcasts, corrections, charts and finally the `resolved`
    reply of the series in it (docs/delivery.md). First and last alert day, when
    it was resolved, how many posts and how many of them notified the channel. -#}

with

posts as (

    select * from {{ ref('fct_alert_posts') }}
    where kind not in ('all_clear', 'pipeline_health', 'summary')

),

final as (

    select
        {{ dbt.hash(dbt.concat(['destination', "'|'", 'thread_ts'])) }} as thread_id,
        destination,
        max(channel) as channel,
        thread_ts,
        max(case when is_top_level then incident_id end) as opening_incident_id,
        count(distinct incident_id) as incidents,
        min(alert_date) as first_alert_date,
        max(case when kind not in ('resolved', 'withdrawal', 'chart') then alert_date end) as last_alert_date,
        min(delivered_at) as opened_at,
        max(delivered_at) as last_post_at,
        max(case when kind = 'resolved' then delivered_at end) as resolved_at,
        count(*) as posts,
        sum(case when is_loud then 1 else 0 end) as loud_posts,
        case max({{ severity_rank('severity') }})
            when 3 then 'critical' when 2 then 'warning' when 1 then 'notice'
        end as worst_severity

    from posts
    group by destination, thread_ts

)

select * from final
