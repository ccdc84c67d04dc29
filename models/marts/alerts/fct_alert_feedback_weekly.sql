{#- Precision from people: per ISO week, team and rule, the incidents announced
    loudly and what people said of them from Slack (fct_alerts.feedback_action,
    the last click on each alert): acknowledged, snoozed, expected (a known
    event), false alarm, or no answer. false_alarm_share = false alarms of the
    answered incidents. -#}

with

alerts as (

    select * from {{ ref('fct_alerts') }}
    where is_loud

),

final as (

    select
        {{ week_start('alert_date') }} as alert_week,
        team,
        rule,
        count(distinct incident_id) as loud_incidents,
        {%- for action, column in [('acknowledge', 'acknowledged'), ('snooze', 'snoozed'),
                                   ('expected', 'expected'), ('false_alarm', 'false_alarms')] %}
            count(distinct case when feedback_action = '{{ action }}' then incident_id end) as {{ column }},
        {%- endfor %}
        count(distinct incident_id)
        - count(distinct case when feedback_action is not null then incident_id end) as no_answer,
        {{ safe_divide(
            "count(distinct case when feedback_action = 'false_alarm' then incident_id end)",
            'count(distinct case when feedback_action is not null then incident_id end)'
        ) }} as false_alarm_share

    from alerts
    group by {{ week_start('alert_date') }}, team, rule

)

select * from final
