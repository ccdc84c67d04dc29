"""An independent implementation of the usage monitor rules (DESIGN.md §2), in
plain Python + numpy straight from the raw Parquet files, used to check every
row of ``fct_usage_anomaly_scores``. It shares no code with the dbt models."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

SEGMENTS = ("enterprise_contract", "enterprise_pilot", "heavy", "paying", "free")
METRICS = ("dau", "image_generations", "video_generations", "tokens")
PAID = {"lite": "Lite", "standard": "Standard", "pro": "Pro"}
EXCLUDED = {"lightricks", "popular pays"}
CALENDAR = Path(__file__).resolve().parents[2] / "seeds" / "calendar_events.csv"
BASELINE_WEEKS, LOOKBACK_WEEKS, INCIDENT_ROBUST_Z = 10, 15, 4.5  # dbt vars baseline_*


def _read(root: Path, sub: str) -> list[dict]:
    rows: list[dict] = []
    for f in sorted((root / sub).glob("*.parquet")):
        rows.extend(pq.read_table(f).to_pylist())
    return rows


def segment_user_days(
    raw_dir: Path, min_active_days: int = 5, min_weekly_tokens: int = 50_000
) -> tuple[list[tuple[dt.date, str, str, dict]], set[dt.date]]:
    """(day, lt_id, segment, metrics) for every kept user-day, and the set of loaded days."""
    members = {}
    for m in _read(raw_dir, "enterprise_users"):
        members[m["lt_id"]] = m
    usage = _read(raw_dir, "ltxstudio_agg_user_date")
    weekly: dict[tuple[str, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for r in usage:
        monday = r["dt"] - dt.timedelta(days=r["dt"].weekday())
        w = weekly[(r["lt_id"], monday)]
        w[0] += 1
        w[1] += r["num_tokens_consumed"] or 0
    out = []
    for r in usage:
        m = members.get(r["lt_id"])
        if m and m["organization_name"].strip().lower() in EXCLUDED:
            continue
        monday = r["dt"] - dt.timedelta(days=r["dt"].weekday())
        prev_days, prev_tokens = weekly.get((r["lt_id"], monday - dt.timedelta(days=7)), (0, 0))
        tier = (r["griffin_tier_name"] or "").strip().lower()
        if m:
            segment = "enterprise_contract" if m["contract_type"].lower() == "contract" else "enterprise_pilot"
        elif prev_days >= min_active_days and prev_tokens >= min_weekly_tokens:
            segment = "heavy"
        elif tier in PAID:
            segment = "paying"
        else:
            segment = "free"
        metrics = {
            "dau": 1,
            "image_generations": r["num_generate_image"] or 0,
            "video_generations": r["num_generate_video"] or 0,
            "tokens": r["num_tokens_consumed"] or 0,
        }
        out.append((r["dt"], r["lt_id"], segment, metrics))
    return out, {r["dt"] for r in usage}


def _median(x: np.ndarray) -> float:
    return float(np.median(x))


def _week_over_week(series: dict[dt.date, float], d: dt.date, weeks: int = 12, min_points: int = 8) -> dict:
    """The week-over-week check: the change vs 7 days earlier against the median / MAD of the
    same weekday's week-over-week changes over the last `weeks` weeks (dbt vars usage_wow_*)."""

    def change(day: dt.date) -> float | None:
        prev = day - dt.timedelta(days=7)
        return series[day] - series[prev] if day in series and prev in series else None

    points = [c for k in range(1, weeks + 1) if (c := change(d - dt.timedelta(days=7 * k))) is not None]
    wow = change(d)
    med = scale = None
    if points:
        x = np.array(points)
        med = _median(x)
        mad = _median(np.abs(x - med))
        meanad = float(np.mean(np.abs(x - med)))
        scale = 1.4826 * mad if mad > 0 else (1.253314 * meanad if meanad > 0 else None)
    z = (wow - med) / scale if len(points) >= min_points and scale and wow is not None else None
    return {
        "wow_change": wow,
        "wow_baseline_median": med,
        "wow_baseline_scale": scale,
        "wow_baseline_points": len(points),
        "wow_z_score": z,
    }


def _robust_scale(x: np.ndarray) -> tuple[float, float | None]:
    med = _median(x)
    mad = _median(np.abs(x - med))
    meanad = float(np.mean(np.abs(x - med)))
    return med, 1.4826 * mad if mad > 0 else (1.253314 * meanad if meanad > 0 else None)


def _event_days(segment: str) -> set[dt.date]:
    """Days of seed calendar_events rows with exclude_from_baseline for this segment (or *)."""
    days = set()
    with CALENDAR.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["exclude_from_baseline"] == "true" and row["scope"] in ("*", segment):
                d, end = dt.date.fromisoformat(row["starts_on"]), dt.date.fromisoformat(row["ends_on"])
                while d <= end:
                    days.add(d)
                    d += dt.timedelta(days=1)
    return days


def baseline_days(series: dict[dt.date, float], segment: str, first: dt.date) -> dict[dt.date, list[dt.date]]:
    """Per day: the BASELINE_WEEKS most recent same weekdays within LOOKBACK_WEEKS that are no
    event day, no warmup day (heavy, paying and free while the ISO week before the day starts
    before the first loaded day `first`: heavy cannot be told yet) and no incident day (robust
    score against the day's own previous BASELINE_WEEKS same weekdays above INCIDENT_ROBUST_Z)."""
    excluded = set(_event_days(segment))
    if not segment.startswith("enterprise"):
        excluded |= {d for d in series if d - dt.timedelta(days=d.weekday() + 7) < first}
    for d in series:
        own = [series[b] for k in range(1, BASELINE_WEEKS + 1) if (b := d - dt.timedelta(days=7 * k)) in series]
        if own:
            med, scale = _robust_scale(np.array(own))
            if scale and abs(series[d] - med) / scale > INCIDENT_ROBUST_Z:
                excluded.add(d)
    chosen = {}
    for d in series:
        previous = [b for k in range(1, LOOKBACK_WEEKS + 1) if (b := d - dt.timedelta(days=7 * k)) in series]
        chosen[d] = [b for b in previous if b not in excluded][:BASELINE_WEEKS]
    return chosen


def expected_scores(raw_dir: Path) -> dict[tuple[dt.date, str, str], dict]:
    user_days, loaded = segment_user_days(raw_dir)
    first, last = min(loaded), max(loaded)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    totals: dict[tuple[dt.date, str, str], float] = defaultdict(float)
    for day, _, segment, metrics in user_days:
        for metric, v in metrics.items():
            totals[(day, segment, metric)] += v
    result = {}
    for segment in SEGMENTS:
        for metric in METRICS:
            series = {d: float(totals.get((d, segment, metric), 0.0)) for d in days}  # zero-filled
            chosen = baseline_days(series, segment, first)
            for d in days:
                base = [series[b] for b in chosen[d]]
                if not base:
                    continue
                x = np.array(base)
                n = len(x)
                mu = float(x.mean())
                sd = float(x.std(ddof=1)) if n > 1 else None
                value = series[d]
                z = (value - mu) / sd if sd else None
                a = round(abs(z), 9) if z is not None else 0.0  # same rounding as the model
                severity = "critical" if a > 4.5 else "warning" if a > 3 else "notice" if a > 2 else "none"
                med, scale = _robust_scale(x)
                mad = _median(np.abs(x - med))
                outliers = int(sum(abs(v - med) / scale > 3.5 for v in x)) if scale else 0
                weekend = d.weekday() >= 5
                suppressed = segment.startswith("enterprise") and weekend
                result[(d, segment, metric)] = {
                    "value": value,
                    "baseline_mean": mu,
                    "baseline_stddev": sd,
                    "baseline_points": n,
                    "z_score": z,
                    "pct_change": (value - mu) / mu if mu != 0 else None,
                    "severity": severity,
                    "direction": "decrease" if value < mu else "increase",
                    "is_suppressed": suppressed,
                    "suppression_reason": "enterprise_weekend" if suppressed else None,
                    "has_insufficient_baseline": n < 10,
                    "is_zero_variance": not sd,
                    "is_low_variance": (sd or 0.0) <= 0.01 * abs(mu),
                    "has_baseline_outlier": outliers > 0,
                    "baseline_median": med,
                    "baseline_mad": mad,
                    "robust_z_score": (value - med) / scale if scale else None,
                    "is_alert": severity != "none" and not suppressed,
                    **_week_over_week(series, d),
                }
    return result
