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
