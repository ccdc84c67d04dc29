"""Late data with the real dbt project: partial day -> build -> run -> full day -> daily build -> run -> run.

Synthetic raw data whose last usage day is loaded at 40 %: the full build alerts on it (the
marts of this branch have no data-health gate yet, so the partial day's decreases post).
Then the rest of the day lands, the scheduler's incremental build rebuilds it, and the next
run says what changed — in the threads of the first posts, one reply per changed alert — and
a further run posts nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from pathlib import Path

import duckdb

from alerting.routing import parse_routing
from alerting.runner import RunOptions, RunReport, run
from alerting.transport import SlackTransport
from alerting.warehouse import DuckDBBackend
from tests.python.alerting_support import FAKE_TOKEN, fake_slack, log_entries
from tests.python.conftest import BIN, dbt_env, failure_summary
from tests.python.conftest import run as sh

END = dt.date(2026, 11, 22)
ROUTING = parse_routing({"default_channel": "#mon", "channels": {"product": "#usage", "api": "#api"}}, {})


def dbt_build(raw: Path, db: Path, *extra: str) -> None:
    res = sh([str(BIN / "dbt"), "build", "--target", "duckdb", *extra], dbt_env(raw, db))
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)


def alerting_run(db: Path, url: str) -> RunReport:
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    try:
        options = RunOptions(usage_date=END, cost_date=END - dt.timedelta(days=2))
        return run(backend, ROUTING, SlackTransport(FAKE_TOKEN, url), options, io.StringIO())
    finally:
        backend.close()


def usage_alerts(db: Path) -> dict[str, tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select alert_id, severity, direction from main_marts.fct_alerts"
            " where domain = 'usage' and alert_date = ? and not is_suppressed",
            [END],
        ).fetchall()
    finally:
        con.close()
    return {a: (s, d) for a, s, d in rows}


def test_partial_day_then_full_day_gives_corrections_in_threads(tmp_path: Path) -> None:
    raw, db = tmp_path / "raw", tmp_path / "m.duckdb"
    res = sh([str(BIN / "python"), "-m", "ltx_synth", "--out", str(raw), "--seed", "5", "--end-date", END.isoformat(),
              "--days", "84", "--users", "600", "--gpu-requests-per-day", "40"])  # fmt: skip
    assert res.returncode == 0, res.stderr
    day_file = raw / "ltxstudio_agg_user_date" / f"{END.isoformat()}.parquet"
    full = tmp_path / "full-day.parquet"
    shutil.copy(day_file, full)
    con = duckdb.connect()
    con.execute(
        f"copy (select * from read_parquet('{full}') where hash(lt_id) % 10 < 4) to '{day_file}' (format parquet)"
    )  # 40 % of the day's users: a partial load
    con.close()

    dbt_build(raw, db, "--full-refresh")
    partial = usage_alerts(db)
    assert partial and all(d == "decrease" for _, d in partial.values()), partial

    with fake_slack() as slack:
        first = alerting_run(db, slack.url)
        assert first.ok and first.alerts_delivered >= len(partial)
        roots = {r["alert_id"]: r["message_ts"] for r in log_entries(db, ("post",))}
        top_before = len(slack.top_level())

        shutil.copy(full, day_file)  # the rest of the day lands
        dbt_build(raw, db, "--vars", f"{{test_window_days: 7, run_date: '{(END + dt.timedelta(days=1)).isoformat()}'}}")
        rebuilt = usage_alerts(db)
        changed = {a for a in partial if a not in rebuilt or rebuilt[a] != partial[a]}
        assert changed, "the full day changed none of the partial day's alerts: the test proves nothing"

        second = alerting_run(db, slack.url)
        assert second.ok, second.failures
        assert second.corrections + second.withdrawals == len(changed)
        replies = slack.replies()
        assert len(replies) == len(changed)
        replied = [r for r in log_entries(db, ("correction", "withdrawal"))]
        assert sorted(r["alert_id"] for r in replied) == sorted(changed)  # one reply per changed alert
        for r in replied:
            assert r["thread_ts"] == roots[r["alert_id"]]  # in the thread of the post that carried it
        new_top = slack.top_level()[top_before:]
        new_ids = {r["alert_id"] for r in log_entries(db, ("post",))} - set(roots)
        assert set(partial).isdisjoint(new_ids)  # nothing delivered before is posted again top-level
        assert (len(new_top) > 0) == bool(new_ids)

        posted = len(slack.posted)
        third = alerting_run(db, slack.url)
        assert third.ok and third.messages_posted == 0 and len(slack.posted) == posted
    print(
        f"\nlate data: {len(partial)} partial-day alerts posted; after the full day {second.corrections}"
        f" correction(s), {second.withdrawals} withdrawal(s), {len(new_top)} new top-level post(s)"
    )
