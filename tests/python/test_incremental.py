"""Daily incremental runs give the same marts (and incremental intermediate tables, and the
GPU cost views that read their history) as a full refresh, correct late data inside the
reprocess window, and a re-run changes nothing."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import BIN, MODELS_ONLY, dbt_env, failure_summary, generate, run

pytestmark = pytest.mark.dbt

USAGE = "ltxstudio_agg_user_date"
GPU = "gpu_request_attribution_and_cost"
# the day-grain GPU aggregates of request rows: incremental tables, so a daily run reads
# only the reprocess window of request rows (docs/gpu-costs.md)
GPU_INCREMENTAL_INTERMEDIATES = {
    "int_gpu_costs__category_gpu_days",
    "int_gpu_costs__daily_totals",
    "int_gpu_costs__contributor_metric_days",
    "int_gpu_costs__decomposition_series_days",
}


def dbt(args: list[str], raw: Path, db: Path) -> None:
    res = run([str(BIN / "dbt"), *args, "--target", "duckdb", *MODELS_ONLY], env=dbt_env(raw, db))
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)


@pytest.fixture(scope="module")
def full_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """84 days of raw data and its full refresh: the reference both incremental stories must equal
    (generated and built once for the module)."""
    root = tmp_path_factory.mktemp("incremental")
    full_raw, full_db = root / "full", root / "full.duckdb"
    generate(full_raw, "--days", "84", "--users", "700")
    dbt(["build", "--full-refresh"], full_raw, full_db)
    return full_raw, full_db


def relations(db: Path, schema: str, table_type: str = "BASE TABLE", like: str = "%") -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = ? and table_name like ? order by 1",
                [schema, table_type, like],
            ).fetchall()
        ]


def mart_tables(db: Path) -> list[str]:
    return relations(db, "main_marts")


def compared_relations(db: Path) -> list[tuple[str, str]]:
    """(schema, name): every mart table, every intermediate table (the incremental ones and
    the usage / alert tables) and the GPU cost views, which read the history of the
    incremental GPU tables."""
    return (
        [("main_staging", t) for t in relations(db, "main_staging")]
        + [("main_marts", t) for t in mart_tables(db)]
        + [("main_intermediate", t) for t in relations(db, "main_intermediate")]
        + [("main_intermediate", v) for v in relations(db, "main_intermediate", "VIEW", "int_gpu_costs%")]
    )


def _sort_key(row: tuple) -> tuple:
    return tuple((1, round(v, 6)) if isinstance(v, float) else (0, "") if v is None else (2, str(v)) for v in row)


def snapshot(db: Path, table: str, schema: str = "main_marts") -> tuple[list[str], list[tuple]]:
    """Every row of a relation, sorted; without `build_id` (fct_alerts / fct_data_health: the dbt invocation that
    built it, different in any two builds by design)."""
    with duckdb.connect(str(db), read_only=True) as con:
        columns = "* exclude (build_id)" if _has_build_id(con, schema, table) else "*"
        cur = con.execute(f"select {columns} from {schema}.{table}")  # names come from information_schema
        cols = [c[0] for c in cur.description]
        return cols, sorted(cur.fetchall(), key=_sort_key)


def _has_build_id(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select 1 from information_schema.columns where table_schema = ? and table_name = ? and column_name = ?",
            [schema, table, "build_id"],
        ).fetchall()
    )


def assert_same(db_a: Path, db_b: Path, table: str, schema: str = "main_marts") -> None:
    cols_a, rows_a = snapshot(db_a, table, schema)
    cols_b, rows_b = snapshot(db_b, table, schema)
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


def test_incremental_equals_full_refresh_with_late_data(full_set: tuple[Path, Path], tmp_path: Path) -> None:
    (full_raw, full_db), part_raw = full_set, tmp_path / "part"
    shutil.copytree(full_raw, part_raw)
    days = sorted(p.stem for p in (full_raw / USAGE).glob("*.parquet"))
    # the last two days have not arrived yet; the day before them arrived half-loaded
    # (usage: half its rows; GPU: the API rows, Studio's arrive with the next run)
    for day in days[-2:]:
        (part_raw / USAGE / f"{day}.parquet").unlink()
        (part_raw / GPU / f"{day}.parquet").unlink()
    late = days[-4]
    table = pq.read_table(full_raw / USAGE / f"{late}.parquet")
    pq.write_table(table.slice(0, table.num_rows // 2), part_raw / USAGE / f"{late}.parquet")
    gpu = pq.read_table(full_raw / GPU / f"{late}.parquet")
    api_only = gpu.filter(pc.equal(gpu["vertical"], "api"))
    assert 0 < api_only.num_rows < gpu.num_rows
    pq.write_table(api_only, part_raw / GPU / f"{late}.parquet")

    inc_db = tmp_path / "inc.duckdb"
    dbt(["build", "--full-refresh"], part_raw, inc_db)
    # the missing days and the rest of the late day arrive; the scheduler runs the daily build
    for day in days[-2:]:
        shutil.copy(full_raw / USAGE / f"{day}.parquet", part_raw / USAGE / f"{day}.parquet")
        shutil.copy(full_raw / GPU / f"{day}.parquet", part_raw / GPU / f"{day}.parquet")
    shutil.copy(full_raw / USAGE / f"{late}.parquet", part_raw / USAGE / f"{late}.parquet")
    shutil.copy(full_raw / GPU / f"{late}.parquet", part_raw / GPU / f"{late}.parquet")
    dbt(["build"], part_raw, inc_db)

    tables = compared_relations(full_db)
    names = {t for _, t in tables}
    assert {"fct_usage_anomaly_scores", "fct_usage_alert_drivers", "fct_alerts"} <= names
    assert {"stg_web__user_days", "stg_gpu_costs__request_costs"} <= names  # the landed raw tables
    assert set(relations(inc_db, "main_intermediate")) >= GPU_INCREMENTAL_INTERMEDIATES
    assert {"int_gpu_costs__metric_baselines", "int_gpu_costs__contributor_deltas"} <= names
    for schema, t in tables:
        assert_same(full_db, inc_db, t, schema)

    # a re-run of the same day changes nothing (up to the last bits of float sums:
    # DuckDB's parallel aggregation adds doubles in a thread-dependent order)
    before_db = tmp_path / "before.duckdb"
    shutil.copy(inc_db, before_db)
    dbt(["build"], part_raw, inc_db)
    for schema, t in tables:
        assert_same(before_db, inc_db, t, schema)


def test_a_run_after_a_gap_misses_no_alert_day(full_set: tuple[Path, Path], tmp_path: Path) -> None:
    """The scheduler did not run for a week: the next daily run adds 7 days, more than the
    reprocess window (reprocess_days 3 + 1). Every model, the sparse alert drill-downs
    included (their window comes from the dense scores: alert days newer than their own
    newest day are all rebuilt), equals a full refresh."""
    (full_raw, full_db), part_raw = full_set, tmp_path / "part"
    shutil.copytree(full_raw, part_raw)
    gap = sorted(p.stem for p in (full_raw / USAGE).glob("*.parquet"))[-7:]
    for day in gap:
        (part_raw / USAGE / f"{day}.parquet").unlink()
        (part_raw / GPU / f"{day}.parquet").unlink()

    inc_db = tmp_path / "inc.duckdb"
    dbt(["build", "--full-refresh"], part_raw, inc_db)
    for day in gap:
        shutil.copy(full_raw / USAGE / f"{day}.parquet", part_raw / USAGE / f"{day}.parquet")
        shutil.copy(full_raw / GPU / f"{day}.parquet", part_raw / GPU / f"{day}.parquet")
    dbt(["build"], part_raw, inc_db)

    # the test means something only if alert days fall in the gap before the window
    with duckdb.connect(str(full_db), read_only=True) as con:
        (early_alert_days,) = con.execute(
            "select count(distinct dt) from main_marts.fct_usage_alert_drivers where dt >= ? and dt < ?",
            [gap[0], gap[-4]],
        ).fetchone()
    assert early_alert_days > 0
    for schema, t in compared_relations(full_db):
        assert_same(full_db, inc_db, t, schema)
