"""Every row of fct_usage_anomaly_scores equals an independent computation from the raw files."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import math
import os
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
import yaml

from tests.python.conftest import REPO
from tests.python.test_student_t_p_value import reference_p, z_to_t
from tests.python.usage_reference import expected_scores, segment_user_days

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


def _event_days() -> set[tuple[dt.date, str]]:
    """(day, scope) of the calendar events that leave the baselines, from the seed file."""
    days = set()
    with (REPO / "seeds" / "calendar_events.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            if row["exclude_from_baseline"] == "true":
                day, last = dt.date.fromisoformat(row["starts_on"]), dt.date.fromisoformat(row["ends_on"])
                while day <= last:
                    days.add((day, row["scope"]))
                    day += dt.timedelta(days=1)
    return days


def test_empirical_null_matches_an_independent_count(test_duckdb: Path) -> None:
    # int_alerts__usage_null_p_values: t_p_value against numerical integration (a sample of rows), then
    # null_points / null_rank / null_p_value on every row, counted here from the shipped vars and the seed, and
    # trend_pct_change on every row from the value and the trend prediction (itself checked against numpy above)
    con = duckdb.connect(str(test_duckdb), read_only=True)
    shipped = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]
    lookback, min_points = shipped["loud_null_lookback_days"], shipped["loud_null_min_points"]
    rows = con.sql(
        """select n.dt, n.segment, n.metric, n.t_p_value, n.null_points, n.null_rank, n.null_p_value,
                  s.z_score, s.baseline_points, s.value, b.trend_prediction, b.trend_stddev, n.trend_pct_change,
                  s.is_suppressed
           from main_intermediate.int_alerts__usage_null_p_values n
           join main_marts.fct_usage_anomaly_scores s using (dt, segment, metric)
           left join main_intermediate.int_usage__baselines b using (dt, segment, metric)
           order by n.dt, n.segment, n.metric"""
    ).fetchall()
    assert con.execute("select count(*) from main_intermediate.int_alerts__feedback_excluded_days").fetchall() == [(0,)]
    for day, segment, metric, p, _, _, _, z, n, value, prediction, stddev, _, _ in rows[::25]:
        reference = reference_p(z_to_t(z, n), n - 1, steps=2_000)
        if stddev:
            reference = max(reference, reference_p(abs(value - prediction) / stddev, n - 2, steps=2_000))
        assert p == pytest.approx(reference, abs=1e-7), (day, segment, metric)
    for day, segment, metric, *_, value, prediction, _, trend_pct, _ in rows:
        expected = (value - prediction) / abs(prediction) if prediction else None
        assert trend_pct == (None if expected is None else pytest.approx(expected, rel=1e-9)), (day, segment, metric)
    assert sum(r[-2] is not None for r in rows) > len(rows) / 2
    events = _event_days()
    ordinary = [r for r in rows if (r[0], "*") not in events and (r[0], r[1]) not in events and not r[-1]]
    assert len(ordinary) < len(rows) and any(r[-1] for r in rows)  # suppressed days: a row, never a reference
    counted = early = 0
    for day, segment, metric, p, points, rank, null_p, *_ in rows:
        window = [o[3] for o in ordinary if o[1] == segment and day - dt.timedelta(days=lookback) <= o[0] < day]
        expected_rank = sum(q <= p for q in window)
        assert (points, rank) == (len(window), expected_rank), (day, segment, metric)
        speaks = points >= min_points or expected_rank >= 1  # a record day waits for min_points
        assert null_p == (pytest.approx((1 + rank) / (1 + points)) if speaks else None), (day, segment, metric)
        counted += points > 0
        early += points < min_points and speaks
    assert len(rows) > 1000 and counted > len(rows) / 2 and early > 100


def _alert_users(test_duckdb: Path, columns: str) -> tuple[list[Any], list[Any], dict[Any, list[dt.date]]]:
    """The raw files' segmented user-days (usage_reference), every (dt, segment, metric, lt_id, *`columns`) row of
    int_usage__alert_user_deltas of the test build, and each of its series-days' baseline days."""
    raw = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    user_days, _ = segment_user_days(raw if raw.is_absolute() else REPO / raw)
    with duckdb.connect(str(test_duckdb), read_only=True) as con:
        rows = con.execute(
            f"select dt, segment, metric, lt_id, {columns} from main_intermediate.int_usage__alert_user_deltas"
        ).fetchall()
        baseline: dict[Any, list[dt.date]] = {}
        for d, segment, metric, b in con.execute(
            "select dt, segment, metric, baseline_dt from main_intermediate.int_usage__baseline_days"
        ).fetchall():
            baseline.setdefault((d, segment, metric), []).append(b)
    return user_days, rows, baseline


def test_crossed_heavy_line_matches_an_independent_reading_of_each_users_memberships(test_duckdb: Path) -> None:
    """int_usage__alert_user_deltas.crossed_heavy_line (the `reclassified` quiet reason sums their share of the
    change) on every user row of the test build, recomputed from the raw files' segmentation (usage_reference):
    the user's segment on the day and on their latest active day before the day's ISO week (within 28 days), or on
    a baseline day they were active on, are on opposite sides of the heavy line."""
    user_days, rows, baseline = _alert_users(test_duckdb, "crossed_heavy_line")
    segment_of = {(d, lt_id): segment for d, lt_id, segment, _ in user_days}
    active_days: dict[str, list[dt.date]] = {}
    for d, lt_id, _, _ in sorted(user_days, key=lambda r: r[0]):
        active_days.setdefault(lt_id, []).append(d)
    found = {"by the latest day": 0, "by a baseline day only": 0, "not crossed": 0}
    for d, segment, metric, lt_id, crossed in rows:
        today, monday = segment_of.get((d, lt_id)), d - dt.timedelta(days=d.weekday())
        before = [x for x in active_days[lt_id] if d - dt.timedelta(days=28) <= x < monday]
        latest = [segment_of[(before[-1], lt_id)]] if before else []
        on_baseline = [segment_of[(b, lt_id)] for b in baseline[(d, segment, metric)] if (b, lt_id) in segment_of]

        def across(refs: list[str], today: str | None = today) -> bool:
            return today is not None and any(r != today and "heavy" in (r, today) for r in refs)

        expected = across(latest) or across(on_baseline)
        assert crossed == expected, (d, segment, metric, lt_id, today, latest, on_baseline)
        kind = "by the latest day" if across(latest) else "by a baseline day only" if expected else "not crossed"
        found[kind] += 1
    assert all(found.values()), found  # the test data has every case


def test_each_users_share_of_change_and_rank_match_an_independent_reading(test_duckdb: Path) -> None:
    """int_usage__alert_user_deltas.share_of_change and user_rank (the `few_users` quiet reason sums the shares of
    ranks 1 and 2) on every user row of the test build, recomputed from the raw files' segmentation: the user's value
    in the segment on the day, less their values in it on the segment's baseline days over the baseline's points,
    over the sum of those deltas; rank 1 pushed the change most (its delta furthest in the change's direction). The
    users listed are exactly those active in the segment on the day or a baseline day."""
    user_days, rows, baseline = _alert_users(test_duckdb, "share_of_change, user_rank")
    value = {(d, lt_id, segment): metrics for d, lt_id, segment, metrics in user_days}
    active_in: dict[tuple[dt.date, str], set[str]] = {}
    for d, lt_id, segment, _ in user_days:
        active_in.setdefault((d, segment), set()).add(lt_id)
    shares: dict[tuple[dt.date, str, str], dict[str, tuple[float | None, int]]] = {}
    for d, segment, metric, lt_id, share, rank in rows:
        shares.setdefault((d, segment, metric), {})[lt_id] = (share, rank)
    made_by = {1: 0, 2: 0}  # series-days whose top one / two users carry half of the change
    for (d, segment, metric), of_user in shares.items():
        days = baseline[(d, segment, metric)]
        assert set(of_user) == set().union(*(active_in.get((x, segment), set()) for x in [d, *days])), (d, segment)

        def in_segment(day: dt.date, lt_id: str, segment: str = segment, metric: str = metric) -> float:
            return float(value.get((day, lt_id, segment), {}).get(metric, 0))

        delta = {u: in_segment(d, u) - sum(in_segment(b, u) for b in days) / len(days) for u in of_user}
        total = sum(delta.values())
        for u, (share, _) in of_user.items():
            assert share == (pytest.approx(delta[u] / total) if total else None), (d, segment, metric, u)
        pushed = sorted(of_user, key=lambda u: of_user[u][1])  # by the model's rank
        push = [delta[u] * (-1 if total < 0 else 1) for u in pushed]
        assert [of_user[u][1] for u in pushed] == list(range(1, len(pushed) + 1)), (d, segment, metric)
        assert all(a >= b - 1e-9 for a, b in itertools.pairwise(push)), (d, segment, metric)  # ties: either order
        for k in made_by:
            made_by[k] += bool(total) and sum(delta[u] for u in pushed[:k]) / total >= 0.5
    assert len(shares) > 50 and made_by[1] and made_by[2] > made_by[1], made_by  # the data has both kinds
