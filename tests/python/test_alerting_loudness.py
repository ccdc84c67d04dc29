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

from alerting.lifecycle import LifecycleConfig
from tests.python.alerting_support import fake_slack, log_entries
from tests.python.delivery_support import alert_row, run_day, write_marts

D = dt.date(2026, 11, 20)


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


def test_quiet_alerts_post_nothing_alone_and_one_summary_where_enabled(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    quiet = [
        alert_row(D, scope="free", metric="dau", severity="notice", z=-2.3, is_loud=False),
        alert_row(D, scope="heavy", metric="tokens", severity="notice", z=2.4, direction="increase", is_loud=False),
    ]
    write_marts(db, quiet)
    with fake_slack() as slack:
        report = run_day(db, slack.url, D)
        assert report.ok and slack.posted == [] and report.quiet == 2
    with fake_slack() as slack:
        on = LifecycleConfig(quiet_summary=True)
        assert run_day(db, slack.url, D, lifecycle=on).ok
        assert run_day(db, slack.url, D, lifecycle=on).ok  # a re-run: nothing twice
        [summary] = slack.posted
        assert summary["text"].startswith("Summary: 2 quiet incidents") and not summary.get("thread_ts")
        assert "Free – DAU" in summary["text"] and "Heavy – Tokens" in summary["text"]
