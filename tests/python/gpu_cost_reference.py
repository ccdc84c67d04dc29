"""An independent implementation of the GPU cost rules (pyarrow + numpy, no SQL),
used to check the dbt marts row by row on data they were not written against."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

GPU_DIR = "gpu_request_attribution_and_cost"


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
