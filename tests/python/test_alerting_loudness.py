"""What notifies a channel, end to end against the loopback Slack (issue 20 / 21, DESIGN.md §2 "Loud vs quiet").

* News inside an open thread (a new series, a higher severity for a series) is a reply with
  `reply_broadcast`: it shows in the channel. A continuation of what the thread said is a plain reply.
* A postable alert that the policy does not let be loud (`is_loud` false) opens no thread: it stays
  in fct_alerts, or goes into the channel's one `Summary:` message of the day where enabled.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from alerting.routing import Routing, parse_routing
from tests.python.alerting_support import fake_slack, log_entries
from tests.python.delivery_support import alert_row, run_day, write_marts

D = dt.date(2026, 11, 20)


def routes(*routes: dict[str, Any]) -> Routing:
    return parse_routing({"default_channel": "#mon", "routes": list(routes)}, {})


def test_a_new_critical_series_in_an_old_thread_reaches_the_channel(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    video = alert_row(D - dt.timedelta(days=4), scope="paying", metric="video_generations", z=-5.2)
    dau = alert_row(D, scope="paying", metric="dau", z=-8.1)
    video_again = alert_row(D, scope="paying", metric="video_generations", z=-5.6)
    with fake_slack() as slack:
        write_marts(db, [video])
        assert run_day(db, slack.url, D - dt.timedelta(days=4)).ok
        write_marts(db, [video, dau, video_again])
        assert run_day(db, slack.url, D).ok
        [root] = slack.top_level()
        assert "Paying – Video generations" in root["text"]
        # a loud CRITICAL incident post carries the feedback buttons (issue 23)
        blocks = json.loads(root["blocks"]) if isinstance(root["blocks"], str) else root["blocks"]
        [actions] = [b for b in blocks if b["type"] == "actions"]
        labels = [e["text"]["text"] for e in actions["elements"]]
        assert labels == ["Acknowledge", "Snooze 1 day", "Snooze 7 days", "Snooze until resolved", "Expected",
                          "False alarm"]  # fmt: skip
        # one incident (paying, decrease, D) carries both: DAU is new to the thread, so the reply is broadcast
        [reply] = slack.replies()
        assert reply.get("reply_broadcast") is True and "Paying – DAU" in reply["text"]
        assert "*News:* DAU · CRITICAL, not announced in this thread before" in reply["text"], reply["text"]
    kinds = {(e["alert_id"], e["kind"]) for e in log_entries(db)}
    assert (dau["alert_id"], "broadcast") in kinds


def test_the_same_series_at_the_same_severity_is_a_quiet_reply(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    day1 = alert_row(D - dt.timedelta(days=1), metric="tokens", z=-5.0)
    day2 = alert_row(D, metric="tokens", z=-5.5)
    with fake_slack() as slack:
        write_marts(db, [day1])
        run_day(db, slack.url, day1["alert_date"])
        write_marts(db, [day1, day2])
        run_day(db, slack.url, D)
        assert [bool(p.get("reply_broadcast")) for p in slack.replies()] == [False]
        assert "News:" not in slack.replies()[0]["text"]


def test_quiet_alerts_post_nothing_alone_and_one_summary_where_enabled(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    quiet = [
        alert_row(D, scope="free", metric="dau", severity="notice", z=-2.3, is_loud=False),
        alert_row(D, scope="heavy", metric="tokens", severity="notice", z=2.4, direction="increase", is_loud=False),
    ]
    day_before = D - dt.timedelta(days=1)
    yesterday = alert_row(day_before, scope="free", metric="dau", severity="notice", z=-2.1, is_loud=False)
    write_marts(db, [yesterday, *quiet])
    with fake_slack() as slack:
        report = run_day(db, slack.url, D)
        assert report.ok and slack.posted == [] and report.quiet == 2
    with fake_slack() as slack:
        on = routes({"match": {"team": "product"}, "slack": "#usage", "summary": True})
        assert run_day(db, slack.url, D, routing=on).ok
        assert run_day(db, slack.url, D, routing=on).ok  # a re-run: nothing twice
        [summary] = slack.posted
        assert summary["text"].startswith("Summary: 2 quiet incidents") and not summary.get("thread_ts")
        assert "Free – DAU* · NOTICE decrease · day 2 in a row\n" in summary["text"], summary["text"]
        assert "Heavy – Tokens* · NOTICE increase\n" in summary["text"]
        assert summary["channel"] == "#usage"


def test_summary_on_one_route_only(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    data = alert_row(D, scope="usage", domain="data_health", metric="rows", rule="rows_vs_expected",
                     severity="notice", z=None, is_loud=False)  # fmt: skip
    product = alert_row(D, scope="free", metric="dau", severity="notice", z=-2.3, is_loud=False)
    write_marts(db, [data, product])
    routing = routes(
        {"match": {"team": "product"}, "slack": "#usage"},
        {"match": {"team": "data"}, "slack": "#data", "summary": True},
    )
    with fake_slack() as slack:
        report = run_day(db, slack.url, D, routing=routing)
        assert report.ok and report.quiet == 1  # product's: in fct_alerts and the report only
        [summary] = slack.posted
        assert summary["channel"] == "#data" and summary["text"].startswith("Summary: 1 quiet incident")


def test_a_floor_makes_a_warning_quiet_in_one_channel_and_loud_in_another(tmp_path: Path) -> None:
    """`loud_min_severity = "critical"` on #usage: a loud WARNING is listed in its summary there, posted in
    #usage-all (the next route, reached by `continue`); a CRITICAL is posted in both."""
    db = tmp_path / "w.duckdb"
    warning = alert_row(D, scope="free", metric="dau", severity="warning", z=-3.4)
    critical = alert_row(D, scope="paying", metric="dau", severity="critical", z=-7.0)
    assert warning["is_loud"] and critical["is_loud"]
    write_marts(db, [warning, critical])
    routing = routes(
        {"match": {"team": "product"}, "slack": "#usage", "loud_min_severity": "critical", "summary": True,
         "continue": True},
        {"match": {"team": "product"}, "slack": "#usage-all"},
    )  # fmt: skip
    with fake_slack() as slack:
        assert run_day(db, slack.url, D, routing=routing).ok
        posts = {(p["channel"], p["text"].split("\n")[0]): p["text"] for p in slack.top_level()}
        usage = [text for (channel, _), text in posts.items() if channel == "#usage"]
        everything = [text for (channel, _), text in posts.items() if channel == "#usage-all"]
        assert len(usage) == 2 and len(everything) == 1
        [summary] = [t for t in usage if t.startswith("Summary:")]
        [alert] = [t for t in usage if not t.startswith("Summary:")]
        assert "Free – DAU" in summary and "Paying" not in summary
        assert "Paying – DAU" in alert and "Free – DAU" not in alert
        assert "Free – DAU" in everything[0] and "Paying – DAU" in everything[0]
    kinds = {(e["destination"], e["alert_id"], e["kind"]) for e in log_entries(db)}
    assert ("slack:#usage", warning["alert_id"], "summary") in kinds
    assert ("slack:#usage-all", warning["alert_id"], "post") in kinds
