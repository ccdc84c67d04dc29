"""Empty raw inputs (issue 14, finding 5).

* a 0-row Parquet file written by pandas (every column typed `null`) that sorts first in its
  folder is read like any other file: the marts are those of the folder without it;
* a raw table with no rows at all stops the build on a test that names it;
* a daily run whose test window holds no rows of a dated raw table warns on a named test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import BIN, dbt_env, failure_summary, run
from tests.python.raw_input_support import (
    ENTERPRISE,
    GPU,
    RAW_TABLES,
    USAGE,
    assert_same_marts,
    build,
    copy_raw,
    names_test,
    reading,
    reported,
)

pytestmark = pytest.mark.dbt

HAS_ROWS = {
    USAGE: "stg_web__user_days_has_rows",
    ENTERPRISE: "stg_enterprise__users_has_rows",
    GPU: "stg_gpu_costs__request_costs_has_rows",
}


def _pandas_empty_file(folder: Path, name: str) -> Path:
    """What `pd.DataFrame(columns=[...]).to_parquet(...)` writes: 0 rows, every column of type null."""
    columns = pq.read_schema(sorted(folder.glob("*.parquet"))[0]).names
    path = folder / name
    pd.DataFrame(columns=columns).to_parquet(path)
    assert all(str(field.type) == "null" for field in pq.read_schema(path))
    return path


@pytest.fixture
def raw_set(small_raw: Path) -> Path:
    return small_raw


@pytest.fixture
def reference_db(small_reference_db: Path, tmp_path: Path) -> Path:
    """A copy of the run's shared build: `dbt test` opens its file for writing, and DuckDB lets one
    process write a file only while no other (another xdist worker) reads it."""
    return Path(shutil.copyfile(small_reference_db, tmp_path / "reference.duckdb"))


def test_a_null_typed_zero_row_file_that_sorts_first_is_read(raw_set: Path, reference_db: Path, tmp_path: Path) -> None:
    raw = copy_raw(raw_set, tmp_path / "raw")
    for table in RAW_TABLES:
        _pandas_empty_file(raw / table, "0000-empty.parquet")
    db = tmp_path / "with_empty.duckdb"
    res = build(raw, db)
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    assert_same_marts(db, reference_db)


@pytest.mark.parametrize("table", RAW_TABLES)
def test_a_raw_table_without_rows_stops_the_build_on_a_named_test(raw_set: Path, tmp_path: Path, table: str) -> None:
    raw = copy_raw(raw_set, tmp_path / "raw")
    files = sorted((raw / table).glob("*.parquet"))
    schema = pq.read_schema(files[0])
    for path in files:
        path.unlink()
    pq.write_table(schema.empty_table(), raw / table / "empty.parquet")
    res = build(raw, tmp_path / "x.duckdb", select=reading(table))
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    assert names_test(out, "FAIL", HAS_ROWS[table]), failure_summary(out)


def test_a_daily_run_with_no_rows_in_its_test_window_warns(raw_set: Path, reference_db: Path, tmp_path: Path) -> None:
    """The data ends 2026-11-22; a daily run on 2027-01-15 tests the 7 days before it."""
    daily_vars = "{run_date: '2027-01-15', test_window_days: 7}"
    selection = ["stg_web__user_days", "stg_gpu_costs__request_costs", "stg_enterprise__users"]
    cmd = [str(BIN / "dbt"), "test", "--target", "duckdb", "--vars", daily_vars, "-s", *selection]
    res = run(cmd, env=dbt_env(raw_set, reference_db))
    out = res.stdout + res.stderr
    assert res.returncode == 0, failure_summary(out)
    for table in (USAGE, GPU):
        assert names_test(out, "WARN", HAS_ROWS[table] + "_in_test_window"), reported(out, "WARN")
    # the same daily run on the data's own next morning has rows in its window: no such warning
    res = run([*cmd[:5], "{run_date: '2026-11-23', test_window_days: 7}", *cmd[6:]], env=dbt_env(raw_set, reference_db))
    out = res.stdout + res.stderr
    assert res.returncode == 0, failure_summary(out)
    assert not [line for line in reported(out, "WARN") if "_has_rows" in line], reported(out, "WARN")
