"""``python -m ltx_synth``: write the synthetic raw data set."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

from ltx_synth.generate import Config, generate


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m ltx_synth",
        description="Generate the synthetic raw tables (Parquet) and a ground-truth file "
        "of the anomalies injected into them. Same seed and flags -> same files.",
    )
    p.add_argument(
        "--out",
        default=os.environ.get("LTX_RAW_DIR", "data/raw"),
        help="output directory (default: $LTX_RAW_DIR or data/raw)",
    )
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end-date", type=dt.date.fromisoformat, default=None, help="last day of data (default: yesterday)")
    p.add_argument("--days", type=int, default=120, help="days of history (default 120)")
    p.add_argument("--users", type=int, default=5000, help="user population (default 5000)")
    p.add_argument(
        "--gpu-requests-per-day",
        type=int,
        default=1500,
        help="mean inference requests per day, Studio; API gets 55%% of it",
    )
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiplies --users and --gpu-requests-per-day (benchmarks)"
    )
    p.add_argument("--usage-anomalies", type=int, default=8)
    p.add_argument("--cost-anomalies", type=int, default=4)
    p.add_argument(
        "--anomaly-on-last-day",
        action="store_true",
        help="also inject a usage anomaly on the last day and a cost anomaly on the last day - 2 "
        "(the day cost alerts evaluate), so `make demo` has alerts to show",
    )
    bad = p.add_argument_group("corruptions (tests prove these fail the build)")
    bad.add_argument("--duplicate-user-day", action="store_true")
    bad.add_argument("--negative-cost", action="store_true")
    bad.add_argument("--double-idle-attribution", action="store_true")
    bad.add_argument("--unknown-cost-category", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    end = a.end_date or (dt.date.today() - dt.timedelta(days=1))
    cfg = Config(
        seed=a.seed,
        end_date=end,
        days=a.days,
        users=int(a.users * a.scale),
        gpu_requests_per_day=int(a.gpu_requests_per_day * a.scale),
        usage_anomalies=a.usage_anomalies,
        cost_anomalies=a.cost_anomalies,
        anomaly_on_last_day=a.anomaly_on_last_day,
        duplicate_user_day=a.duplicate_user_day,
        negative_cost=a.negative_cost,
        double_idle_attribution=a.double_idle_attribution,
        unknown_cost_category=a.unknown_cost_category,
    )
    started = time.perf_counter()
    s = generate(cfg, Path(a.out))
    print(
        f"ltx_synth: {s['user_day_rows']:,} user-day rows, {s['gpu_rows']:,} GPU cost rows, "
        f"{s['start_date']}..{s['end_date']} -> {a.out} "
        f"({len(s['usage_anomalies'])} usage + {len(s['gpu_cost_anomalies'])} cost anomalies "
        f"injected, {time.perf_counter() - started:.1f}s)",
        file=sys.stderr,
    )
    return 0
