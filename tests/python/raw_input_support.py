"""Helpers for the tests that feed odd raw input (implausible values, time zones, empty files)
to a full `dbt build` on DuckDB and compare the marts with a build of the clean input."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.python.conftest import BIN, MODELS_ONLY, NO_UNIT_TESTS, dbt_env, run
from tests.python.test_incremental import assert_same, mart_tables

USAGE = "ltxstudio_agg_user_date"
ENTERPRISE = "enterprise_users"
GPU = "gpu_request_attribution_and_cost"
RAW_TABLES = (USAGE, ENTERPRISE, GPU)
# fixed, so that "today" (the machine's date) never changes what the marts hold
RUN_DATE = "2026-11-23"


def copy_raw(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    (dst / "ground_truth.json").unlink(missing_ok=True)  # somebody's own data, not ours
    return dst


def rewrite(raw: Path, table: str, change: Callable[[str, pa.Table], pa.Table]) -> None:
    """Rewrite every Parquet file of one raw table: change(file stem, table) -> new table."""
    for path in sorted((raw / table).glob("*.parquet")):
        pq.write_table(change(path.stem, pq.read_table(path)), path)


def last_usage_day(raw: Path) -> str:
    return sorted(p.stem for p in (raw / USAGE).glob("*.parquet"))[-1]


SOURCES = {USAGE: "web", ENTERPRISE: "enterprise", GPU: "gpu_costs"}  # models/staging/sources.yml


def reading(table: str) -> tuple[str, ...]:
    """`--select` for what reads one raw table (its staging model, the tests that read the table) and all
    that depends on it: all that a raw set broken in that table can reach. For a build that must stop on
    one of their tests: the rest of the project cannot see the fault, and the stop skips what depends on it."""
    return ("--select", f"source:{SOURCES[table]}.{table}+")


def build(
    raw: Path, db: Path, extra_env: dict[str, str] | None = None, data_tests: bool = True, select: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """`dbt build --full-refresh` on DuckDB (what `make build` runs), run date pinned, no unit tests
    (`data_tests=False`: models and seeds only, for a test about what the build made; `select`: dbt's
    `--select ...`, default everything)."""
    env = {**dbt_env(raw, db), **(extra_env or {})}
    cmd = [str(BIN / "dbt"), "build", "--full-refresh", "--target", "duckdb", "--vars", f"{{run_date: {RUN_DATE}}}"]
    cmd += [*(NO_UNIT_TESTS if data_tests else MODELS_ONLY), *select]
    return run(cmd, env=env)


def reported(output: str, status: str) -> list[str]:
    """The dbt log lines that report a test with `status` (FAIL / WARN / ERROR)."""
    words = {"FAIL": ("Failure in test",), "WARN": ("Warning in test",), "ERROR": ("Error in",)}[status]
    return [line for line in output.splitlines() if f" {status} " in line or any(w in line for w in words)]


def names_test(output: str, status: str, test_name: str) -> bool:
    return any(test_name in line for line in reported(output, status))


def assert_same_marts(db_a: Path, db_b: Path) -> None:
    """Every table in main_marts holds the same rows in both files (floats to 1e-9)."""
    tables = mart_tables(db_a)
    assert tables, f"no marts in {db_a}"
    assert tables == mart_tables(db_b)
    for table in tables:
        assert_same(db_a, db_b, table)
