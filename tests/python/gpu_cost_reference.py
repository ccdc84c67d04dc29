"""An independent implementation of the GPU cost rules (pyarrow + numpy, no SQL),
used to check the dbt marts row by row on data they were not written against."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

GPU_DIR = "gpu_request_attribution_and_cost"
CALENDAR = Path(__file__).resolve().parents[2] / "seeds" / "calendar_events.csv"


def event_days(vertical: str) -> set[dt.date]:
    """Days of seed calendar_events rows left out of baselines, for this vertical (or `*`)."""
    days = set()
    with CALENDAR.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["exclude_from_baseline"] == "true" and row["scope"] in ("*", vertical):
                first, last = dt.date.fromisoformat(row["starts_on"]), dt.date.fromisoformat(row["ends_on"])
                days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return days


def ordinary(daily: dict[tuple[dt.date, str], dict], events: set[dt.date], day: dt.date, vertical: str) -> bool:
    """A loaded day with customer requests (no outage) that is no calendar event day of the vertical."""
    row = daily.get((day, vertical))
    return row is not None and row.get("requests", 0) > 0 and day not in events


def _div(n: float, d: float) -> float | None:
    return None if d == 0 else n / d


def expected_daily(raw_dir: Path, finalised_through: dt.date) -> dict[tuple[dt.date, str], dict]:
    """fct_gpu_cost_daily recomputed from the raw Parquet files."""
    t = pq.read_table(sorted((raw_dir / GPU_DIR).glob("*.parquet"))).to_pydict()
    acc: dict[tuple[dt.date, str], dict] = defaultdict(lambda: defaultdict(float))
    for i in range(len(t["dt"])):
        key = (t["dt"][i], t["vertical"][i])
        a = acc[key]
        cat = t["cost_category"][i]
        row = t["row_cost"][i]
        a["infra_cost"] += row
        a[f"{cat}_cost"] += row
        if cat != "inference":
            continue
        idle = t["attributed_idle_cost"][i] or 0.0
        over = t["attributed_overhead_cost"][i] or 0.0
        full = row + idle + over
        lt = t["is_lt_team"][i]
        failed = t["result"][i] in ("failed", "timeout")
        a["attributed_idle_cost"] += idle
        a["attributed_overhead_cost"] += over
        a["fully_loaded_inference_cost"] += full
        if lt:
            a["lt_team_fully_loaded_cost"] += full
            a["lt_team_requests"] += 1
        else:
            a["customer_fully_loaded_cost"] += full
            a["customer_inference_cost"] += row
            a["requests"] += 1
            if failed:
                a["failed_requests"] += 1
                a["failed_cost"] += full
    out = {}
    for key, a in acc.items():
        r = {k: a.get(k, 0.0) for k in COLUMNS}
        r["cost_per_request"] = _div(a["customer_fully_loaded_cost"], a["requests"])
        r["failure_rate"] = _div(a["failed_requests"], a["requests"])
        r["idle_inference_ratio"] = _div(a["idle_cost"], a["inference_cost"])
        r["is_finalised"] = key[0] <= finalised_through
        out[key] = r
    return out


def expected_infra_z(daily: dict[tuple[dt.date, str], dict], window: int = 28, min_points: int = 14) -> dict:
    """z of infra_cost vs the previous `window` calendar days (sample stddev, day excluded)."""
    out = {}
    for (day, vertical), r in daily.items():
        hist = [
            daily[(day - dt.timedelta(days=k), vertical)]["infra_cost"]
            for k in range(1, window + 1)
            if (day - dt.timedelta(days=k), vertical) in daily
        ]
        z = None
        if len(hist) >= min_points:
            sd = float(np.std(hist, ddof=1))
            z = (r["infra_cost"] - float(np.mean(hist))) / sd if sd > 0 else None
        out[(day, vertical)] = z
    return out


def expected_infra_weekday(
    daily: dict[tuple[dt.date, str], dict], weeks: int = 8, min_points: int = 4, dod_weeks: int = 8, dod_min: int = 4
) -> dict:
    """Weekday-aware infra_cost comparisons (dbt vars cost_weekday_baseline_* / cost_dod_*).

    z: the same-weekday mean over the last `weeks` weeks, scaled by the pooled within-weekday
    sigma of all days of those weeks x sqrt(1 + 1/n); days without a customer request (outages) and
    calendar event days are left out of both. Day-over-day: the median of the same weekday transition's ratios
    (value / previous day) over the last `dod_weeks` weeks, transitions from or to such a day left out; no
    expected value the day after one."""
    out = {}
    events = {vertical: event_days(vertical) for _, vertical in daily}
    for (day, vertical), r in daily.items():
        value = r["infra_cost"]
        groups: dict[int, list[float]] = defaultdict(list)
        for k in range(1, 7 * weeks + 1):
            h = (day - dt.timedelta(days=k), vertical)
            if h in daily and daily[h].get("requests", 0) > 0 and h[0] not in events[vertical]:
                groups[k % 7].append(daily[h]["infra_cost"])
        same = groups.get(0, [])
        df = sum(len(g) - 1 for g in groups.values() if len(g) > 1)
        pooled = (
            sum((len(g) - 1) * float(np.var(g, ddof=1)) for g in groups.values() if len(g) > 1) / df if df else None
        )
        scale = (pooled * (1 + 1 / len(same))) ** 0.5 if same and pooled is not None else None
        z = (value - float(np.mean(same))) / scale if len(same) >= min_points and scale else None

        def ratio(d: dt.date, vertical: str = vertical) -> float | None:
            a, b = daily.get((d, vertical)), daily.get((d - dt.timedelta(days=1), vertical))
            usual = all(ordinary(daily, events[vertical], x, vertical) for x in (d, d - dt.timedelta(days=1)))
            if a and b and usual and a["infra_cost"] > 0 and b["infra_cost"] > 0:
                return a["infra_cost"] / b["infra_cost"]
            return None

        ratios = [x for k in range(1, dod_weeks + 1) if (x := ratio(day - dt.timedelta(days=7 * k))) is not None]
        previous = daily.get((day - dt.timedelta(days=1), vertical))
        if previous and not ordinary(daily, events[vertical], day - dt.timedelta(days=1), vertical):
            previous = None  # the way back from an outage or an event day is no jump
        expected = previous["infra_cost"] * float(np.median(ratios)) if len(ratios) >= dod_min and previous else None
        out[(day, vertical)] = {
            "weekday_z_score": z,
            "dod_baseline_points": len(ratios),
            "dod_expected_value": expected,
            "dod_change_vs_expected": (value - expected) / expected if expected else None,
        }
    return out


def expected_decomposition_totals(daily: dict[tuple[dt.date, str], dict], window: int = 7) -> dict:
    """The five total components of the infra change vs the average of the ordinary days (no outage, no calendar
    event) among the trailing `window` days."""
    out = {}
    events = {vertical: event_days(vertical) for _, vertical in daily}
    for (day, vertical), r in daily.items():
        back = [day - dt.timedelta(days=k) for k in range(1, window + 1)]
        hist = [daily[(d, vertical)] for d in back if ordinary(daily, events[vertical], d, vertical)]
        if not hist:
            continue

        def avg(col: str, rows: list[dict] = hist) -> float:
            return sum(x[col] for x in rows) / len(rows)

        n0 = avg("requests") + avg("lt_team_requests")
        n1 = r["requests"] + r["lt_team_requests"]
        c0, c1 = avg("inference_cost"), r["inference_cost"]
        volume = (n1 - n0) * c0 / n0 if n0 > 0 else c1 - c0
        out[(day, vertical)] = {
            "request_volume": volume,
            "request_rate": (c1 - c0) - volume,
            "idle": r["idle_cost"] - avg("idle_cost"),
            "overhead": r["overhead_cost"] - avg("overhead_cost"),
            "unused": r["unused_cost"] - avg("unused_cost"),
        }
    return out


COLUMNS = (
    "infra_cost",
    "inference_cost",
    "idle_cost",
    "overhead_cost",
    "unused_cost",
    "attributed_idle_cost",
    "attributed_overhead_cost",
    "fully_loaded_inference_cost",
    "customer_fully_loaded_cost",
    "customer_inference_cost",
    "lt_team_fully_loaded_cost",
    "requests",
    "lt_team_requests",
    "failed_requests",
    "failed_cost",
)
