"""The daily test window (var test_window_days) still catches bad rows in the days a
daily run rebuilds, and full refreshes keep testing every row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import BIN, NO_UNIT_TESTS, dbt_env, failure_summary, run
from tests.python.raw_input_support import RUN_DATE, USAGE, copy_raw

pytestmark = pytest.mark.dbt

DAILY_VARS = json.dumps({"test_window_days": 7, "run_date": RUN_DATE})
# the usage table's model and every test that reads it or its raw table: the only nodes that read the raw
# rows (every other model reads them through stg_web__user_days), so the only ones that could test them
USAGE_ROWS = ("--select", f"source:web.{USAGE}", "stg_web__user_days")


def _duplicate_first_row(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), path)


def test_daily_window_catches_a_duplicate_in_the_new_day(
    small_raw: Path, small_reference_db: Path, tmp_path: Path
) -> None:
    raw, db = copy_raw(small_raw, tmp_path / "raw"), tmp_path / "w.duckdb"
    # the daily runs stand on a full refresh of the clean set (the session's build of it:
    # `dbt build --full-refresh` with this run date; the window does not apply to a full refresh)
    shutil.copy(small_reference_db, db)
    env = dbt_env(raw, db)
    old_day = raw / USAGE / "2026-10-25.parquet"
    clean = old_day.read_bytes()

    # a duplicate far outside the window is not re-tested by a daily run (it was tested when loaded) ...
    _duplicate_first_row(old_day)
    build = [str(BIN / "dbt"), "build", "--target", "duckdb", "--vars", DAILY_VARS, *NO_UNIT_TESTS, *USAGE_ROWS]
    old = run(build, env=env)
    assert old.returncode == 0, failure_summary(old.stdout + old.stderr)
    # ... but a full refresh tests every row and stops on it
    full = run([*build, "--full-refresh"], env=env)
    assert full.returncode != 0 and "stg_web__user_days_one_row_per_dt_lt_id" in full.stdout

    # a duplicate in a day the daily run rebuilds fails the daily run on the named test
    old_day.write_bytes(clean)
    _duplicate_first_row(raw / USAGE / "2026-11-22.parquet")
    daily = run(build, env=env)
    out = daily.stdout + daily.stderr
    assert daily.returncode != 0, out[-3000:]
    assert any("stg_web__user_days_one_row_per_dt_lt_id" in line and "FAIL" in line for line in out.splitlines())
