"""Source freshness is judged against the run date (`make daily RUN_DATE=...`), not the wall
clock: the test set's last usage day is 2026-11-22 and usage's error_after is 72 hours, so
the run dates 11-23 and 11-25 (72 h) pass and 11-26 (96 h) stops the daily path. The check
is off (var check_freshness) in plain builds, which must not depend on the wall clock."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.python.alerting_support import FAKE_TOKEN, fake_slack
from tests.python.conftest import BIN, REPO, dbt_env, run

pytestmark = pytest.mark.dbt


@pytest.mark.parametrize(("run_date", "fresh"), [("2026-11-23", True), ("2026-11-25", True), ("2026-11-26", False)])
def test_freshness_judged_against_run_date(test_duckdb: Path, tmp_path: Path, run_date: str, fresh: bool) -> None:
    db = tmp_path / "fresh.duckdb"
    shutil.copy(test_duckdb, db)
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    res = run(
        [
            str(BIN / "dbt"),
            "test",
            "--select",
            "tag:freshness",
            "--vars",
            json.dumps({"run_date": run_date, "check_freshness": True}),
        ],
        env=dbt_env(raw_dir if raw_dir.is_absolute() else REPO / raw_dir, db),
    )
    out = res.stdout + res.stderr
    assert "assert_sources_fresh_for_run_date" in out
    assert (res.returncode == 0) is fresh, out[-3000:]


def test_make_daily_stops_at_the_freshness_gate(test_duckdb: Path, tmp_path: Path) -> None:
    """`make daily` is ONE dbt build with the freshness test inside it: on stale data the
    test fails, dbt skips the alert models downstream of fct_data_health (they keep
    yesterday's rows), the target exits non-zero with the STALE message, and one
    pipeline-health message names the stale source and its last loaded day in the data
    channel; the same cause again the same day posts nothing more."""
    db = tmp_path / "daily.duckdb"
    shutil.copy(test_duckdb, db)
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    env = dbt_env(raw_dir if raw_dir.is_absolute() else REPO / raw_dir, db)
    env["DBT_TARGET_PATH"] = str(tmp_path / "target")
    with fake_slack() as slack:
        env.update(SLACK_BOT_TOKEN=FAKE_TOKEN, SLACK_API_URL=slack.url)
        res = run(["make", "-o", ".venv/.installed", "daily", "RUN_DATE=2026-11-26"], env=env)
        out = res.stdout + res.stderr
        assert res.returncode == 2, out[-3000:]  # make's status for a failed build, unchanged
        assert "STALE SOURCE DATA for run date 2026-11-26" in out, out[-3000:]
        assert len(slack.posted) == 1, out[-3000:]
        [post] = slack.posted
        assert slack.channel_name(post["channel"]) == "#ltx-data-alerts" and not post.get("thread_ts")
        assert "daily build for 2026-11-26 stopped" in post["text"]
        assert "Stale source: *usage*, last loaded day 2026-11-22" in post["text"], post["text"]
        assert FAKE_TOKEN not in out
        again = run(
            [str(BIN / "python"), "-m", "alerting", "pipeline-health", "--date", "2026-11-26", "--run-results",
             str(tmp_path / "target" / "run_results.json")],
            env=env,
        )  # fmt: skip
        assert again.returncode == 0, again.stderr[-2000:]
        assert len(slack.posted) == 1  # once per day and cause
    statuses = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
        if r["unique_id"].startswith("model.")
    }
    assert statuses["fct_data_health"] == "success"
    assert statuses["fct_usage_anomaly_scores"] == "success"
    assert statuses["int_alerts__policy"] == "skipped" and statuses["fct_alerts"] == "skipped"
