"""fct_gpu_cost_daily (every column) and the infra-cost z-scores equal an independent
computation from the raw files of the test set; cost alerts only on finalised days."""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import duckdb
import pytest

from tests.python.conftest import REPO
from tests.python.gpu_cost_reference import (
    COLUMNS,
    expected_daily,
    expected_decomposition_totals,
    expected_infra_weekday,
    expected_infra_z,
)

FINALISATION_DAYS = 3  # dbt_project.yml cost_finalisation_days; run_date null = today


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture(scope="module")
def raw_dir() -> Path:
    raw = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    return raw if raw.is_absolute() else REPO / raw


@pytest.fixture(scope="module")
def finalised_through() -> dt.date:
    return dt.date.today() - dt.timedelta(days=FINALISATION_DAYS)


def _rows(db: Path, sql: str) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(sql)
        cols = [c[0] for c in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_daily_equals_independent_computation(test_duckdb: Path, raw_dir: Path, finalised_through: dt.date) -> None:
    expected = expected_daily(raw_dir, finalised_through)
    actual = {(r["dt"], r["vertical"]): r for r in _rows(test_duckdb, "select * from main_marts.fct_gpu_cost_daily")}
    assert set(actual) == set(expected)
    assert len(actual) > 100
    for key, exp in expected.items():
        act = actual[key]
        for col in (*COLUMNS, "cost_per_request", "failure_rate", "idle_inference_ratio"):
            assert close(act[col], exp[col]), (key, col, act[col], exp[col])
        assert act["is_finalised"] == exp["is_finalised"], key


def test_infra_cost_z_equals_numpy(test_duckdb: Path, raw_dir: Path, finalised_through: dt.date) -> None:
    z = expected_infra_z(expected_daily(raw_dir, finalised_through))
    rows = _rows(
        test_duckdb,
        "select dt, vertical, z_score from main_marts.fct_gpu_cost_anomaly_scores where metric = 'infra_cost'",
    )
    assert len(rows) == len(z)
    assert sum(r["z_score"] is not None for r in rows) > 100
    for r in rows:
        assert close(r["z_score"], z[(r["dt"], r["vertical"])]), r


def test_weekday_aware_infra_comparisons_equal_numpy(
    test_duckdb: Path, raw_dir: Path, finalised_through: dt.date
) -> None:
    expected = expected_infra_weekday(expected_daily(raw_dir, finalised_through))
    rows = _rows(
        test_duckdb,
        """select dt, vertical, weekday_z_score, dod_baseline_points, dod_expected_value, dod_change_vs_expected
           from main_intermediate.int_gpu_costs__metric_baselines where metric = 'infra_cost'""",
    )
    assert len(rows) == len(expected)
    assert sum(r["weekday_z_score"] is not None for r in rows) > 50
    assert sum(r["dod_change_vs_expected"] is not None for r in rows) > 50
    for r in rows:
        exp = expected[(r["dt"], r["vertical"])]
        for col, value in exp.items():
            assert close(r[col], value), (r["dt"], r["vertical"], col, r[col], value)


def test_decomposition_totals_equal_independent_split(
    test_duckdb: Path, raw_dir: Path, finalised_through: dt.date
) -> None:
    expected = expected_decomposition_totals(expected_daily(raw_dir, finalised_through))
    rows = _rows(
        test_duckdb,
        """select dt, vertical, component, delta_usd from main_marts.fct_gpu_cost_decomposition
           where contributor_type = 'total'""",
    )
    assert len(rows) == 5 * len(expected)
    for r in rows:
        exp = expected[(r["dt"], r["vertical"])][r["component"]]
        assert math.isclose(r["delta_usd"], exp, rel_tol=1e-9, abs_tol=1e-7), (r, exp)


def test_cost_alerts_only_on_finalised_days_and_routed(test_duckdb: Path, finalised_through: dt.date) -> None:
    rows = _rows(test_duckdb, "select * from main_marts.fct_alerts where domain = 'gpu_cost'")
    assert rows, "the test set has injected cost anomalies: some cost alert must fire"
    for r in rows:
        assert r["alert_date"] <= finalised_through
        expected_team = "engineering" if r["rule"] == "cost_spike_vs_7d_avg" else r["scope"]
        assert r["team"] == expected_team, r
        assert r["drivers_summary"], r
