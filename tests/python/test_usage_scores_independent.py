"""Every row of fct_usage_anomaly_scores equals an independent computation from the raw files."""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.python.conftest import REPO
from tests.python.usage_reference import expected_scores

NUMERIC = (
    "value",
    "baseline_mean",
    "baseline_stddev",
    "z_score",
    "pct_change",
    "baseline_median",
    "baseline_mad",
    "robust_z_score",
    "wow_change",
    "wow_baseline_median",
    "wow_baseline_scale",
    "wow_z_score",
)
EXACT = (
    "baseline_points",
    "severity",
    "direction",
    "is_suppressed",
    "suppression_reason",
    "has_insufficient_baseline",
    "is_zero_variance",
    "is_low_variance",
    "has_baseline_outlier",
    "is_alert",
    "wow_baseline_points",
)


def close(a: float | None, b: float | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


@pytest.fixture(scope="module")
def actual(test_duckdb: Path) -> dict[tuple[dt.date, str, str], dict]:
    with duckdb.connect(str(test_duckdb), read_only=True) as con:
        cur = con.execute("select * from main_marts.fct_usage_anomaly_scores")
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    return {(r["dt"], r["segment"], r["metric"]): r for r in rows}


@pytest.fixture(scope="module")
def expected() -> dict[tuple[dt.date, str, str], dict]:
    raw = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    return expected_scores(raw if raw.is_absolute() else REPO / raw)


def test_same_rows(actual: dict, expected: dict) -> None:
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    assert not missing and not extra, f"missing {missing[:3]}, extra {extra[:3]}"
    assert len(actual) > 1000


def test_every_row_matches_the_reference(actual: dict, expected: dict) -> None:
    for key in sorted(expected):
        exp, act = expected[key], actual[key]
        for col in NUMERIC:
            assert close(act[col], exp[col]), f"{key} {col}: dbt {act[col]!r} vs reference {exp[col]!r}"
        for col in EXACT:
            assert act[col] == exp[col], f"{key} {col}: dbt {act[col]!r} vs reference {exp[col]!r}"


def test_the_data_exercises_every_branch(expected: dict) -> None:
    """Guards against a test set that would make the comparison above vacuous."""
    rows = expected.values()
    for sev in ("none", "notice", "warning", "critical"):
        assert any(r["severity"] == sev for r in rows), sev
    assert any(r["is_suppressed"] for r in rows)
    assert any(r["has_insufficient_baseline"] for r in rows)
    assert any(r["has_baseline_outlier"] for r in rows)
    assert any(r["direction"] == "decrease" and r["is_alert"] for r in rows)
    assert any(r["direction"] == "increase" and r["is_alert"] for r in rows)
    assert any(r["wow_z_score"] is not None and abs(r["wow_z_score"]) > 2 for r in rows)
    assert any(r["wow_z_score"] is None and r["wow_baseline_points"] > 0 for r in rows)


def test_trend_prediction_matches_a_least_squares_fit_of_the_baseline_points(test_duckdb: Path) -> None:
    # int_usage__baselines' trend against numpy's least squares over the very baseline points
    # int_usage__baseline_days chose (x = weeks before the day), on every scored row of the build
    con = duckdb.connect(str(test_duckdb), read_only=True)
    points: dict[tuple[dt.date, str, str], list[tuple[float, float]]] = {}
    for day, segment, metric, baseline_dt, value in con.sql(
        "select dt, segment, metric, baseline_dt, baseline_value from main_intermediate.int_usage__baseline_days"
    ).fetchall():
        points.setdefault((day, segment, metric), []).append((-(day - baseline_dt).days / 7, float(value)))
    trends = con.sql(
        "select dt, segment, metric, trend_prediction, trend_stddev from main_intermediate.int_usage__baselines"
    ).fetchall()
    checked = with_trend = 0
    for day, segment, metric, prediction, stddev in trends:
        xy = points.get((day, segment, metric), [])
        x, y = np.array([p[0] for p in xy]), np.array([p[1] for p in xy])
        if len(xy) < 3 or np.ptp(x) == 0:
            assert prediction is None and stddev is None, (day, segment, metric)
            continue
        slope, intercept = np.polyfit(x, y, 1)
        residual = y - (intercept + slope * x)
        n, sxx = len(xy), float(((x - x.mean()) ** 2).sum())
        se = math.sqrt(float((residual**2).sum()) / (n - 2) * (1 + 1 / n + x.mean() ** 2 / sxx))
        scale = max(abs(float(y.mean())), 1.0)
        assert abs(prediction - intercept) <= 1e-6 * scale, (day, segment, metric, prediction, intercept)
        assert abs(stddev - se) <= 1e-6 * scale, (day, segment, metric, stddev, se)
        checked += 1
        with_trend += abs(slope) > 0
    assert checked > 1000 and with_trend > checked / 2
