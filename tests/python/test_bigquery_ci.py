"""The checks of `make test-bigquery` must fail on what they are there to catch (no emulator needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bigquery_ci import compare, config_check, dialect_check
from bigquery_ci.load_raw import csv_value

D1, D2 = dt.date(2026, 11, 21), dt.date(2026, 11, 22)


def rows(*values: tuple[dt.date, str, float | None]) -> list[dict[str, object]]:
    return [{"dt": d, "segment": s, "metric": "dau", "z_score": z, "is_suppressed": False} for d, s, z in values]


KEYS = ("dt", "segment", "metric")


def test_identical_marts_compare_and_count_rows() -> None:
    left = rows((D1, "free", 1.5), (D2, "free", None))
    assert compare.compare_mart("m", KEYS, left, list(reversed(left))) == 2


def test_numbers_equal_within_1e9_relative_differ_beyond() -> None:
    assert compare.compare_mart("m", KEYS, rows((D1, "free", 1.0)), rows((D1, "free", 1.0 + 5e-10))) == 1
    with pytest.raises(compare.MartMismatch, match=r"row \(dt=datetime.date\(2026, 11, 21\), segment='free'"):
        compare.compare_mart("m", KEYS, rows((D1, "free", 1.0)), rows((D1, "free", 1.0 + 5e-9)))


def test_first_differing_row_is_named_in_key_order() -> None:
    left = rows((D1, "free", 1.0), (D2, "free", 2.0), (D2, "paying", 3.0))
    right = rows((D1, "free", 1.0), (D2, "free", 2.5), (D2, "paying", 9.0))
    with pytest.raises(compare.MartMismatch) as failure:
        compare.compare_mart("fct_x", KEYS, left, right)
    message = str(failure.value)
    assert "segment='free'" in message and "2026, 11, 22" in message and "column z_score" in message
    assert "duckdb=2.0 bigquery=2.5" in message


def test_missing_extra_and_duplicate_rows_fail() -> None:
    with pytest.raises(compare.MartMismatch, match="only on duckdb"):
        compare.compare_mart("m", KEYS, rows((D1, "free", 1.0), (D2, "free", 1.0)), rows((D1, "free", 1.0)))
    with pytest.raises(compare.MartMismatch, match="only on bigquery"):
        compare.compare_mart("m", KEYS, rows((D1, "free", 1.0)), rows((D1, "free", 1.0), (D2, "free", 1.0)))
    with pytest.raises(compare.MartMismatch, match="two rows"):
        compare.compare_mart("m", KEYS, rows((D1, "free", 1.0), (D1, "free", 1.0)), rows((D1, "free", 1.0)))


def test_null_is_not_zero_and_bool_is_not_int_and_columns_must_match() -> None:
    with pytest.raises(compare.MartMismatch, match="z_score"):
        compare.compare_mart("m", KEYS, rows((D1, "free", None)), rows((D1, "free", 0.0)))
    assert not compare.values_equal(True, 1)
    right = [dict(r, extra=1) for r in rows((D1, "free", 1.0))]
    with pytest.raises(compare.MartMismatch, match=r"columns differ: only duckdb \[\], only bigquery \['extra'\]"):
        compare.compare_mart("m", KEYS, rows((D1, "free", 1.0)), right)


def test_csv_values_round_trip_doubles_exactly() -> None:
    value = 0.1 + 0.2
    assert float(csv_value(value)) == value
    assert csv_value(None) == "" and csv_value(True) == "true" and csv_value(D1) == "2026-11-21"


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("select x::int64 as y from t", "`::` cast"),
        ("select cast(x as double) as y from t", "DOUBLE"),
        ("select cast(x as varchar) as y from t", "VARCHAR"),
        ("select a // 2 from t", "Required keyword"),
        ("select a from t qualify", "Required keyword"),
    ],
)
def test_dialect_check_names_the_file_of_non_bigquery_sql(tmp_path: Path, sql: str, reason: str) -> None:
    good, bad = tmp_path / "good.sql", tmp_path / "sub" / "bad.sql"
    bad.parent.mkdir()
    good.write_text(
        "select cast(x as float64) as double_x, safe_divide(a, b) as r from `p`.`d`.`t` where dt >= '2026-01-01'"
    )
    bad.write_text(sql)
    errors = dialect_check.parse_errors(dialect_check.compiled_files(tmp_path))
    assert list(errors) == [bad]
    assert reason in errors[bad]


def manifest(model_sql: str, strategy: str = "insert_overwrite", partition_field: str = "dt") -> dict[str, object]:
    source = {
        "source_name": "web",
        "name": "raw",
        "relation_name": "`p`.`web`.`raw`",
        "columns": {"dt": {}, "x": {}},
    }
    view = {
        "resource_type": "model",
        "name": "stg",
        "relation_name": "`p`.`s_staging`.`stg`",
        "config": {"materialized": "view"},
        "depends_on": {"nodes": ["source.p.web.raw"]},
        "columns": {},
    }
    model = {
        "resource_type": "model",
        "name": "fct",
        "relation_name": "`p`.`s_marts`.`fct`",
        "config": {
            "materialized": "incremental",
            "incremental_strategy": strategy,
            "partition_by": {"field": partition_field, "data_type": "date", "granularity": "day"},
            "cluster_by": ["x"],
        },
        "depends_on": {"nodes": ["model.p.stg"]},
        "columns": {"dt": {}, "x": {}},
        "compiled_code": model_sql,
    }
    return {"sources": {"source.p.web.raw": source}, "nodes": {"model.p.stg": view, "model.p.fct": model}}


def test_partition_filter_check_accepts_filtered_reads() -> None:
    sql = "with s as (select * from `p`.`s_staging`.`stg` where dt >= date '2026-01-01') select * from s"
    problems, checked = config_check.partition_filter_problems(manifest(sql))
    assert problems == [] and checked == ["fct reads stg (source web.raw): filtered on dt"]


@pytest.mark.parametrize(
    "sql",
    [
        "select * from `p`.`s_staging`.`stg`",
        "select * from `p`.`web`.`raw` where x > 1",
        # the filter is on the OTHER table's dt: the raw table is still scanned whole
        "select * from `p`.`s_marts`.`o` as o join `p`.`s_staging`.`stg` as s on o.x = s.x where o.dt >= '2026-01-01'",
    ],
)
def test_partition_filter_check_flags_full_scans(sql: str) -> None:
    problems, _ = config_check.partition_filter_problems(manifest(sql))
    assert len(problems) == 1 and "without a filter on dt" in problems[0]


def test_materialisation_check_flags_strategy_and_partition_column() -> None:
    assert config_check.materialisation_problems(manifest("select 1")) == []
    problems = config_check.materialisation_problems(manifest("select 1", strategy="merge", partition_field="day"))
    assert problems == [
        "fct: incremental_strategy 'merge', not insert_overwrite",
        "fct: partition column 'day' is not a documented column",
    ]
