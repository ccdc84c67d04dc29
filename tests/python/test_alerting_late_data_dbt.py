"""Late data with the real dbt project, morning by morning (issue 11's end-to-end story).

1. the last usage day is loaded at 40 %: `fct_data_health` calls it incomplete, its usage
   alerts are held (`incomplete_data`), ONE data-health alert is posted, the run exits 3;
2. more rows land (75 %, above the incomplete threshold) and the daily build rebuilds the day:
   the day's alerts post normally, and the data-health alert's thread says the data is complete;
3. the rest of the day lands: every delivered alert whose direction or severity band changed
   gets one correction, every one that is gone one withdrawal, each in its own thread, no new
   top-level post for them;
4. a further run posts nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import duckdb
import pytest

from alerting.routing import parse_routing
from alerting.runner import RunOptions, RunReport, run
from alerting.transport.slack import SlackTransport
from alerting.warehouse import DuckDBBackend
from tests.python.alerting_support import FAKE_TOKEN, fake_slack, log_entries
from tests.python.conftest import BIN, MODELS_ONLY, dbt_env, failure_summary
from tests.python.conftest import run as sh
from tests.python.delivery_support import team_routes

pytestmark = pytest.mark.dbt

END = dt.date(2026, 11, 22)
ROUTING = parse_routing({"default_channel": "#mon", "routes": team_routes(product="#usage", api="#api")}, {})


def dbt_build(raw: Path, db: Path, *extra: str) -> None:
    res = sh([str(BIN / "dbt"), "build", "--target", "duckdb", *MODELS_ONLY, *extra], dbt_env(raw, db))
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)


def alerting_run(db: Path, url: str) -> RunReport:
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    try:
        options = RunOptions(usage_date=END, cost_date=END - dt.timedelta(days=2))
        return run(backend, ROUTING, SlackTransport(FAKE_TOKEN, url), options, io.StringIO())
    finally:
        backend.close()


def usage_alerts(db: Path, posted_only: bool = False) -> dict[str, tuple[str, str]]:
    """The day's usage alerts; `posted_only`: those a first run posts (the postable alerts of an incident
    with a loud alert: quiet-only incidents open nothing)."""
    loud = " and is_postable and incident_id in (select incident_id from main_marts.fct_alerts where is_loud)"
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select alert_id, severity, direction from main_marts.fct_alerts"
            " where domain = 'usage' and alert_date = ? and not is_suppressed" + (loud if posted_only else ""),
            [END],
        ).fetchall()
    finally:
        con.close()
    return {a: (s, d) for a, s, d in rows}


def load_fraction(full: Path, day_file: Path, tenths: int) -> None:
    """The day's raw file holds only the users with hash(lt_id) % 10 < tenths (a partial load)."""
    con = duckdb.connect()
    try:
        con.execute(
            f"copy (select * from read_parquet('{full}') where hash(lt_id) % 10 < {tenths}) to '{day_file}'"
            " (format parquet)"
        )
    finally:
        con.close()


# the next morning's run; a full refresh ignores the test window, so all three builds pass the
# same vars and the daily builds reuse the first one's parse (dbt's partial parsing)
DAILY_VARS = f"{{test_window_days: 7, run_date: '{(END + dt.timedelta(days=1)).isoformat()}'}}"


def daily_build(raw: Path, db: Path) -> None:
    dbt_build(raw, db, "--vars", DAILY_VARS)


def test_partial_day_is_held_then_posted_then_corrected_in_threads(tmp_path: Path) -> None:
    raw, db = tmp_path / "raw", tmp_path / "m.duckdb"
    res = sh([str(BIN / "python"), "-m", "ltx_synth", "--out", str(raw), "--seed", "5", "--end-date", END.isoformat(),
              "--days", "84", "--users", "600", "--gpu-requests-per-day", "40"])  # fmt: skip
    assert res.returncode == 0, res.stderr
    day_file = raw / "ltxstudio_agg_user_date" / f"{END.isoformat()}.parquet"
    full = tmp_path / "full-day.parquet"
    shutil.copy(day_file, full)

    load_fraction(full, day_file, 4)  # 40 %
    dbt_build(raw, db, "--full-refresh", "--vars", DAILY_VARS)
    with fake_slack() as slack:
        first = alerting_run(db, slack.url)
        assert first.exit_code == 3 and first.usage_data_status == "incomplete"  # data not ready
        assert first.held_by_reason.get("incomplete_data", 0) > 0
        data_posts = [p for p in slack.top_level() if p["channel"] == "#mon"]  # team data -> default channel here
        assert len(data_posts) == 1 and "usage" in data_posts[0]["text"].lower()
        assert not [p for p in slack.posted if p["channel"] == "#usage"]  # no segment alert, no usage all-clear

        load_fraction(full, day_file, 8)  # most of the day lands: no longer incomplete
        daily_build(raw, db)
        partial = usage_alerts(db, posted_only=True)
        assert partial, "the 80 % day posts no usage alert: the correction step below would prove nothing"
        second = alerting_run(db, slack.url)
        assert second.exit_code == 0 and second.ok, second.failures
        assert any(p["channel"] == "#usage" for p in slack.top_level())
        assert any("Data complete now" in p["text"] for p in slack.replies())
        roots = {r["alert_id"]: r["message_ts"] for r in log_entries(db, ("post",))}
        assert set(partial) <= set(roots)
        top_before, replies_before = len(slack.top_level()), len(slack.replies())

        shutil.copy(full, day_file)  # the rest of the day lands
        daily_build(raw, db)
        rebuilt = usage_alerts(db)
        changed = {a for a in partial if a not in rebuilt or rebuilt[a] != partial[a]}
        assert changed, "the full day changed none of the alerts: the test proves nothing"
        third = alerting_run(db, slack.url)
        assert third.ok, third.failures
        assert third.corrections + third.withdrawals == len(changed)
        replied = [r for r in log_entries(db, ("correction", "withdrawal")) if r["alert_id"] in partial]
        assert sorted(r["alert_id"] for r in replied) == sorted(changed)  # one reply per changed alert
        for r in replied:
            assert r["thread_ts"] == roots[r["alert_id"]]  # in the thread of the post that carried it
        assert len(slack.replies()) - replies_before >= len(changed)
        new_ids = {r["alert_id"] for r in log_entries(db, ("post",))} - set(roots)
        assert set(partial).isdisjoint(new_ids)  # nothing delivered before is posted again top-level
        assert (len(slack.top_level()) > top_before) == bool(new_ids)

        posted = len(slack.posted)
        fourth = alerting_run(db, slack.url)
        assert fourth.ok and fourth.messages_posted == 0 and len(slack.posted) == posted
    print(
        f"\nlate data: 40 % day held ({first.held_by_reason}); 80 % day posted {len(partial)} usage alerts;"
        f" full day: {third.corrections} correction(s), {third.withdrawals} withdrawal(s)"
    )
