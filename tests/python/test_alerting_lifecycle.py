"""lifecycle.Planner.plan(): pure decisions (new post / repeat / correction / withdrawal / resolved / chart)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from alerting.delivery_log import LogEntry
from alerting.lifecycle import LifecycleConfig, Plan, Planner, config_from_mapping
from alerting.model import Alert, alert_from_row
from tests.python.delivery_support import alert_row

D = dt.date(2026, 11, 20)
CFG = LifecycleConfig(repeat_window_days=7, resolve_after_days=3)


def obs(day: dt.date = D, **kw: Any) -> Alert:
    return alert_from_row(alert_row(day, **kw))


def delivered(o: Alert, kind: str = "post", root: str = "1.1", dest: str = "slack:#usage", **kw: Any) -> LogEntry:
    base: dict[str, Any] = dict(
        delivery_key=o.alert_id, destination=dest, kind=kind, alert_id=o.alert_id, incident_id=o.incident_id,
        alert_date=o.alert_date, series_key=o.series_key, severity=o.severity, direction=o.direction,
        z_score=o.z_score, current_value=o.current_value, team=o.team, channel_id="C1",
        message_ts=root if kind == "post" else "2.2", thread_ts=root, run_id="r",
        delivered_at=dt.datetime.combine(o.alert_date, dt.time(6)),
    )  # fmt: skip
    base.update(kw)
    return LogEntry(**base)


def make_plan(today: list[Alert], log: list[LogEntry], history: list[Alert] | None = None, **kw: Any) -> Plan:
    return Planner(
        today=today,
        history=history or [],
        log=log,
        destinations=lambda o: ["slack:#usage"],
        loud=kw.pop("loud", lambda dest, o: o.is_loud),
        summary=kw.pop("summary", lambda dest, o: False),
        usage_date=kw.pop("usage_date", D),
        cost_date=kw.pop("cost_date", D - dt.timedelta(days=2)),
        config=kw.pop("config", CFG),
        **kw,
    ).plan()


def test_first_alert_is_a_new_post_and_the_next_day_a_repeat_with_streak_and_trend() -> None:
    day1 = obs(D - dt.timedelta(days=1), severity="warning", z=-3.4)
    p1 = make_plan([day1], [], usage_date=day1.alert_date)
    assert len(p1.new_posts) == 1 and not p1.repeats
    day2 = obs(D, severity="warning", z=-3.9)
    p2 = make_plan([day2], [delivered(day1)], history=[day1])
    assert not p2.new_posts and len(p2.repeats) == 1
    rep = p2.repeats[0]
    assert rep.thread.root_ts == "1.1" and rep.thread.channel_id == "C1"
    assert rep.incidents[0].z_trend == ((day1.alert_date, -3.4), (D, -3.9))


def test_the_z_trend_is_the_days_in_a_row_never_across_a_gap() -> None:
    """Year 3's Paying tokens thread: 'day 2 in a row' above a six-point trend that began a week and a half
    earlier (alerts on 04-08 and 04-09), read as six days in a row."""
    earlier = [obs(D - dt.timedelta(days=k), severity="warning", z=-3.0 - k / 10) for k in (9, 8, 4)]
    yesterday = obs(D - dt.timedelta(days=1), severity="warning", z=-3.4)
    today = obs(D, severity="warning", z=-3.9)
    p = make_plan([today], [delivered(yesterday)], history=[*earlier, yesterday])
    [inc] = p.repeats[0].incidents
    assert inc.z_trend == ((yesterday.alert_date, -3.4), (D, -3.9))
    eight = [obs(D - dt.timedelta(days=k), severity="warning", z=-3.0 - k / 10) for k in range(1, 8)]
    p = make_plan([today], [delivered(eight[0])], history=eight)
    assert [day for day, _ in p.repeats[0].incidents[0].z_trend] == [D - dt.timedelta(days=k) for k in range(6, -1, -1)]


def test_a_series_that_turned_is_new_to_the_thread() -> None:
    """Year 3: Free image generations fell on 05-17 and rose on 05-18, a reply in the open Free rise thread
    read 'day 2 in a row' above its own action 'no same-direction alert yesterday'. Today's rise is the thread's
    news (fct_alerts.run_days, unit-tested in dbt, starts a new run in the other direction)."""
    dau_up = obs(D - dt.timedelta(days=1), metric="dau", severity="warning", direction="increase", z=3.2)
    fell = obs(D - dt.timedelta(days=1), metric="image_generations", severity="notice", z=-7.1)
    rose = obs(D, metric="image_generations", severity="warning", direction="increase", z=3.6)
    [inc] = make_plan([rose], [delivered(dau_up)], history=[dau_up, fell]).repeats[0].incidents
    assert inc.new_in_thread


def test_same_family_other_metric_continues_the_thread_other_direction_does_not() -> None:
    tokens = obs(D - dt.timedelta(days=1), metric="tokens", severity="warning", z=-3.5)
    log = [delivered(tokens)]
    dau_down = obs(D, metric="dau", severity="warning", z=-3.1)
    assert len(make_plan([dau_down], log).repeats) == 1
    dau_up = obs(D, metric="dau", severity="warning", direction="increase", z=3.1)
    assert len(make_plan([dau_up], log).new_posts) == 1


def test_escalation_is_a_new_top_level_post() -> None:
    day1 = obs(D - dt.timedelta(days=1), severity="notice", z=-2.2)
    p = make_plan([obs(D, severity="critical", z=-6.0)], [delivered(day1)])
    assert len(p.new_posts) == 1 and not p.repeats
    same = make_plan([obs(D, severity="notice", z=-2.4)], [delivered(day1)])
    assert len(same.repeats) == 1


def test_a_thread_older_than_the_window_is_not_continued() -> None:
    old = obs(D - dt.timedelta(days=8), severity="warning", z=-3.5)
    today = obs(D, severity="warning", z=-3.5)
    assert len(make_plan([today], [delivered(old)], history=[old]).new_posts) == 1
    seven = obs(D - dt.timedelta(days=7), severity="warning", z=-3.5)
    assert len(make_plan([today], [delivered(seven)], history=[seven]).repeats) == 1
    off = LifecycleConfig(repeat_window_days=0)
    assert len(make_plan([today], [delivered(seven)], history=[seven], config=off).new_posts) == 1


def test_resolution_counts_quiet_complete_days_only() -> None:
    last = obs(D - dt.timedelta(days=3))
    log = [delivered(last)]
    assert len(make_plan([], log, history=[last]).resolutions) == 1  # D-2, D-1, D quiet
    assert not make_plan([], log, history=[last], usage_date=D - dt.timedelta(days=1)).resolutions
    health = {(D - dt.timedelta(days=i), "usage"): "complete" for i in range(5)}
    health[(D - dt.timedelta(days=1), "usage")] = "incomplete"
    assert not make_plan([], log, history=[last], data_health=health).resolutions
    held_row = obs(D - dt.timedelta(days=1), is_postable=False, hold_reason="muted")
    assert not make_plan([], log, history=[last, held_row]).resolutions  # a held row is still out of band
    resolved = LogEntry(**{**delivered(last).__dict__, "kind": "resolved", "delivery_key": "resolved|1.1|x",
                           "series_key": "usage|free|tokens|", "message_ts": "3.3",
                           "delivered_at": dt.datetime.combine(D, dt.time(7))})  # fmt: skip
    assert not make_plan([], [*log, resolved], history=[last]).resolutions  # said once


def test_corrections_and_withdrawals_compare_with_what_was_said_last() -> None:
    was = obs(D, severity="critical", direction="decrease", z=-6.48)
    log = [delivered(was)]
    flipped = obs(D, severity="warning", direction="increase", z=3.36)
    assert flipped.alert_id == was.alert_id
    p = make_plan([flipped], log, history=[flipped])
    assert len(p.corrections) == 1 and p.corrections[0].key == f"{was.alert_id}|correction|1"
    assert p.corrections[0].thread.root_ts == "1.1" and not p.new_posts and p.already_delivered == 1
    correction_row = LogEntry(**{**delivered(flipped).__dict__, "kind": "correction",
                                 "delivery_key": p.corrections[0].key, "message_ts": "4.4",
                                 "delivered_at": dt.datetime.combine(D, dt.time(8))})  # fmt: skip
    assert not make_plan([flipped], [*log, correction_row], history=[flipped]).corrections
    gone = make_plan([], log)
    assert len(gone.withdrawals) == 1 and gone.withdrawals[0].reason == "gone"
    muted = obs(D, severity="critical", is_postable=False, hold_reason="muted")
    assert not make_plan([muted], log, history=[muted]).withdrawals
    outside = make_plan([], log, usage_date=D + dt.timedelta(days=8))
    assert not outside.withdrawals  # older than the correction window: left alone


def test_chart_retry_for_an_incident_posted_without_chart() -> None:
    a = obs(D)
    p = make_plan([a], [delivered(a)])
    assert [c.incident_id for c in p.charts] == [a.incident_id]
    chart_row = LogEntry(**{**delivered(a).__dict__, "kind": "chart", "delivery_key": f"chart|{a.incident_id}"})
    assert not make_plan([a], [delivered(a), chart_row]).charts


def test_release_makes_incomplete_data_holds_of_the_day_postable_and_loud_only() -> None:
    from alerting.runner import _released

    held = obs(D, is_postable=False, is_loud=False, hold_reason="incomplete_data")
    muted = obs(D, metric="dau", is_postable=False, is_loud=False, hold_reason="muted")
    earlier = obs(D - dt.timedelta(days=1), is_postable=False, is_loud=False, hold_reason="incomplete_data")
    assert not make_plan([held, muted], []).new_posts
    rel = make_plan([_released(a, D) for a in (held, muted, earlier)], [])
    assert [o.alert_id for np in rel.new_posts for i in np.incidents for o in i.alerts] == [held.alert_id]


def test_config_validation() -> None:
    assert config_from_mapping({"repeat_window_days": 3, "resolve_after_days": 2}) == LifecycleConfig(3, 2)
    with pytest.raises(ValueError, match="unknown key"):
        config_from_mapping({"repeat_days": 3})
    with pytest.raises(ValueError, match="whole number of days"):
        LifecycleConfig(repeat_window_days=-1)
    row = alert_row(D)
    del row["incident_id"]
    with pytest.raises(TypeError, match="incident_id"):  # a mart of another version: an error, never a guess
        alert_from_row(row)


def test_exit_code_of_a_report() -> None:
    from alerting.runner import RunReport

    assert RunReport().exit_code == 0  # no fct_data_health mart: readiness unknown, not blocking
    assert RunReport(usage_data_status="complete").exit_code == 0
    assert RunReport(usage_data_status="incomplete").exit_code == 3
    assert RunReport(usage_data_status="missing", release=True).exit_code == 0
    assert RunReport(usage_data_status="missing", failures=["x"]).exit_code == 1
    assert RunReport(usage_data_status="complete", skipped_claimed=1).exit_code == 1  # a live run holds some


def test_a_thread_whose_alerts_were_all_withdrawn_is_closed() -> None:
    was = obs(D - dt.timedelta(days=1))
    key = f"{was.alert_id}|withdrawal|1"
    withdrawn = LogEntry(**{**delivered(was).__dict__, "kind": "withdrawal", "delivery_key": key,
                            "message_ts": "5.5", "delivered_at": dt.datetime.combine(D, dt.time(5))})  # fmt: skip
    log = [delivered(was), withdrawn]
    assert not make_plan([], log, usage_date=D + dt.timedelta(days=5)).resolutions  # nothing left to resolve
    again = make_plan([obs(D)], log)
    assert len(again.new_posts) == 1 and not again.repeats  # a new alert does not continue a withdrawn thread


# --- nothing new hides in an old thread (issue 20) -------------------------------------------------------


def test_a_new_series_in_an_open_thread_is_broadcast_to_the_channel() -> None:
    """The replay's case: a thread about Paying video generations (already CRITICAL), then Paying DAU
    CRITICAL: a new series for that thread reaches the channel (reply_broadcast), not a quiet reply."""
    video = obs(D - dt.timedelta(days=4), scope="paying", metric="video_generations", severity="critical", z=-5.0)
    dau = obs(D, scope="paying", metric="dau", severity="critical", z=-8.1)
    p = make_plan([dau], [delivered(video)], history=[video])
    assert not p.new_posts and [r.broadcast for r in p.repeats] == [True]
    assert [i.new_in_thread for r in p.repeats for i in r.incidents] == [True]  # 'Now also', never 'again'
    # the same series again, at the severity already said: a quiet reply
    video_again = obs(D, scope="paying", metric="video_generations", severity="critical", z=-5.5)
    p = make_plan([video_again], [delivered(video)], history=[video])
    assert [r.broadcast for r in p.repeats] == [False]
    assert [i.new_in_thread for r in p.repeats for i in r.incidents] == [False]


def test_a_higher_severity_for_a_series_of_the_thread_is_broadcast() -> None:
    tokens_warning = obs(D - dt.timedelta(days=1), metric="tokens", severity="warning", z=-3.5)
    dau_critical = obs(D - dt.timedelta(days=1), metric="dau", severity="critical", z=-6.0)
    log = [delivered(tokens_warning), delivered(dau_critical)]
    hist = [tokens_warning, dau_critical]
    # tokens: warning said for tokens; critical now (the family already said critical: not a new post)
    p = make_plan([obs(D, metric="tokens", severity="critical", z=-5.0)], log, history=hist)
    assert not p.new_posts and [r.broadcast for r in p.repeats] == [True]
    p = make_plan([obs(D, metric="tokens", severity="notice", z=-2.5)], log, history=hist)
    assert [r.broadcast for r in p.repeats] == [False]


def test_news_that_is_not_loud_stays_a_quiet_reply() -> None:
    video = obs(D - dt.timedelta(days=1), metric="video_generations", severity="critical", z=-5.0)
    dau_quiet = obs(D, metric="dau", severity="notice", z=-2.2, is_loud=False)
    p = make_plan([dau_quiet], [delivered(video)], history=[video])
    assert [r.broadcast for r in p.repeats] == [False]


def test_what_was_only_said_quietly_was_not_announced() -> None:
    """Year 5's case: a thread opened by an enterprise images WARNING; on Memorial Day the segment's videos
    are CRITICAL, quiet by the calendar (a quiet reply); two days later videos are CRITICAL again, loud now.
    That CRITICAL reaches the channel: a quiet reply announced nothing, so it is the first loud CRITICAL of
    the thread (worse than anything announced there: a new top-level post)."""
    images = obs(D - dt.timedelta(days=6), scope="enterprise_contract", metric="image_generations",
                 severity="warning", z=-3.4)  # fmt: skip
    holiday = obs(D - dt.timedelta(days=2), scope="enterprise_contract", metric="video_generations",
                  severity="critical", z=-6.2, is_loud=False)  # fmt: skip
    today = obs(D, scope="enterprise_contract", metric="video_generations", severity="critical", z=-4.9)
    log, hist = [delivered(images), delivered(holiday, kind="repeat")], [images, holiday]
    p = make_plan([today], log, history=hist)
    assert len(p.new_posts) == 1 and not p.repeats
    # announced, by a broadcast: the same CRITICAL again is a quiet reply
    p = make_plan([today], [delivered(images), delivered(holiday, kind="broadcast")], history=hist)
    assert not p.new_posts and [r.broadcast for r in p.repeats] == [False]
    # a quiet WARNING of videos said before, and a loud WARNING now: not worse than the thread's WARNING,
    # and news for its series (broadcast)
    quiet_warning = obs(D - dt.timedelta(days=2), scope="enterprise_contract", metric="video_generations",
                        severity="warning", z=-3.3, is_loud=False)  # fmt: skip
    loud_warning = obs(D, scope="enterprise_contract", metric="video_generations", severity="warning", z=-3.6)
    p = make_plan([loud_warning], [delivered(images), delivered(quiet_warning, kind="repeat")],
                  history=[images, quiet_warning])  # fmt: skip
    assert not p.new_posts and [r.broadcast for r in p.repeats] == [True]


def test_a_series_is_resolved_once_in_the_thread_that_carried_it_last() -> None:
    """Escalated into a new thread, the series is continued and resolved there only (Free DAU was
    'Resolved' twice, in two threads)."""
    first = obs(D - dt.timedelta(days=6), metric="dau", severity="notice", z=-2.2)
    second = obs(D - dt.timedelta(days=5), metric="dau", severity="critical", z=-6.0)
    log = [delivered(first, root="1.1"), delivered(second, root="5.5", message_ts="5.5")]
    p = make_plan([], log, history=[first, second])
    assert [r.thread.root_ts for r in p.resolutions] == ["5.5"]


def test_a_quiet_only_incident_is_not_posted_alone_and_goes_to_the_summary_where_enabled() -> None:
    quiet = obs(D, metric="dau", severity="notice", z=-2.3, is_loud=False)
    p = make_plan([quiet], [])
    assert not p.new_posts and not p.summaries and [i.incident_id for i in p.quiet] == [quiet.incident_id]
    p = make_plan([quiet], [], summary=lambda dest, o: True)
    assert not p.new_posts and [(s.destination, len(s.incidents)) for s in p.summaries] == [("slack:#usage", 1)]
    loud = obs(D, metric="tokens", severity="warning", z=-3.4)
    p = make_plan([quiet, loud], [], summary=lambda dest, o: True)  # one incident (day, segment, direction): loud
    assert len(p.new_posts) == 1 and not p.summaries
    p = make_plan([quiet, loud], [], loud=lambda dest, o: False)  # the route's floor: quiet there
    assert not p.new_posts and [i.incident_id for i in p.quiet] == [quiet.incident_id]


def test_an_incident_is_routed_by_its_headline_only() -> None:
    headline = obs(D, domain="gpu_cost", scope="api", metric="idle_cost", rule="cost_zscore", severity="critical",
                   direction="increase", z=7.2, team="api", is_incident_primary=True)  # fmt: skip
    member = obs(D, domain="gpu_cost", scope="api", metric="infra_cost", rule="cost_spike_vs_7d_avg",
                 severity="critical", direction="increase", z=None, team="engineering")  # fmt: skip
    assert headline.incident_id == member.incident_id
    p = Planner(
        today=[headline, member], history=[], log=[], destinations=lambda o: [f"slack:#{o.team}"],
        loud=lambda dest, o: o.is_loud, summary=lambda dest, o: False, usage_date=D, cost_date=D, config=CFG,
    ).plan()  # fmt: skip
    assert [(n.destination, len(n.incidents[0].alerts)) for n in p.new_posts] == [("slack:#api", 2)]
