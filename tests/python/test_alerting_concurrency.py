"""Exactly once under a busy warehouse and concurrent runs (issue 14 items 6 and 7).

* The DuckDB file is held only for reads and log writes, never across a Slack call: a writer
  (another process, as `dbt build` is) succeeds while the run waits on a slow Slack.
* A file locked by another process is waited for with bounded retries, then WarehouseBusy (exit 4).
* Claims: a run skips what another live run has claimed; a crashed run's claims (its pid gone on
  this host) are taken over at once; another host's claim lives until its lease expires.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from alerting.delivery_log import DeliveryLog
from alerting.runner import RunReport
from alerting.transport.slack import SlackTransport
from alerting.warehouse import DuckDBBackend, WarehouseBusy
from tests.python.alerting_support import FakeSlack, fake_slack, log_entries, log_rows
from tests.python.delivery_support import FAKE_TOKEN, alert_row, run_day, write_marts

REPO = Path(__file__).resolve().parents[2]
D = dt.date(2026, 11, 20)
COST_DAY = D - dt.timedelta(days=2)  # finalised cost day of usage day D
ROWS = [
    alert_row(D),
    alert_row(D, scope="paying"),
    alert_row(COST_DAY, domain="gpu_cost", scope="api", metric="idle_cost", rule="idle_cost_zscore", z=5.2),
]  # three alerts, two digests (#usage with two incidents, #api)


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the DuckDB file (as a running dbt build does); returns once it holds it."""
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(db)!r})\n"
        "con.execute('create or replace table main_marts.busy as select 1 as x')\n"
        "print('locked', flush=True)\n"
        f"time.sleep({seconds})\n"
        "con.close()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def writer(db: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import duckdb\n"
        f"con = duckdb.connect({str(db)!r})\n"
        "con.execute('create or replace table main_marts.built_meanwhile as select 42 as answer')\n"
        "con.close()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_locked_file_is_waited_for_then_the_run_succeeds(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS)
    with fake_slack() as slack:
        proc = hold_lock(db, 2.0)
        started = time.monotonic()
        report = run_day(db, slack.url, D, lock_timeout_s=30)
        waited = time.monotonic() - started
        assert proc.wait(timeout=30) == 0
        assert report.ok and report.top_level_posts == 2 and waited >= 1.0


def test_a_lock_that_stays_gives_up_with_warehouse_busy(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS)
    proc = hold_lock(db, 6.0)
    try:
        backend = DuckDBBackend(db, "main_marts", "main_alerting", lock_timeout_s=1.0)
        started = time.monotonic()
        with pytest.raises(WarehouseBusy, match="locked by another process") as err:
            backend.query("select 1")
        assert err.value.exit_code == 4
        assert 0.5 <= time.monotonic() - started < 5  # bounded
        assert backend.lock_waits >= 2
    finally:
        proc.wait(timeout=30)


def writers_while_slack_hangs(slack: FakeSlack, alive: Callable[[], bool]) -> list[tuple[int, float, float]]:
    """Each time a chat.postMessage hangs, a writer process starts; (returncode, started, finished) each."""
    out: list[tuple[int, float, float]] = []
    seen = 0
    while alive():
        if slack.in_flight.wait(0.05) and slack.in_flight_count > seen:
            seen = slack.in_flight_count
            started = time.monotonic()
            result = writer(slack.db)  # type: ignore[attr-defined]
            assert result.returncode == 0, result.stderr[-800:]
            out.append((result.returncode, started, time.monotonic()))
            assert slack.in_flight.is_set(), "the writer outlived Slack's delay: make delay_s longer"
    return out


def test_a_writer_succeeds_while_alerting_waits_on_a_slow_slack(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS)
    reports: list[RunReport] = []
    with fake_slack() as slack:
        slack.delay_s = 4.0  # every chat.postMessage hangs 4 s
        slack.db = db  # type: ignore[attr-defined]
        t = threading.Thread(target=lambda: reports.append(run_day(db, slack.url, D, lock_timeout_s=60)))
        t.start()
        writes = writers_while_slack_hangs(slack, t.is_alive)
        t.join()
    assert len(writes) == 2  # one build-like write during each of the two hanging posts: both succeeded
    assert len(reports) == 1 and reports[0].ok and reports[0].top_level_posts == 2
    assert len(log_rows(db)) == 3


def test_cli_run_in_a_subprocess_lets_a_writer_in(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS)
    with fake_slack() as slack:
        slack.delay_s = 4.0
        slack.db = db  # type: ignore[attr-defined]
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-FAKE0TOKEN-1-x", "SLACK_API_URL": slack.url,
               "LTX_DUCKDB_PATH": str(db)}  # fmt: skip
        cli = subprocess.Popen(
            [sys.executable, "-m", "alerting", "run", "--date", D.isoformat()], cwd=REPO, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        writes = writers_while_slack_hangs(slack, lambda: cli.poll() is None)
        _out, err = cli.communicate(timeout=120)
    assert len(writes) == 2
    assert cli.returncode == 0, err[-2000:]
    assert len(log_rows(db)) == 3


def claimer(db: Path, key: str) -> subprocess.Popen[str]:
    """Another `alerting run` process that has claimed `key` and is still posting; returns once it holds it."""
    code = (
        "import time\n"
        "from alerting.delivery_log import DeliveryLog\n"
        "from alerting.warehouse import DuckDBBackend\n"
        f"log = DeliveryLog(DuckDBBackend({str(db)!r}, 'main_marts', 'main_alerting'))\n"
        "log.ensure()\n"
        f"assert log.claim('slack:#usage', [{key!r}], 'victim')\n"
        "print('claimed', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "claimed"
    return proc


def test_a_killed_runs_claim_is_taken_over_at_once_a_live_ones_is_not(tmp_path: Path) -> None:
    """Issue 25 bug 1: `kill -9` while posting, then a re-run at once posts (no 900 s wait, no silent skip)."""
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS[:1])
    proc = claimer(db, ROWS[0]["alert_id"])
    try:
        with fake_slack() as slack:
            live = run_day(db, slack.url, D)  # the claimer is alive: it is the one posting
            assert live.skipped_claimed == 1 and slack.posted == []
            proc.send_signal(signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
            retried = run_day(db, slack.url, D)  # at once: the claim's pid is gone on this host
            assert retried.ok and retried.skipped_claimed == 0 and retried.top_level_posts == 1
            assert len(slack.posted) == 1
            assert run_day(db, slack.url, D).messages_posted == 0
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_a_cli_run_killed_while_posting_is_picked_up_by_an_immediate_rerun(tmp_path: Path) -> None:
    """Issue 25's check as an operator meets it: `kill -9` of `alerting run` during a post, then run again."""
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS)
    with fake_slack() as slack:
        slack.hang = True  # the first post never gets its answer
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-FAKE0TOKEN-1-x", "SLACK_API_URL": slack.url,
               "LTX_DUCKDB_PATH": str(db)}  # fmt: skip
        command = [sys.executable, "-m", "alerting", "run", "--date", D.isoformat()]
        killed = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert slack.in_flight.wait(60), "the run never reached Slack"
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(timeout=30) == -signal.SIGKILL
        slack.hang = False
        rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        posted = len(slack.posted)
        slack.release.set()
    assert rerun.returncode == 0 and "claimed by another run" not in rerun.stderr, rerun.stderr[-2000:]
    assert posted == 2  # both digests: the killed run's claim was taken over at once
    assert len(log_rows(db)) == 3


def test_another_hosts_claim_lives_until_its_lease_ends(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS[:1])
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    dead_pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    elsewhere = DeliveryLog(backend, claim_ttl_s=2, host="other-host", pid=int(dead_pid.stdout))
    elsewhere.ensure()
    assert elsewhere.claim("slack:#usage", [ROWS[0]["alert_id"]], "remote-run")
    local = DeliveryLog(backend, claim_ttl_s=2)
    assert not local.claim("slack:#usage", [ROWS[0]["alert_id"]], "local-run")  # its pid means nothing here
    with fake_slack() as slack:
        assert run_day(db, slack.url, D, claim_ttl_s=2).skipped_claimed == 1 and slack.posted == []
        time.sleep(2.2)  # the lease ends
        retried = run_day(db, slack.url, D, claim_ttl_s=2)
        assert retried.top_level_posts == 1 and len(slack.posted) == 1
        assert run_day(db, slack.url, D, claim_ttl_s=2).messages_posted == 0


def test_two_runs_at_the_same_moment_post_each_alert_once(tmp_path: Path) -> None:
    """Two schedulers fire `alerting run` together (two processes): each digest is posted once."""
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS)
    with fake_slack() as slack:
        slack.delay_s = 1.0
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-FAKE0TOKEN-1-x", "SLACK_API_URL": slack.url,
               "LTX_DUCKDB_PATH": str(db)}  # fmt: skip
        command = [sys.executable, "-m", "alerting", "run", "--date", D.isoformat()]
        procs = [
            subprocess.Popen(command, cwd=REPO, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        results = [p.communicate(timeout=120) for p in procs]
        # a run that left a digest to the other (live) run is not done: exit 1 (DESIGN.md §3.4), else 0
        codes = [1 if "claimed by another run" in err else 0 for _, err in results]
        assert [p.returncode for p in procs] == codes, [err[-1500:] for _, err in results]
        assert len(slack.posted) == 2  # two digests, each posted by exactly one of the runs
    alert_keys = {r["delivery_key"] for r in log_entries(db) if r["kind"] != "chart"}  # charts have their own rows
    assert len(log_rows(db)) == 3 and len(alert_keys) == 3
    stderr = "".join(err for _, err in results)
    assert "claimed by another run" in stderr or stderr.count("posted digest") == 2


def test_without_claims_the_same_race_posts_twice(tmp_path: Path) -> None:
    """The race above is real: with claims switched off both processes post (so the test can fail)."""
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS)
    patch = (
        "import runpy, sys, alerting.delivery_log as d;"
        " d.DeliveryLog.claim = lambda self, dest, keys, run_id: True;"
        " sys.argv = ['alerting', *sys.argv[1:]]; runpy.run_module('alerting', run_name='__main__')"
    )
    with fake_slack() as slack:
        slack.delay_s = 1.0
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-FAKE0TOKEN-1-x", "SLACK_API_URL": slack.url,
               "LTX_DUCKDB_PATH": str(db)}  # fmt: skip
        command = [sys.executable, "-c", patch, "run", "--date", D.isoformat()]
        procs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(2)]  # fmt: skip
        for proc in procs:
            proc.wait(timeout=120)
        assert len(slack.posted) > 2


def test_a_real_dbt_build_succeeds_while_alerting_waits_on_slack(test_duckdb: Path, tmp_path: Path) -> None:
    """Issue 14's check with dbt itself: `dbt build -s fct_alerts` while the run's first post hangs."""
    from tests.python.conftest import BIN, dbt_env, failure_summary
    from tests.python.conftest import run as sh

    db = tmp_path / "real.duckdb"
    shutil.copy(test_duckdb, db)
    con = duckdb.connect(str(db), read_only=True)
    [(day,)] = con.execute(
        "select max(alert_date) from main_marts.fct_alerts where domain = 'usage' and is_loud"  # a day that posts
    ).fetchall()
    con.close()
    reports: list[RunReport] = []
    with fake_slack() as slack:
        slack.hang = True
        # the post waits for the build however slow the machine (the client's 30 s would end it first)
        patient = SlackTransport(FAKE_TOKEN, slack.url, timeout=900)
        t = threading.Thread(
            target=lambda: reports.append(run_day(db, slack.url, day, lock_timeout_s=600, transport=patient))
        )
        t.start()
        assert slack.in_flight.wait(120), "the run never reached Slack"
        build = sh([str(BIN / "dbt"), "build", "--target", "duckdb", "-s", "fct_alerts"], dbt_env(tmp_path, db))
        still_waiting = slack.in_flight.is_set()
        slack.release.set()
        t.join(timeout=300)
    assert build.returncode == 0, failure_summary(build.stdout + build.stderr)
    assert still_waiting  # the build ran entirely while alerting was waiting on Slack
    assert len(reports) == 1 and reports[0].ok and reports[0].top_level_posts >= 1


def test_old_claims_are_cleaned_up_on_ensure(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    write_marts(db, ROWS[:1])
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    log = DeliveryLog(backend)
    log.ensure()
    assert log.claim("slack:#x", ["fresh"], "r1") and log.claim("slack:#x", ["old"], "r1")
    backend.query(
        "update main_alerting.alert_delivery_claims set claimed_at = claimed_at - interval 2 day"
        " where delivery_key = 'old'"
    )
    log.ensure()
    assert backend.query("select delivery_key from main_alerting.alert_delivery_claims") == [{"delivery_key": "fresh"}]


def test_a_run_of_another_date_first_catches_up_the_day_a_killed_run_left(tmp_path: Path) -> None:
    """Issue 25 bug 1, "whatever --date": day D's run is killed while posting; the next morning's run (D + 1)
    first delivers D's digests, marked late, then its own day; nothing twice."""
    db = tmp_path / "m.duckdb"
    next_day = D + dt.timedelta(days=1)
    write_marts(db, [*ROWS, alert_row(next_day, scope="heavy", metric="dau", z=-5.1)])
    proc = claimer(db, ROWS[0]["alert_id"])  # the run of D holds D's first digest ...
    proc.send_signal(signal.SIGKILL)  # ... and dies before Slack answers
    assert proc.wait(timeout=30) == -signal.SIGKILL
    with fake_slack() as slack:
        report = run_day(db, slack.url, next_day)
        texts = [str(m.get("text")) for m in slack.posted]
        assert report.ok and report.exit_code == 0 and report.top_level_posts == 3, report
        assert sum(t.startswith(f"Late: the run for {D.isoformat()} failed") for t in texts) == 2, texts
        assert all(next_day.isoformat() in t for t in texts if not t.startswith("Late:"))
        assert run_day(db, slack.url, next_day).messages_posted == 0  # caught up once
    assert len(log_rows(db)) == 4
