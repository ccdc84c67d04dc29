"""`make build` works on Parquet that somebody else wrote in the §3.2 shape:
other physical types (timestamp dt, int32, large strings), extra columns, column
order shuffled, several files per table, and no ground_truth.json."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import failure_summary, make_build

pytestmark = pytest.mark.dbt


def _retype(table: pa.Table) -> pa.Table:
    cols, names = [], []
    for name in reversed(table.column_names):  # shuffled order
        col = table.column(name)
        if pa.types.is_date32(col.type):
            col = pc.cast(col, pa.timestamp("us"))
        elif pa.types.is_int64(col.type):
            col = pc.cast(col, pa.int32())
        elif pa.types.is_string(col.type):
            col = pc.cast(col, pa.large_string())
        cols.append(col)
        names.append(name)
    cols.append(pa.array(["extra"] * table.num_rows))
    names.append("some_other_column")
    return pa.table(cols, names=names)


def test_build_on_someone_elses_parquet(small_raw: Path, tmp_path: Path) -> None:
    ours, theirs = small_raw, tmp_path / "theirs"  # generate()'s 30-day set, shared: read only
    for sub in ("ltxstudio_agg_user_date", "enterprise_users", "gpu_request_attribution_and_cost"):
        table = pa.concat_tables(pq.read_table(f) for f in sorted((ours / sub).glob("*.parquet")))
        (theirs / sub).mkdir(parents=True)
        half = table.num_rows // 2
        pq.write_table(_retype(table.slice(0, half)), theirs / sub / "part-0.parquet")
        pq.write_table(_retype(table.slice(half)), theirs / sub / "part-1.parquet")
    db = tmp_path / "theirs.duckdb"
    res = make_build(theirs, db)
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    assert not (theirs / "ground_truth.json").exists(), "their directory must not be overwritten"
    with duckdb.connect(str(db), read_only=True) as con:
        n_raw = con.execute(
            f"select count(*) from read_parquet('{ours}/ltxstudio_agg_user_date/*.parquet')"
        ).fetchone()[0]
        n_stg = con.execute("select count(*) from main_staging.stg_web__user_days").fetchone()[0]
        scores = con.execute("select count(*) from main_marts.fct_usage_anomaly_scores").fetchone()[0]
    assert n_stg == n_raw
    assert scores > 0
