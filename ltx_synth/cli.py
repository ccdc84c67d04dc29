"""``python -m ltx_synth``: write the synthetic raw data set."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import time
from pathlib import Path

from ltx_synth.generate import SEGMENTS, USAGE_METRICS, VERTICALS, Config, generate


def _vertical_factor(text: str) -> tuple[str, float]:
    vertical, _, factor = text.partition("=")
    if vertical not in VERTICALS or not factor:
        raise argparse.ArgumentTypeError(f"expected api=F or studio=F, got {text!r}")
    return vertical, float(factor)


def _level_shift(text: str) -> tuple[str, str, dt.date, int, float]:
    try:
        segment, metric, first, days, factor = text.split(":")
        shift = (segment, metric, dt.date.fromisoformat(first), int(days), float(factor))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected SEGMENT:METRIC:FIRST_DAY:DAYS:FACTOR, got {text!r}") from exc
    if segment not in SEGMENTS or metric not in USAGE_METRICS or shift[3] < 1 or shift[4] <= 0:
        raise argparse.ArgumentTypeError(f"unknown segment / metric or bad days / factor in {text!r}")
    if metric == "dau" and shift[4] >= 1:
        raise argparse.ArgumentTypeError("a dau shift drops users: its factor must be < 1")
    return shift


def _holidays(path: Path | None) -> tuple[dt.date, ...]:
    """Every day of the public_holiday / day_off rows of a calendar_events CSV."""
    if path is None:
        return ()
    days = set()
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["kind"] in ("public_holiday", "day_off"):
                day, end = dt.date.fromisoformat(row["starts_on"]), dt.date.fromisoformat(row["ends_on"])
                while day <= end:
                    days.add(day)
                    day += dt.timedelta(days=1)
    return tuple(sorted(days))


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return value


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
    scen = p.add_argument_group("scenarios (off by default; labelled in ground_truth.json)")
    scen.add_argument(
        "--gpu-weekend-factor",
        action="append",
        default=[],
        metavar="VERTICAL=F",
        type=_vertical_factor,
        help="weekend GPU request level of a vertical (default 0.8 each), e.g. studio=0.6; repeatable",
    )
    scen.add_argument(
        "--gpu-volume-factor",
        action="append",
        default=[],
        metavar="VERTICAL=F",
        type=_vertical_factor,
        help="GPU request level of a vertical (default 1 each), e.g. api=3 (API most of the rows); repeatable",
    )
    scen.add_argument(
        "--org-volume-spike",
        type=dt.date.fromisoformat,
        metavar="DATE",
        help="API: one organisation on one endpoint sends 5x its requests that day (kind volume_spike)",
    )
    scen.add_argument(
        "--studio-idle-spike",
        type=dt.date.fromisoformat,
        metavar="DATE",
        help="Studio: idle cost x3 that day on unchanged traffic (kind idle_spike)",
    )
    scen.add_argument(
        "--api-outage",
        type=dt.date.fromisoformat,
        metavar="DATE",
        help="API: no inference request that day, idle / overhead / unused as usual (kind zero_traffic)",
    )
    scen.add_argument(
        "--api-failure-spike",
        type=dt.date.fromisoformat,
        metavar="DATE",
        help="API: 85%% of the requests on /v1/image-to-video fail that day (kind failure_spike)",
    )
    scen.add_argument(
        "--api-idle-spike",
        type=dt.date.fromisoformat,
        metavar="DATE",
        help="API: idle cost x3 that day on unchanged traffic (kind idle_spike)",
    )
    scen.add_argument(
        "--usage-level-shift",
        action="append",
        default=[],
        type=_level_shift,
        metavar="SEGMENT:METRIC:FIRST_DAY:DAYS:FACTOR",
        help="sustained usage level shift, e.g. free:tokens:2026-06-01:28:0.55 (dau: factor < 1); repeatable",
    )
    scen.add_argument(
        "--partial-last-day",
        type=_fraction,
        metavar="FRACTION",
        help="the last day's usage file keeps only this fraction of its users (a partial load, "
        "labelled partial_loads), e.g. 0.4",
    )
    scen.add_argument(
        "--user-growth",
        type=float,
        default=0.0,
        metavar="RATE",
        help="yearly growth of the regular user base, e.g. 0.5: newcomers join on days spread over the period",
    )
    scen.add_argument(
        "--holidays-from",
        type=Path,
        metavar="CSV",
        help="a calendar_events CSV (e.g. seeds/calendar_events.csv): on its public_holiday / day_off days "
        "users and GPU requests behave as on a weekend (listed as `holidays` in ground_truth.json)",
    )
    bad = p.add_argument_group("corruptions (tests prove these fail the build or are flagged)")
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
        gpu_weekend_factor=tuple(a.gpu_weekend_factor),
        gpu_volume_factor=tuple(a.gpu_volume_factor),
        org_volume_spike=a.org_volume_spike,
        studio_idle_spike=a.studio_idle_spike,
        api_outage=a.api_outage,
        api_failure_spike=a.api_failure_spike,
        api_idle_spike=a.api_idle_spike,
        usage_level_shifts=tuple(a.usage_level_shift),
        partial_last_day=a.partial_last_day,
        holidays=_holidays(a.holidays_from),
        user_growth=a.user_growth,
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
