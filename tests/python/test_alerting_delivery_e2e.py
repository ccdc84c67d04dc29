"""Corrections, withdrawals, threads (repeat / resolve), charts, release and readiness, end to end.

Each test runs the real runner with slack_sdk against the loopback Slack server, on a DuckDB
file whose fct_alerts is rewritten between runs the way a rebuild rewrites it.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from alerting.lifecycle import LifecycleConfig
from alerting.transport.slack import SlackTransport
from tests.python.alerting_support import FAKE_TOKEN, Reply, fake_slack, log_entries
from tests.python.delivery_support import LookupSlack, alert_row, run_day, write_marts

D = dt.date(2026, 11, 20)


def kinds(path: Path) -> list[str]:
    return sorted(r["kind"] for r in log_entries(path))


def test_correction_and_withdrawal_after_late_data_then_nothing(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    partial_tokens = alert_row(D, metric="tokens", severity="critical", direction="decrease", z=-6.48)
    partial_dau = alert_row(D, metric="dau", severity="critical", direction="decrease", z=-12.0)
    write_marts(db, [partial_tokens, partial_dau])  # built from a partial load
    with fake_slack() as slack:
        first = run_day(db, slack.url, D)
        assert first.ok and first.top_level_posts == 1 and len(slack.posted) == 1
        root = slack.posted[0]
        root_ts = next(r for r in log_entries(db) if r["kind"] == "post")["message_ts"]

        # the full day lands; the daily build rewrites fct_alerts: tokens flips, dau is gone
        full_tokens = alert_row(D, metric="tokens", severity="warning", direction="increase", z=3.36)
        assert full_tokens["alert_id"] == partial_tokens["alert_id"]  # same alert, another story
        write_marts(db, [full_tokens])
        second = run_day(db, slack.url, D)
        assert second.ok, second.failures
        assert (second.top_level_posts, second.corrections, second.withdrawals) == (0, 1, 1)
        replies = slack.replies()
        assert len(replies) == 2 and len(slack.top_level()) == 1
        assert {r["thread_ts"] for r in replies} == {root_ts}
        assert {r["channel"] for r in replies} == {root["channel"]}  # posted to the id Slack returned
        correction = next(r for r in replies if "Correction" in r["text"])
        assert "now WARNING increase, z +3.36" in correction["text"]
        assert "was CRITICAL decrease, z -6.48" in correction["text"]
        assert any("Withdrawn" in r["text"] and "DAU" in r["text"] for r in replies)
        ids = slack.channel_ids.values()
        assert all(r["channel"] not in ids for r in slack.posted)  # FakeSlack maps ids back to names

        third = run_day(db, slack.url, D)
        assert third.ok and third.messages_posted == 0
        assert len(slack.posted) == 3
    assert kinds(db) == ["correction", "post", "post", "withdrawal"]


def test_muted_after_delivery_is_not_withdrawn_and_a_new_band_is_corrected_once(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    a = alert_row(D, severity="warning", z=-3.5)
    b = alert_row(D, metric="dau", severity="warning", z=-3.2)
    write_marts(db, [a, b])
    with fake_slack() as slack:
        assert run_day(db, slack.url, D).top_level_posts == 1
        write_marts(
            db, [{**a, "severity": "critical", "z_score": -5.0}, {**b, "is_postable": False, "hold_reason": "muted"}]
        )
        report = run_day(db, slack.url, D)
        assert (report.corrections, report.withdrawals) == (1, 0)
        write_marts(
            db, [{**a, "severity": "critical", "z_score": -5.1}, {**b, "is_postable": False, "hold_reason": "muted"}]
        )
        assert run_day(db, slack.url, D).messages_posted == 0  # same band: z moved a little, nothing to say
        write_marts(db, [{**a, "is_postable": False, "hold_reason": "insufficient_baseline"}])
        report = run_day(db, slack.url, D)
        assert (report.corrections, report.withdrawals) == (0, 2)  # held for a real reason / gone: withdrawn
        assert run_day(db, slack.url, D).messages_posted == 0


def test_repeat_goes_to_the_thread_and_resolve_closes_it(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    cfg = LifecycleConfig(repeat_window_days=7, resolve_after_days=2)
    rows = []
    with fake_slack() as slack:
        for i, z in enumerate([-5.0, -4.0, -3.6]):
            rows.append(alert_row(D + dt.timedelta(days=i), severity="critical" if i == 0 else "warning", z=z))
            write_marts(db, rows)
            assert run_day(db, slack.url, D + dt.timedelta(days=i), lifecycle=cfg).ok
        assert len(slack.top_level()) == 1 and len(slack.replies()) == 2
        root_ts = slack.replies()[0]["thread_ts"]
        assert "day 3 in a row" in slack.replies()[1]["text"] and "-5.00 → -4.00 → -3.60" in slack.replies()[1]["text"]
        # two quiet complete days -> resolved (one day is not enough)
        assert run_day(db, slack.url, D + dt.timedelta(days=3), lifecycle=cfg).resolved == 0
        report = run_day(db, slack.url, D + dt.timedelta(days=4), lifecycle=cfg)
        assert report.resolved == 1
        resolved = slack.replies()[-1]
        assert resolved["thread_ts"] == root_ts and "Resolved" in resolved["text"]
        assert run_day(db, slack.url, D + dt.timedelta(days=5), lifecycle=cfg).messages_posted == 0
        # the series comes back: a new top-level post, not a reply in the closed thread
        rows.append(alert_row(D + dt.timedelta(days=6), severity="warning", z=-3.3))
        write_marts(db, rows)
        assert run_day(db, slack.url, D + dt.timedelta(days=6), lifecycle=cfg).top_level_posts == 1
        assert len(slack.top_level()) == 2


def test_a_series_quiet_for_days_then_loud_is_posted_as_its_third_day(tmp_path: Path) -> None:
    """A level shift the family-wise rule finds on its third day (year 11's Free DAU, on the fourth): the first
    post says so, as the thread's next reply will ('day 4 in a row')."""
    db = tmp_path / "m.duckdb"
    quiet = enumerate([-3.1, -3.4])
    rows = [alert_row(D + dt.timedelta(days=i), severity="warning", z=z, is_loud=False) for i, z in quiet]
    rows.append(alert_row(D + dt.timedelta(days=2), severity="critical", z=-7.3))
    write_marts(db, rows)
    with fake_slack() as slack:
        for i in range(3):
            assert run_day(db, slack.url, D + dt.timedelta(days=i)).ok
        [post] = slack.top_level()
        assert "CRITICAL decrease · day 3 in a row" in post["text"] and "Z trend: -3.10 → -3.40 → -7.30" in post["text"]


def test_a_run_longer_than_the_look_back_says_its_day_from_the_mart(tmp_path: Path) -> None:
    """Year 1's Free tokens shift: its replies said 'day 27 in a row' on 05-30 and again on 05-31, because the
    runner counted the days in the rows its look-back read (27 days). The day of the run is fct_alerts.run_days."""
    db = tmp_path / "m.duckdb"
    start = D - dt.timedelta(days=29)
    write_marts(db, [alert_row(start + dt.timedelta(days=i), severity="warning", z=-3.5) for i in range(30)])
    with fake_slack() as slack:
        assert run_day(db, slack.url, D).ok
        [post] = slack.top_level()
        assert "WARNING decrease · day 30 in a row" in post["text"], post["text"]


def test_incomplete_days_neither_resolve_nor_count(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    cfg = LifecycleConfig(resolve_after_days=2)
    rows = [alert_row(D, z=-5.0)]
    health = [(D + dt.timedelta(days=i), "usage", "complete") for i in range(0, 6)]
    health[1] = (D + dt.timedelta(days=1), "usage", "incomplete")
    health[2] = (D + dt.timedelta(days=2), "usage", "incomplete")
    write_marts(db, rows, health)
    with fake_slack() as slack:
        assert run_day(db, slack.url, D, lifecycle=cfg).top_level_posts == 1
        day2 = run_day(db, slack.url, D + dt.timedelta(days=2), lifecycle=cfg)
        assert day2.resolved == 0 and day2.usage_data_status == "incomplete" and not day2.data_ready
        assert run_day(db, slack.url, D + dt.timedelta(days=3), lifecycle=cfg).resolved == 0  # 1 complete quiet day
        assert run_day(db, slack.url, D + dt.timedelta(days=4), lifecycle=cfg).resolved == 1
        missing = run_day(db, slack.url, D + dt.timedelta(days=9), lifecycle=cfg, all_clear=True)
        assert missing.usage_data_status == "missing" and not missing.data_ready
        assert missing.all_clears == 0  # never an all-clear for a day whose data is not there


def test_release_posts_the_held_incomplete_data_alerts_once(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    held = alert_row(D, is_postable=False, hold_reason="incomplete_data")
    muted = alert_row(D, metric="dau", is_postable=False, hold_reason="muted")
    health_alert = alert_row(D, domain="data_health", scope="usage", metric="rows", rule="data_completeness",
                             severity="warning", direction="decrease", z=None)  # fmt: skip
    write_marts(db, [held, muted, health_alert], [(D, "usage", "incomplete")])
    with fake_slack() as slack:
        report = run_day(db, slack.url, D)
        assert report.held_by_reason == {"incomplete_data": 1, "muted": 1} and not report.data_ready
        assert [p["channel"] for p in slack.posted] == ["#data"]  # only the data-health alert
        released = run_day(db, slack.url, D, release=True)
        assert released.data_ready and released.alerts_delivered == 1
        assert [p["channel"] for p in slack.posted] == ["#data", "#usage"]
        assert "Free – Tokens" in slack.posted[-1]["text"] and "DAU" not in slack.posted[-1]["text"]
        # a normal run afterwards neither re-posts nor withdraws the released alert
        after = run_day(db, slack.url, D)
        assert after.messages_posted == 0 and after.withdrawals == 0
    assert kinds(db) == ["data_health", "post"]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def chart(incident: object) -> tuple[str, bytes]:
    return (f"{incident.incident_id}.png", PNG)  # type: ignore[attr-defined]


def test_chart_per_incident_uploaded_into_its_thread_once(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    rows = [alert_row(D, scope="free"), alert_row(D, scope="free", metric="dau"), alert_row(D, scope="paying")]
    write_marts(db, rows)
    seen: list[object] = []
    with fake_slack() as slack:
        report = run_day(db, slack.url, D, chart_for=lambda inc: seen.append(inc) or chart(inc))
        assert report.ok and report.charts_uploaded == 2  # two incidents (free, paying)
        post = slack.top_level()[0]
        root_ts = log_entries(db, ("post",))[0]["message_ts"]
        assert {u["thread_ts"] for u in slack.uploads} == {root_ts}
        assert {u["channel_id"] for u in slack.uploads} == {slack.channel_id(post["channel"])}
        assert all(u["content"] == PNG for u in slack.uploads)
        assert sorted(len(i.alerts) for i in seen) == [1, 2]  # type: ignore[attr-defined]
        again = run_day(db, slack.url, D, chart_for=chart)
        assert again.charts_uploaded == 0 and len(slack.uploads) == 2
    assert kinds(db).count("chart") == 2


@pytest.mark.parametrize(
    "step",
    [
        ("files.getUploadURLExternal", Reply(200, {"ok": False, "error": "not_allowed_token_type"})),
        ("upload", Reply(500, "oops")),
        ("files.completeUploadExternal", Reply(200, {"ok": False, "error": "internal_error"})),
    ],
)
def test_failed_upload_keeps_the_text_and_is_retried_next_run(tmp_path: Path, step: tuple[str, Reply]) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, [alert_row(D)])
    method, reply = step
    with fake_slack() as slack:
        slack.method_replies[method] = [reply]
        report = run_day(db, slack.url, D, chart_for=chart)
        assert not report.ok and report.top_level_posts == 1 and report.charts_uploaded == 0
        assert any("chart" in f for f in report.failures)
        assert slack.uploads == [] and kinds(db) == ["post"]  # the text is delivered and logged
        retry = run_day(db, slack.url, D, chart_for=chart)
        assert retry.ok and retry.charts_uploaded == 1 and retry.messages_posted == 0
        assert len(slack.uploads) == 1 and len(slack.posted) == 1
        assert slack.uploads[0]["thread_ts"] == log_entries(db, ("post",))[0]["message_ts"]


def test_chart_function_error_or_none_never_blocks(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, [alert_row(D)])

    def broken(incident: object) -> tuple[str, bytes]:
        raise ValueError("no data for the chart")

    with fake_slack() as slack:
        report = run_day(db, slack.url, D, chart_for=broken)
        assert report.top_level_posts == 1 and not report.ok
        assert run_day(db, slack.url, D, chart_for=lambda inc: None).ok
        assert slack.uploads == []


def test_a_thread_resolves_when_all_its_series_are_quiet(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    cfg = LifecycleConfig(repeat_window_days=7, resolve_after_days=2)
    day = [D + dt.timedelta(days=i) for i in range(6)]
    rows = [
        alert_row(day[0], metric="tokens", severity="warning", z=-3.4),
        *[alert_row(day[i], metric="dau", severity="warning", z=-3.2) for i in (1, 2, 3)],
        alert_row(day[3], metric="tokens", severity="warning", z=-3.3),  # back, while DAU keeps the thread open
    ]
    skipped = 0
    with fake_slack() as slack:
        for today in day:
            write_marts(db, [r for r in rows if r["alert_date"] <= today])
            report = run_day(db, slack.url, today, lifecycle=cfg)
            assert report.ok
            skipped += report.skipped_claimed
        assert len(slack.top_level()) == 1  # one thread for the whole episode
    resolved = log_entries(db, ("resolved",))
    assert sorted(r["series_key"] for r in resolved) == ["usage|free|dau|", "usage|free|tokens|"]
    assert len({r["message_ts"] for r in resolved}) == 1  # one reply closes the thread
    assert {r["alert_date"] for r in resolved} == {day[5]}  # tokens was quiet on day 1-2, but DAU was not
    assert skipped == 0


def test_data_health_alert_gone_after_the_full_day_says_data_complete(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    held = alert_row(D, is_postable=False, hold_reason="incomplete_data")
    health_alert = alert_row(D, domain="data_health", scope="usage", metric="rows", rule="data_completeness",
                             severity="warning", direction="decrease", z=None)  # fmt: skip
    write_marts(db, [held, health_alert], [(D, "usage", "incomplete")])
    with fake_slack() as slack:
        assert run_day(db, slack.url, D).exit_code == 3
        full = {**held, "is_postable": True, "is_loud": True, "hold_reason": None}
        write_marts(db, [full], [(D, "usage", "complete")])  # the day is complete: the gate lifts
        report = run_day(db, slack.url, D)
        assert report.exit_code == 0 and report.top_level_posts == 1 and report.withdrawals == 1
        note = slack.replies()[-1]
        assert "Data complete now" in note["text"] and note["channel"] == "#data"
        assert run_day(db, slack.url, D + dt.timedelta(days=5)).messages_posted == 0  # no "resolved" after it


# --- unclear answers (issue 25 bug 2) and Retry-After (issue 25 WEAK) -------------------------------


def quick(slack: LookupSlack, budget_s: float = 120.0) -> SlackTransport:
    """The Slack transport with a 1 s client timeout and an immediate look-up."""
    transport = SlackTransport(FAKE_TOKEN, slack.url, timeout=1)
    transport.lookup_delays_s, transport.budget_s = (0.0,), budget_s
    return transport


@pytest.mark.parametrize("fault", ["late", "non_json", "502", "reset"])
def test_an_accepted_post_with_an_unclear_answer_is_found_and_never_posted_twice(tmp_path: Path, fault: str) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, [alert_row(D)])
    with LookupSlack() as slack:
        slack.after_accept["chat.postMessage"] = [fault]  # Slack took it; the answer is lost or garbled
        report = run_day(db, slack.url, D, transport=quick(slack))
        assert report.ok and report.top_level_posts == 1, report.failures
        assert slack.lookups == ["conversations.list", "conversations.history"]
        [post] = log_entries(db, ("post",))
        assert post["message_ts"] == slack.posted[0]["ts"] and post["channel_id"] == slack.channel_id("#usage")
        assert run_day(db, slack.url, D, transport=quick(slack)).messages_posted == 0
        assert len(slack.posted) == 1


def test_an_unclear_answer_for_a_message_slack_did_not_take_is_posted_next_run(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, [alert_row(D)])
    with LookupSlack() as slack:
        slack.script = [Reply(502, "<html>Bad Gateway</html>")]  # refused before it was taken
        failed = run_day(db, slack.url, D, transport=quick(slack))
        assert not failed.ok and slack.posted == [] and "not in the channel" in failed.failures[0]
        assert run_day(db, slack.url, D, transport=quick(slack)).top_level_posts == 1
        assert len(slack.posted) == 1


def test_a_chart_and_a_thread_reply_with_unclear_answers_are_found_in_the_thread(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    cfg = LifecycleConfig(repeat_window_days=7)
    rows = [alert_row(D, z=-5.0)]
    write_marts(db, rows)
    with LookupSlack() as slack:
        slack.after_accept = {"files.completeUploadExternal": ["late"]}
        first = run_day(db, slack.url, D, lifecycle=cfg, transport=quick(slack), chart_for=chart)
        assert first.ok and first.charts_uploaded == 1 and slack.lookups == ["conversations.replies"], first.failures
        assert run_day(db, slack.url, D, lifecycle=cfg, transport=quick(slack), chart_for=chart).charts_uploaded == 0
        rows.append(alert_row(D + dt.timedelta(days=1), z=-4.0))
        write_marts(db, rows)
        slack.after_accept = {"chat.postMessage": ["non_json"]}
        for _ in range(2):
            run_day(db, slack.url, D + dt.timedelta(days=1), lifecycle=cfg, transport=quick(slack))
        assert slack.lookups[-1] == "conversations.replies"
        assert len(slack.replies()) == 1 and len(slack.uploads) == 1 and len(slack.top_level()) == 1
        assert len(log_entries(db, ("repeat",))) == 1


def test_a_long_retry_after_is_not_waited_for_and_the_budget_bounds_the_run(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    cost = alert_row(
        D - dt.timedelta(days=2), domain="gpu_cost", scope="api", metric="idle_cost", rule="idle_cost_zscore"
    )
    write_marts(db, [alert_row(D), cost])  # two digests: #usage, #api
    with LookupSlack() as slack:
        slack.default = Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3600"})
        started = time.monotonic()
        report = run_day(db, slack.url, D, transport=quick(slack))
        assert time.monotonic() - started < 20  # not two hours
        assert len(report.failures) == 2 and "ratelimited" in report.failures[0] and slack.lookups == []
        slack.default = Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
        before = len(slack.post_requests)
        report = run_day(db, slack.url, D, transport=quick(slack, budget_s=1.5))
        assert len(report.failures) == 2 and len(slack.post_requests) - before == 3  # one wait of 1 s fit the budget
        slack.default = Reply()
        assert run_day(db, slack.url, D, transport=quick(slack)).ok and len(slack.posted) == 2
