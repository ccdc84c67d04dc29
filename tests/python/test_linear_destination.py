"""Linear as a destination of the lifecycle, end to end: alerting.runner.run against the loopback
Slack (tests/python/alerting_support.fake_slack) and the schema-checking loopback Linear
(tests/python/linear_server.py), on fixture marts (no dbt)."""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from alerting.cli import main
from alerting.delivery_log import DeliveryLog
from alerting.lifecycle import LifecycleConfig
from alerting.routing import Routing, RoutingError, parse_routing
from alerting.runner import RunOptions, RunReport, run
from alerting.transport.linear import LinearClient, LinearTransport, issue_uuid
from alerting.transport.slack import SlackTransport
from alerting.warehouse import DuckDBBackend
from tests.python.alerting_support import FAKE_TOKEN, FakeSlack, fake_slack, log_entries
from tests.python.delivery_support import alert_row, write_marts
from tests.python.linear_server import LinearServer

KEY = "lin_api_" + "Qm7xK2pR9t" * 4
D = dt.date(2026, 11, 20)
CFG = LifecycleConfig(repeat_window_days=7, resolve_after_days=2)
SLACK = [{"match": {"team": t}, "slack": c, "continue": True} for t, c in (("product", "#usage"), ("api", "#api"))]
BASE: dict[str, Any] = {"default_channel": "#ltx-monitoring", "routes": SLACK}
DRIVERS = "acme -40% tokens; @here <!channel> [x](https://evil.example)"


@pytest.fixture
def linear() -> Iterator[LinearServer]:
    with LinearServer(KEY) as srv:
        yield srv


def routing(team_id: str | None, teams: dict[str, str] | None = None, **route: Any) -> Routing:
    """Each team's Slack route continues to its Linear route (`teams`; default: product -> `team_id`)."""
    linear = [{"match": {"team": t}, "linear": i, **route} for t, i in (teams or {"product": team_id or ""}).items()]
    return parse_routing({**BASE, "routes": [*SLACK, *(linear if team_id else [])]}, {})


def linear_ids(route: Routing, team: str, severity: str, run_days: int) -> list[str | None]:
    return [r.linear for r in route.routes_for(team, "usage", severity, run_days) if r.linear]


def run_day(
    db: Path, slack: FakeSlack, day: dt.date, route: Routing, server: LinearServer | None, claim_ttl_s: int = 900
) -> RunReport:
    """One morning's run with Linear on (`server`) or off (None)."""
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    client = LinearClient(KEY, server.url, timeout=10.0, sleep=lambda s: None) if server else None
    try:
        options = RunOptions(usage_date=day, cost_date=day - dt.timedelta(days=2), lifecycle=CFG,
                             claim_ttl_s=claim_ttl_s)  # fmt: skip
        return run(backend, route, SlackTransport(FAKE_TOKEN, slack.url), options, io.StringIO(),
                   linear=LinearTransport(client) if client else None)  # fmt: skip
    finally:
        backend.close()


def linear_rows(db: Path) -> list[dict[str, Any]]:
    return [r for r in log_entries(db) if str(r["destination"]).startswith("linear:")]


def slack_view(slack: FakeSlack) -> list[tuple[str, bool, str]]:
    """What Slack got: (channel, a reply?, text) of every message, in order."""
    return [(p["channel"], bool(p.get("thread_ts")), p["text"]) for p in slack.posted]


def test_a_critical_incident_opens_one_issue_in_the_teams_linear_linked_to_slack(
    tmp_path: Path, linear: LinearServer
) -> None:
    db = tmp_path / "m.duckdb"
    team = linear.add_team("OPS")
    other = linear.add_team("API")
    row = alert_row(D, scope="free @here", severity="critical", z=-6.48, drivers_summary=DRIVERS)
    write_marts(db, [row])
    with fake_slack() as slack:
        first = run_day(db, slack, D, routing(team, teams={"product": team, "api": other}), linear)
        assert first.ok, first.failures
        assert len(slack.top_level()) == 1
        [issue] = linear.issues.values()
        assert issue["id"] == issue_uuid(f"linear:{team}|{row['incident_id']}")
        assert issue["team_id"] == team and issue["priority"] == 1
        assert "Tokens" in issue["title"] and "CRITICAL" in issue["title"] and "\n" not in issue["title"]
        assert "＠here" in issue["title"] and "@" not in issue["title"]
        assert issue["title"].endswith(f" · CRITICAL decrease · {D.isoformat()}")  # one series' issues tell apart
        body = issue["description"]
        assert "Current: 352" in body and "Z-score: -6.48" in body  # the numbers (1000 - 6.48 * 100)
        assert "Drivers: acme -40% tokens" in body  # the cause
        assert "＠here" in body and "‹!channel›" in body and "［x］(https:⁄⁄evil" in body  # data made inert
        assert "@here" not in body and "](https://evil" not in body
        channel_id = slack.channel_id("#usage")
        assert f"[Slack message](https://slack.com/archives/{channel_id}/p1700000000000001)" in body
        [logged] = linear_rows(db)
        assert logged["destination"] == f"linear:{team}" and logged["kind"] == "post"
        assert logged["message_ts"] == logged["thread_ts"] == issue["id"]
        # a re-run: nothing new anywhere, not even a request for the issue
        before = len(linear.requests)
        again = run_day(db, slack, D, routing(team), linear)
        assert again.ok and again.messages_posted == 0 and len(linear.issues) == 1
        assert len(linear.requests) == before and len(slack.posted) == 1


def _lose_linear_rows(db: Path) -> None:
    con = duckdb.connect(str(db))
    try:
        con.execute("delete from main_alerting.alert_delivery_log where destination like 'linear:%'")
    finally:
        con.close()


def test_a_crash_between_linears_answer_and_the_log_write_still_leaves_one_issue(
    tmp_path: Path, linear: LinearServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "m.duckdb"
    team = linear.add_team("OPS")
    write_marts(db, [alert_row(D, severity="critical")])
    record = DeliveryLog.record

    def crash_on_linear(self: DeliveryLog, entries: Any) -> None:
        if any(e.destination.startswith("linear:") for e in entries):
            raise OSError("disk full")  # the issue exists, its row is not written
        record(self, entries)

    with fake_slack() as slack:
        with monkeypatch.context() as patch:
            patch.setattr(DeliveryLog, "record", crash_on_linear)
            crashed = run_day(db, slack, D, routing(team), linear, claim_ttl_s=1)
        assert not crashed.ok and "posted but not recorded" in crashed.failures[0]
        assert len(linear.issues) == 1 and linear_rows(db) == []
        time.sleep(1.2)  # the crashed run's claim expires
        retried = run_day(db, slack, D, routing(team), linear, claim_ttl_s=1)
        assert retried.ok, retried.failures
        assert len(slack.posted) == 1  # Slack's row was written: not posted again
        assert len(linear.issues) == 1 and len(linear_rows(db)) == 1  # the same issue, now logged
        assert linear.calls().count("issueCreate") == 2 and "issue" in linear.calls()  # refused, looked up
        _lose_linear_rows(db)  # once more: the row lost after the run
        time.sleep(1.2)
        assert run_day(db, slack, D, routing(team), linear, claim_ttl_s=1).ok
        assert len(linear.issues) == 1 and len(linear_rows(db)) == 1


@pytest.mark.parametrize("fault", ["500", "500-after"])
def test_a_500_then_a_retry_leaves_one_issue(tmp_path: Path, linear: LinearServer, fault: str) -> None:
    db = tmp_path / "m.duckdb"
    team = linear.add_team("OPS")
    write_marts(db, [alert_row(D, severity="critical")])
    linear.fault("issueCreate", fault)  # "500": nothing done; "500-after": created, then the 500
    with fake_slack() as slack:
        report = run_day(db, slack, D, routing(team), linear)
        assert report.ok, report.failures
        assert len(linear.issues) == 1 and len(linear_rows(db)) == 1
        assert run_day(db, slack, D, routing(team), linear).messages_posted == 0
        assert len(linear.issues) == 1


def test_a_run_that_gets_only_500s_fails_and_the_next_run_finds_the_issue(tmp_path: Path, linear: LinearServer) -> None:
    db = tmp_path / "m.duckdb"
    team = linear.add_team("OPS")
    write_marts(db, [alert_row(D, severity="critical")])
    linear.fault("issueCreate", "500-after")  # created, but every answer about it is a 500
    for _ in range(8):
        linear.fault("issueCreate", "500")
        linear.fault("issue", "500")
    with fake_slack() as slack:
        failed = run_day(db, slack, D, routing(team), linear)
        assert not failed.ok and "Linear answered HTTP 500" in failed.failures[0]
        assert len(linear.issues) == 1 and linear_rows(db) == [] and len(slack.posted) == 1
        linear.faults.clear()
        retried = run_day(db, slack, D, routing(team), linear)  # the failed run released its claim
        assert retried.ok, retried.failures
        assert len(linear.issues) == 1 and len(linear_rows(db)) == 1 and len(slack.posted) == 1


def _warning_story(
    db: Path, slack: FakeSlack, route: Routing, server: LinearServer | None
) -> tuple[list[RunReport], list[int]]:
    """WARNING on days 1-4, quiet on 5-6 (resolved), CRITICAL on day 7 (recurrence), and a re-run of it:
    each run's report and the number of Linear issues after it."""
    rows = [alert_row(D + dt.timedelta(days=i), severity="warning", z=-3.5 - i / 10) for i in range(4)]
    days = [0, 1, 2, 3, 4, 5, 6, 6]
    reports, issues_after = [], []
    for i in days:
        if i == 6:
            rows = [*rows, alert_row(D + dt.timedelta(days=6), severity="critical", z=-7.0)]
        write_marts(db, rows)
        reports.append(run_day(db, slack, D + dt.timedelta(days=i), route, server))
        assert reports[-1].ok, reports[-1].failures
        issues_after.append(len(server.issues) if server else 0)
    return reports, issues_after


def test_warning_streak_repeat_resolution_and_recurrence(tmp_path: Path, linear: LinearServer) -> None:
    team = linear.add_team("OPS")
    with fake_slack() as slack:
        reports, issues_after = _warning_story(tmp_path / "linear.duckdb", slack, routing(team), linear)
        with_linear = slack_view(slack)
    with fake_slack() as slack:
        _warning_story(tmp_path / "slack.duckdb", slack, routing(None), None)
        assert slack_view(slack) == with_linear  # Slack gets exactly the same with Linear on
    assert issues_after == [0, 0, 1, 1, 1, 1, 1, 1]  # WARNING: no issue on days 1 and 2, one on day 3
    assert [r.top_level_posts for r in reports] == [1, 0, 1, 0, 0, 0, 2, 0]  # day 3: Linear; day 7: both
    assert [r.replies for r in reports] == [0, 1, 1, 2, 0, 0, 0, 0]  # day 4: Slack reply + Linear comment
    [issue] = linear.issues.values()  # one issue: day 3 opened it, day 7 reopened it
    assert issue["priority"] == 2 and "day 3" not in issue["title"]
    assert "thread_ts=1700000000.000001" in issue["description"]  # the day-3 reply in the Slack thread
    comments = [c for c in linear.comments.values() if c["issue_id"] == issue["id"]]
    assert len(comments) == 3  # day 4 repeat, day 6 resolved (closing), day 7 back
    assert "day 4 in a row" in comments[0]["body"]
    assert "Resolved" in comments[1]["body"] and comments[2]["body"].startswith("**Back:**")
    assert linear.state_of(issue["id"])["type"] == "unstarted"  # reopened
    kinds = sorted(r["kind"] for r in linear_rows(tmp_path / "linear.duckdb"))
    assert kinds == ["post", "post", "repeat", "resolved"]


def test_resolution_closes_the_issue(tmp_path: Path, linear: LinearServer) -> None:
    db = tmp_path / "m.duckdb"
    team = linear.add_team("OPS")
    write_marts(db, [alert_row(D, severity="critical")])
    with fake_slack() as slack:
        assert run_day(db, slack, D, routing(team), linear).ok
        assert run_day(db, slack, D + dt.timedelta(days=1), routing(team), linear).resolved == 0
        report = run_day(db, slack, D + dt.timedelta(days=2), routing(team), linear)
        assert report.ok and report.resolved == 2  # the Slack thread and the Linear issue
        [issue] = linear.issues.values()
        assert linear.state_of(issue["id"])["type"] == "completed"
        [comment] = linear.comments.values()
        assert comment["id"] == issue_uuid(f"linear:{team}|{linear_rows(db)[-1]['delivery_key']}")


def test_warning_before_day_three_and_a_notice_never_go_to_linear(tmp_path: Path, linear: LinearServer) -> None:
    db = tmp_path / "m.duckdb"
    team = linear.add_team("OPS")
    rows = [alert_row(D + dt.timedelta(days=i), severity="notice", z=-2.5) for i in range(4)]
    write_marts(db, rows)
    with fake_slack() as slack:
        for i in range(4):
            assert run_day(db, slack, D + dt.timedelta(days=i), routing(team), linear).ok
    assert linear.issues == {}
    # warning_streak_days = 0: a warning never opens an issue, whatever its streak
    db2 = tmp_path / "m2.duckdb"
    write_marts(db2, [alert_row(D + dt.timedelta(days=i), severity="warning") for i in range(3)])
    with fake_slack() as slack:
        for i in range(3):
            assert run_day(db2, slack, D + dt.timedelta(days=i), routing(team, warning_streak_days=0), linear).ok
    assert linear.issues == {}


def test_env_route_and_bad_team_ids(linear: LinearServer) -> None:
    team = linear.add_team("OPS")
    env_route = parse_routing(BASE, {"LTX_LINEAR_TEAM_PRODUCT": team.upper(), "SLACK_BOT_TOKEN": "x"})
    assert env_route.uses_linear and "SLACK_BOT_TOKEN" not in env_route.env
    assert linear_ids(env_route, "api", "critical", 1) == []
    assert linear_ids(env_route, "product", "critical", 1) == [team]
    assert linear_ids(env_route, "product", "warning", 2) == []
    assert linear_ids(env_route, "product", "warning", 3) == [team]
    assert linear_ids(env_route, "product", "notice", 9) == []
    assert [r.slack for r in env_route.routes_for("product", "usage", "critical")] == [None, "#usage"]
    loose = routing(team, min_severity="warning", warning_streak_days=0)
    assert linear_ids(loose, "product", "warning", 1) == [team]
    assert linear_ids(loose, "product", "notice", 9) == []
    assert linear_ids(loose, "api", "critical", 1) == []  # no Linear route for api
    for bad in ({"LTX_LINEAR_TEAM_PRODUCT": "OPS"}, {}):
        config = BASE if bad else {**BASE, "routes": [{"linear": "not-a-uuid"}]}
        with pytest.raises(RoutingError, match="not a Linear team id"):
            parse_routing(config, bad)
    with pytest.raises(RoutingError, match=r"#1.min_severity: 'loud' is not a severity"):
        parse_routing({**BASE, "routes": [{"linear": team, "min_severity": "loud"}]}, {})
    with pytest.raises(RoutingError, match="unknown key"):
        parse_routing({**BASE, "routes": [{"linear": team, "team": "api"}]}, {})


def test_cli_needs_a_valid_key_when_linear_is_on_and_dry_run_prints_it(
    tmp_path: Path, linear: LinearServer, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "m.duckdb"
    team = linear.add_team("OPS")
    write_marts(db, [alert_row(D, severity="critical")])
    channels = tmp_path / "channels.toml"
    channels.write_text(
        'default_channel = "#ltx-monitoring"\n[[routes]]\nmatch = { team = "product" }\nslack = "#usage"\n'
    )
    with fake_slack() as slack:
        env = {"SLACK_BOT_TOKEN": FAKE_TOKEN, "SLACK_API_URL": slack.url, "LTX_DUCKDB_PATH": str(db),
               "LTX_LINEAR_TEAM_PRODUCT": team, "LINEAR_API_URL": linear.url}  # fmt: skip
        args = ["run", "--date", D.isoformat(), "--channels-file", str(channels)]
        assert main(args, env) == 2  # no key
        assert "LINEAR_API_KEY is not set: routing sends incidents to Linear" in capsys.readouterr().err
        assert main(args, {**env, "LINEAR_API_KEY": "lin_api_short SECRETSECRET"}) == 2
        assert "SECRETSECRET" not in capsys.readouterr().err
        assert main(args, {**env, "LTX_LINEAR_TEAM_PRODUCT": "OPS", "LINEAR_API_KEY": KEY}) == 2  # bad team id
        assert slack.posted == [] and linear.requests == []
        assert main([*args, "--dry-run"], env) == 0
        out = capsys.readouterr().out
        assert f"linear:{team} · new issue" in out and "priority 1" in out
        assert slack.posted == [] and linear.requests == []
        assert main(args, {**env, "LINEAR_API_KEY": KEY}) == 0
        assert len(linear.issues) == 1 and len(slack.posted) == 1
        assert KEY not in capsys.readouterr().err
