"""The daily test window (var test_window_days) still catches bad rows in the days a
daily run rebuilds, and full refreshes keep testing every row."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import BIN, NO_UNIT_TESTS, dbt_env, failure_summary, generate, run

pytestmark = pytest.mark.dbt

DAILY_VARS = json.dumps({"test_window_days": 7, "run_date": "2026-11-23"})


def _duplicate_first_row(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), path)


def test_daily_window_catches_a_duplicate_in_the_new_day(tmp_path: Path) -> None:
    raw, db = tmp_path / "raw", tmp_path / "w.duckdb"
    generate(raw, "--days", "30")
    env = dbt_env(raw, db)
    first = run([str(BIN / "dbt"), "build", "--full-refresh", "--vars", DAILY_VARS, *NO_UNIT_TESTS], env=env)
    assert first.returncode == 0, failure_summary(first.stdout + first.stderr)

    # a duplicate far outside the window is not re-tested by a daily run (it was tested when loaded) ...
    _duplicate_first_row(raw / "ltxstudio_agg_user_date" / "2026-10-25.parquet")
    old = run([str(BIN / "dbt"), "build", "--vars", DAILY_VARS, *NO_UNIT_TESTS], env=env)
    assert old.returncode == 0, failure_summary(old.stdout + old.stderr)
    # ... but a full refresh tests every row and stops on it
    full = run([str(BIN / "dbt"), "build", "--full-refresh", "--vars", DAILY_VARS, *NO_UNIT_TESTS], env=env)
    assert full.returncode != 0 and "stg_web__user_days_one_row_per_dt_lt_id" in full.stdout

    # a duplicate in a day the daily run rebuilds fails the daily run on the named test
    (raw / "ltxstudio_agg_user_date" / "2026-10-25.parquet").unlink()
    generate(tmp_path / "clean", "--days", "30")
    (raw / "ltxstudio_agg_user_date" / "2026-10-25.parquet").write_bytes(
        (tmp_path / "clean" / "ltxstudio_agg_user_date" / "2026-10-25.parquet").read_bytes()
    )
    _duplicate_first_row(raw / "ltxstudio_agg_user_date" / "2026-11-22.parquet")
    daily = run([str(BIN / "dbt"), "build", "--vars", DAILY_VARS, *NO_UNIT_TESTS], env=env)
    out = daily.stdout + daily.stderr
    assert daily.returncode != 0, out[-3000:]
    assert any("stg_web__user_days_one_row_per_dt_lt_id" in line and "FAIL" in line for line in out.splitlines())
