"""The alerting CLI on the real marts built by `make test-dbt` (data/test/ltx_monitoring.duckdb)."""

from __future__ import annotations

import datetime as dt
import html
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml

from alerting import sanitize
from alerting.cli import main
from tests.python.alerting_support import FAKE_TOKEN, fake_slack, log_rows
from tests.python.conftest import REPO
from tests.python.delivery_support import run_day
from tests.python.message_checks import disagreements

FINALISATION_DAYS = 3


def expected_alerts(db: Path, day: dt.date) -> set[str]:
    """Independently: the alerts the run must deliver for `day` (a first run, no thread open): every postable
    alert of an incident with a loud alert (quiet-only incidents open nothing; DESIGN §2 "Loud vs quiet")."""
    cost_day = day + dt.timedelta(days=1 - FINALISATION_DAYS)
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select alert_id from main_marts.fct_alerts where is_postable"
            " and incident_id in (select incident_id from main_marts.fct_alerts where is_loud)"
            " and ((domain = 'gpu_cost' and alert_date = ?) or (domain <> 'gpu_cost' and alert_date = ?))",
            [cost_day, day],
        ).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


@pytest.fixture
def real_copy(test_duckdb: Path, tmp_path: Path) -> tuple[Path, dt.date]:
    path = tmp_path / "real.duckdb"
    shutil.copy(test_duckdb, path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "select max(alert_date) from main_marts.fct_alerts where domain = 'usage' and is_loud"
        ).fetchone()
    finally:
        con.close()
    assert row and row[0], "the test build has no loud usage alert at all"
    return path, row[0]


def test_real_marts_dry_run_then_post_once(real_copy: tuple[Path, dt.date], capsys: pytest.CaptureFixture[str]) -> None:
    path, day = real_copy
    expected = expected_alerts(path, day)
    assert expected
    args = ["run", "--date", day.isoformat(), "--cost-finalisation-days", str(FINALISATION_DAYS)]

    assert main([*args, "--dry-run"], {"LTX_DUCKDB_PATH": str(path)}) == 0
    out = capsys.readouterr().out
    assert "--- Block Kit JSON ---" in out and "Current: " in out and "Z-score: " in out
    assert log_rows(path) == []

    with fake_slack() as server:
        env = {"LTX_DUCKDB_PATH": str(path), "SLACK_BOT_TOKEN": FAKE_TOKEN, "SLACK_API_URL": server.url}
        assert main(args, env) == 0
        assert {a for a, _ in log_rows(path)} == expected
        posted = len(server.requests)
        assert posted >= 1
        assert main(args, env) == 0
        assert len(server.requests) == posted
    err = capsys.readouterr().err
    assert FAKE_TOKEN not in err


def test_real_marts_free_alert_says_who_moved_it(
    test_duckdb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A free usage alert on the test build: the dry run shows the concentration line, not 'Free (tier)'."""
    path = tmp_path / "real.duckdb"
    shutil.copy(test_duckdb, path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute(
            "select a.alert_date, c.users_moving_with_change, c.top_users_n from main_marts.fct_alerts a"
            " join main_marts.fct_usage_alert_concentration c using (alert_id)"
            " where a.scope = 'free' and a.is_loud and a.is_incident_primary and c.uses_concentration_drilldown"
            " order by a.alert_date desc limit 1"
        ).fetchone()
    finally:
        con.close()
    assert row, "the test build has no loud free usage alert"
    day, moving, top_n = row
    args = ["run", "--date", day.isoformat(), "--cost-finalisation-days", str(FINALISATION_DAYS), "--dry-run"]
    assert main(args, {"LTX_DUCKDB_PATH": str(path)}) == 0
    out = capsys.readouterr().out
    assert f"Users: {moving:,} users moved with the change" in out
    assert f"top {top_n} users " in out and "(first seen recently)" in out
    assert "Free (tier)" not in out


def test_a_half_built_warehouse_posts_nothing_and_exits_3(
    real_copy: tuple[Path, dt.date], capsys: pytest.CaptureFixture[str]
) -> None:
    """A build stopped after fct_data_health and before fct_alerts (issue 25, bug 3): new health beside old
    alerts. The run posts nothing (no stale alert, no all-clear) and exits 3, naming the reason."""
    path, day = real_copy
    con = duckdb.connect(str(path))
    try:
        con.execute("update main_marts.fct_data_health set build_id = 'a-later-build'")
    finally:
        con.close()
    args = ["run", "--date", day.isoformat(), "--cost-finalisation-days", str(FINALISATION_DAYS), "--all-clear"]
    with fake_slack() as server:
        env = {"LTX_DUCKDB_PATH": str(path), "SLACK_BOT_TOKEN": FAKE_TOKEN, "SLACK_API_URL": server.url}
        assert main(args, env) == 3
        assert server.requests == []
    assert "come from different dbt builds" in capsys.readouterr().err
    assert log_rows(path) == []


def test_every_action_of_the_build_reads_as_written(test_duckdb: Path) -> None:
    """The actions and the data-health readings are the project's own text (alert_rules in dbt_project.yml,
    fct_data_health.status_reason) but reach Slack as data: one that needs neutralising (a backtick, an asterisk,
    a free underscore) would show look-alikes, one over the cap an ellipsis. Every one of the test build must
    come through as written."""
    con = duckdb.connect(str(test_duckdb), read_only=True)
    try:
        rows = con.execute(
            "select recommended_action from main_marts.fct_alerts union select drivers_summary"
            " from main_marts.fct_alerts where domain = 'data_health'"
        ).fetchall()
        actions = [r[0] for r in rows]
        releases = con.execute(
            "select alert_date, recommended_action from main_marts.fct_alerts"
            " where domain = 'data_health' and calendar_event is null"
        ).fetchall()
    finally:
        con.close()
    assert any(a and "alerting release --date" in a for a in actions), "no data-health action in the test build"
    assert not any(a and "{" in a for a in actions), "a declared action's placeholder left unfilled"
    assert releases and all(a.endswith(f"release --date {d.isoformat()}.") for d, a in releases), releases
    for action in filter(None, actions):
        shown = html.unescape(sanitize.slack_mrkdwn(sanitize.clean(action, sanitize.TEXT_CAP)))
        assert shown == action


def test_the_partial_load_reading_reaches_slack_whole() -> None:
    """Year 3's partial load ended 'a collapse has t…': the reading (status: status_reason, as
    int_alerts__data_health_candidates writes it) was over the cap and lost its how-to-tell. The test build has no
    partial load, so the readings are those the dbt unit tests of fct_data_health fix."""
    units = yaml.safe_load((REPO / "models/marts/data_health/_data_health__unit_tests.yml").read_text())
    expected = [row for u in units["unit_tests"] for row in u["expect"].get("rows", [])]
    rows = [row for row in expected if row.get("status") == "incomplete" and "status_reason" in row]
    assert {row["source"] for row in rows} >= {"usage"}, rows
    for row in rows:
        text = f"incomplete: {row['status_reason']}"
        assert html.unescape(sanitize.slack_mrkdwn(sanitize.clean(text, sanitize.TEXT_CAP))) == text


def test_every_message_of_the_replayed_build_agrees_with_its_own_numbers(test_duckdb: Path, tmp_path: Path) -> None:
    """The test build replayed morning by morning through the runner and the loopback Slack (from the day before its
    first postable alert): each message agrees with its own numbers. A headline's direction with its change's sign;
    'day N in a row' with its z trend (the last min(N, 7) days) and with its action; a cost cause of the headline's
    own quantity with its direction (year 4's 'WARNING increase' explained by a fall); a resolved line's quiet days
    with its dates. Year 1's Free tokens said 'day 27 in a row' two mornings running. Every rule meets a message."""
    db = tmp_path / "replay.duckdb"
    shutil.copy(test_duckdb, db)
    with duckdb.connect(str(db), read_only=True) as con:
        first, last = con.execute(
            "select min(alert_date) - 1, max(alert_date) from main_marts.fct_alerts where is_postable"
        ).fetchone() or (None, None)
    assert first and last
    said = Counter[str]()
    with fake_slack() as slack:
        day = first
        while day <= last + dt.timedelta(days=FINALISATION_DAYS):
            assert run_day(db, slack.url, day).ok
            day += dt.timedelta(days=1)
        texts = [str(p.get("text", "")) for p in slack.posted]
    wrong = [why for text in texts for why in disagreements(text, said)]
    assert not wrong, wrong
    assert set(said) == {"direction", "trend", "streak", "cause", "resolved"}, said
