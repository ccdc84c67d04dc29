{{ config(materialized='table') }}

{#- The one alert policy, over the candidates of every domain (unioned by
    column name; usage has two models: the same-weekday rule and the
    week-over-week rule that covers its blind spot):
      * holds: `hold_reason` is the first that applies of enterprise_weekend
        (playbook suppression), insufficient_baseline (the baseline has too
        few points), incomplete_data (a usage alert of a day whose `usage`
        health is not complete, a cost alert of a cost day whose `gpu_costs`
        health is not complete; no health row = not complete) and muted (a
        row of seed alert_mutes matches scope, metric and rule, `*` = any (but a
        data_health alert only by a row naming its source as scope),
        starts_on (empty = always) <= alert_date <= ends_on), then snoozed (a
        Snooze click from Slack, source alert_feedback: the series' later alerts
        through its expiry, or "until resolved" through the last day of the run
        of consecutive alert days it was clicked in). Held alerts stay.
      * incidents: usage per (day, segment, direction), gpu_cost per (day,
        vertical), data_health per (day, source); the primary (headline) is a
        postable alert whenever the incident has one - what is posted leads
        with what people read, never with a held member - then the highest
        severity (a post never leads, nor sets its action, below the severity
        it notifies for), the alert on a component (gpu_cost: a cause other
        than `infra`), the largest |z|, the declared order (usage: metric
        order; gpu_cost: rule order). The incident's cause is its primary's. -#}

with

candidates as (

    {% for candidates in ['usage', 'usage_wow', 'gpu_cost', 'data_health'] %}
        select {{ alert_candidate_columns() | join(', ') }}
        from {{ ref('int_alerts__' ~ candidates ~ '_candidates') }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

health as (

    select
        dt,
        source,
        status

    from {{ ref('fct_data_health') }}

),

mutes as (

    select * from {{ ref('alert_mutes') }}

),

muted_alerts as (

    select distinct candidates.alert_id

    from candidates
    inner join mutes
        on
            -- a data-health alert is muted only by a row naming its source: a full wildcard
            -- (`*,*,*`) must not silence the message that says the data is broken
            (candidates.scope = mutes.scope or (mutes.scope = '*' and candidates.domain != 'data_health'))
            and (candidates.metric = mutes.metric or mutes.metric = '*')
            and (candidates.rule = mutes.rule or mutes.rule = '*')
            and candidates.alert_date <= mutes.ends_on
            and (mutes.starts_on is null or candidates.alert_date >= mutes.starts_on)

),

feedback as (

    select * from {{ ref('stg_alerting__feedback') }}

),

clicked as (

    {#- every alert a Slack click was about (the incident's alert ids when clicked) -#}
    select
        feedback.feedback_id,
        feedback.action,
        feedback.expires_on,
        feedback.created_at,
        candidates.alert_id,
        candidates.alert_date,
        candidates.domain,
        candidates.scope,
        candidates.metric,
        candidates.rule

    from feedback
    inner join candidates
        on {{ in_id_list('candidates.alert_id', 'feedback.alert_ids') }}

),

series_runs as (

    {#- each alert day of a series and the last day of its run of consecutive days -#}
    select
        domain,
        scope,
        metric,
        rule,
        alert_date,
        max(alert_date) over (partition by domain, scope, metric, rule, run_key) as run_end

    from (
        select
            *,
            {{ series_run_key('domain, scope, metric, rule', 'alert_date') }} as run_key
        from candidates
    ) as keyed

),

snoozes as (

    {#- a snooze holds its series' later alerts through expires_on, or "until
        resolved" (no expiry) through the last day of the run it was clicked in -#}
    select
        clicked.domain,
        clicked.scope,
        clicked.metric,
        clicked.rule,
        clicked.alert_date as snoozed_on,
        coalesce(clicked.expires_on, series_runs.run_end) as snoozed_through

    from clicked
    left join series_runs
        on
            clicked.domain = series_runs.domain
            and clicked.scope = series_runs.scope
            and clicked.metric = series_runs.metric
            and clicked.rule = series_runs.rule
            and clicked.alert_date = series_runs.alert_date
    where clicked.action = 'snooze'

),

snoozed_alerts as (

    select distinct candidates.alert_id

    from candidates
    inner join snoozes
        on
            candidates.domain = snoozes.domain
            and candidates.scope = snoozes.scope
            and candidates.metric = snoozes.metric
            and candidates.rule = snoozes.rule
            and candidates.alert_date > snoozes.snoozed_on
            and candidates.alert_date <= snoozes.snoozed_through

),

latest_feedback as (

    {#- what people said last about each alert (fct_alerts.feedback_action) -#}
    select
        alert_id,
        action as feedback_action

    from (
        select
            alert_id,
            action,
            row_number() over (partition by alert_id order by created_at desc, feedback_id desc) as recency
        from clicked
    ) as ordered
    where recency = 1

),

flagged as (

    select
        candidates.*,
        candidates.domain in ('usage', 'gpu_cost') and coalesce(health.status, 'missing') != 'complete'
            as is_data_incomplete,
        muted_alerts.alert_id is not null as is_muted,
        snoozed_alerts.alert_id is not null as is_snoozed,
        latest_feedback.feedback_action

    from candidates
    left join health
        on
            candidates.alert_date = health.dt
            and health.source = case candidates.domain when 'usage' then 'usage' when 'gpu_cost' then 'gpu_costs' end
    left join muted_alerts
        on candidates.alert_id = muted_alerts.alert_id
    left join snoozed_alerts
        on candidates.alert_id = snoozed_alerts.alert_id
    left join latest_feedback
        on candidates.alert_id = latest_feedback.alert_id

),

held as (

    select
        *,
        case
            when is_suppressed then coalesce(suppression_reason, 'enterprise_weekend')
            when coalesce(has_insufficient_baseline, false) then 'insufficient_baseline'
            when is_data_incomplete then 'incomplete_data'
            when is_muted then 'muted'
            when is_snoozed then 'snoozed'
        end as hold_reason,
        {{ incident_id('domain', 'alert_date', 'scope', "case when domain = 'usage' then direction else '' end") }}
            as incident_id,
        case severity when 'critical' then 3 when 'warning' then 2 when 'notice' then 1 else 0 end as severity_rank

    from flagged

),

ranked as (

    select
        *,
        hold_reason is null as is_postable,
        row_number() over (
            partition by incident_id
            order by
                case when hold_reason is null then 0 else 1 end asc,
                severity_rank desc,
                case when domain = 'gpu_cost' and cause != 'infra' then 0 else 1 end asc,
                coalesce(abs(z_score), -1) desc,
                primary_order asc,
                metric asc,
                rule asc
        ) = 1 as is_incident_primary

    from held

)

select * from ranked
