"""Daily incremental runs give the same marts as a full refresh, correct late data
inside the reprocess window, and a re-run changes nothing."""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import BIN, NO_UNIT_TESTS, REPO, dbt_env, failure_summary, generate, run

pytestmark = pytest.mark.dbt

USAGE = "ltxstudio_agg_user_date"
GPU = "gpu_request_attribution_and_cost"


def dbt(args: list[str], raw: Path, db: Path) -> None:
    res = run([str(BIN / "dbt"), *args, "--target", "duckdb", *NO_UNIT_TESTS], env=dbt_env(raw, db))
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)


@contextmanager
def dbt_beside(args: list[str], raw: Path, db: Path, work: Path) -> Iterator[Callable[[], None]]:
    """Start a dbt command that runs beside the foreground ones (its own target and log folders:
    both write a manifest and results); the function it yields waits for it and checks it passed."""
    out = work / "dbt.out"
    cmd = [str(BIN / "dbt"), *args, "--target", "duckdb", *NO_UNIT_TESTS]
    cmd += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    with out.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=dbt_env(raw, db), stdout=log, stderr=subprocess.STDOUT, text=True)

    def finished() -> None:
        assert proc.wait(timeout=900) == 0, failure_summary(out.read_text())

    try:
        yield finished
    finally:
        if proc.poll() is None:  # the test failed before waiting for it
            proc.kill()
            proc.wait()


def mart_tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'main_marts' and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]


def _sort_key(row: tuple) -> tuple:
    return tuple((1, round(v, 6)) if isinstance(v, float) else (0, "") if v is None else (2, str(v)) for v in row)


def snapshot(db: Path, table: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(f"select * from main_marts.{table}")  # table name comes from information_schema
        cols = [c[0] for c in cur.description]
        return cols, sorted(cur.fetchall(), key=_sort_key)


def assert_same(db_a: Path, db_b: Path, table: str) -> None:
    cols_a, rows_a = snapshot(db_a, table)
    cols_b, rows_b = snapshot(db_b, table)
    assert cols_a == cols_b, table
    if len(rows_a) != len(rows_b):
        # name the rows that exist on one side only, matched on the non-float columns
        def key(r: tuple) -> tuple:
            return tuple(v for v in r if not isinstance(v, float))

        keys_a, keys_b = {key(r) for r in rows_a}, {key(r) for r in rows_b}
        only_a = [dict(zip(cols_a, r, strict=True)) for r in rows_a if key(r) not in keys_b]
        only_b = [dict(zip(cols_b, r, strict=True)) for r in rows_b if key(r) not in keys_a]
        raise AssertionError(
            f"{table}: {len(rows_a)} vs {len(rows_b)} rows; only in {db_a.name}: {only_a[:3]}; "
            f"only in {db_b.name}: {only_b[:3]}"
        )
    for ra, rb in zip(rows_a, rows_b, strict=True):
        for col, a, b in zip(cols_a, ra, rb, strict=True):
            same = math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) if isinstance(a, float) and b is not None else a == b
            assert same, f"{table}: first differing row {dict(zip(cols_a, ra, strict=True))} ({col}: {a!r} vs {b!r})"


def test_incremental_equals_full_refresh_with_late_data(tmp_path: Path) -> None:
    full_raw, part_raw = tmp_path / "full", tmp_path / "part"
    generate(full_raw, "--days", "84", "--users", "700")
    shutil.copytree(full_raw, part_raw)
    days = sorted(p.stem for p in (full_raw / USAGE).glob("*.parquet"))
    # the last two days have not arrived yet; the day before them arrived half-loaded
    for day in days[-2:]:
        (part_raw / USAGE / f"{day}.parquet").unlink()
        (part_raw / GPU / f"{day}.parquet").unlink()
    late = days[-4]
    table = pq.read_table(full_raw / USAGE / f"{late}.parquet")
    pq.write_table(table.slice(0, table.num_rows // 2), part_raw / USAGE / f"{late}.parquet")

    inc_db, full_db = tmp_path / "inc.duckdb", tmp_path / "full.duckdb"
    # the reference (a full refresh of all the data) is built beside the incremental story
    with dbt_beside(["build", "--full-refresh"], full_raw, full_db, tmp_path) as reference_built:
        dbt(["build", "--full-refresh"], part_raw, inc_db)
        # the missing days and the rest of the late day arrive; the scheduler runs the daily build
        for day in days[-2:]:
            shutil.copy(full_raw / USAGE / f"{day}.parquet", part_raw / USAGE / f"{day}.parquet")
            shutil.copy(full_raw / GPU / f"{day}.parquet", part_raw / GPU / f"{day}.parquet")
        shutil.copy(full_raw / USAGE / f"{late}.parquet", part_raw / USAGE / f"{late}.parquet")
        dbt(["build"], part_raw, inc_db)
        reference_built()

    tables = mart_tables(full_db)
    assert {"fct_usage_anomaly_scores", "fct_usage_alert_drivers", "fct_alerts"} <= set(tables)
    for t in tables:
        assert_same(full_db, inc_db, t)

    # a re-run of the same day changes nothing (up to the last bits of float sums:
    # DuckDB's parallel aggregation adds doubles in a thread-dependent order)
    before_db = tmp_path / "before.duckdb"
    shutil.copy(inc_db, before_db)
    dbt(["build"], part_raw, inc_db)
    for t in tables:
        assert_same(before_db, inc_db, t)
