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
    yesterday's rows), and the target exits non-zero with the STALE message."""
    db = tmp_path / "daily.duckdb"
    shutil.copy(test_duckdb, db)
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    env = dbt_env(raw_dir if raw_dir.is_absolute() else REPO / raw_dir, db)
    env["DBT_TARGET_PATH"] = str(tmp_path / "target")
    res = run(["make", "-o", ".venv/.installed", "daily", "RUN_DATE=2026-11-26"], env=env)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    assert "STALE SOURCE DATA for run date 2026-11-26" in out, out[-3000:]
    statuses = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
        if r["unique_id"].startswith("model.")
    }
    assert statuses["fct_data_health"] == "success"
    assert statuses["fct_usage_anomaly_scores"] == "success"
    assert statuses["int_alerts__policy"] == "skipped" and statuses["fct_alerts"] == "skipped"
