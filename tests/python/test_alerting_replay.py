"""Replay: a daily series with level shifts, morning by morning through the runner and the loopback Slack.

The series is simulated (weekly pattern, 4 % noise, three level shifts of 30-40 days); each
morning's fct_alerts holds the alert rows up to that day, computed the way the usage rule
computes them (same weekday, last 10 points, z bands 2 / 3 / 4.5), so a shift alerts daily
at first and intermittently once its own days enter the baseline. Issue 12's target: every
shift's onset is a top-level post, and the days inside a shift add at most 2 top-level posts.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from pathlib import Path
from typing import Any

from alerting.lifecycle import LifecycleConfig
from tests.python.alerting_support import fake_slack, log_entries
from tests.python.delivery_support import alert_row, run_day, write_marts

START = dt.date(2026, 1, 5)
DAYS = 250
SHIFTS = ((84, 124, 0.60), (150, 185, 1.45), (205, 235, 0.70))  # (first day, end day exclusive, level factor)
WEEKLY = (1.0, 1.04, 1.02, 1.0, 0.97, 0.8, 0.75)


def simulate(seed: int = 11) -> list[dict[str, Any]]:
    """Alert rows (tokens and dau of the `free` segment) of the whole history."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    values: dict[str, list[float]] = {"tokens": [], "dau": []}
    for t in range(DAYS):
        level = next((f for s, e, f in SHIFTS if s <= t < e), 1.0)
        for metric, share in (("tokens", 1.0), ("dau", 0.8)):
            factor = 1 + (level - 1) * share
            values[metric].append(1000 * WEEKLY[t % 7] * factor * (1 + rng.gauss(0, 0.04)))
            baseline = [values[metric][t - 7 * k] for k in range(1, 11) if t - 7 * k >= 0]
            if len(baseline) < 10:
                continue
            mean, sd = statistics.fmean(baseline), statistics.stdev(baseline)
            z = (values[metric][t] - mean) / sd
            if abs(z) < 2:
                continue
            severity = "critical" if abs(z) >= 4.5 else "warning" if abs(z) >= 3 else "notice"
            direction = "increase" if z > 0 else "decrease"
            rows.append(alert_row(START + dt.timedelta(days=t), metric=metric, severity=severity, direction=direction,
                                  z=round(z, 2)))  # fmt: skip
    return rows


def replay(tmp_path: Path, cfg: LifecycleConfig) -> tuple[list[dict[str, Any]], int, int]:
    db = tmp_path / f"replay-{cfg.repeat_window_days}-{cfg.resolve_after_days}.duckdb"
    rows = simulate()
    first_day = min(r["alert_date"] for r in rows)
    with fake_slack() as slack:
        day = first_day
        while day < START + dt.timedelta(days=DAYS):
            write_marts(db, [r for r in rows if r["alert_date"] <= day])  # the morning's build
            report = run_day(db, slack.url, day, lifecycle=cfg)
            assert report.ok, report.failures
            day += dt.timedelta(days=1)
        top, replies = len(slack.top_level()), len(slack.replies())
    return log_entries(db), top, replies


def posts_between(entries: list[dict[str, Any]], first: dt.date, end: dt.date) -> set[str]:
    return {str(e["message_ts"]) for e in entries if e["kind"] == "post" and first <= e["alert_date"] < end}


def test_level_shifts_replayed_morning_by_morning(tmp_path: Path) -> None:
    rows = simulate()
    entries, top, replies = replay(tmp_path, LifecycleConfig(repeat_window_days=7, resolve_after_days=3))
    naive_top = len({r["alert_date"] for r in rows})  # without threads: one digest per day with an alert
    report = []
    for s, e, factor in SHIFTS:
        onset, end = START + dt.timedelta(days=s), START + dt.timedelta(days=e)
        alert_days = {r["alert_date"] for r in rows if onset <= r["alert_date"] < end}
        assert onset in alert_days, "the simulation must alert on the onset day"
        onset_posts = {str(x["message_ts"]) for x in entries if x["kind"] == "post" and x["alert_date"] == onset}
        assert onset_posts, f"shift at {onset} ({factor}x): its onset was not a top-level post"
        inside = posts_between(entries, onset, end)
        report.append((onset.isoformat(), factor, len(alert_days), len(inside)))
        assert len(inside) <= 2, f"shift at {onset}: {len(inside)} top-level posts inside it"
    print(f"\nreplay: {top} top-level posts, {replies} thread replies (naive policy: {naive_top} top-level posts)")
    for onset, factor, days, posts in report:
        print(f"  shift {onset} x{factor}: {days} alert days -> {posts} top-level post(s) (naive: {days})")
    assert replies > 0 and top < naive_top
    assert sum(1 for x in entries if x["kind"] == "resolved") >= len(SHIFTS)
