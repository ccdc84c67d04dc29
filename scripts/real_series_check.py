"""Check the usage alerts on a real public series: NAB's NYC taxi passenger counts, 5 labelled incidents.

``.venv/bin/python scripts/real_series_check.py --nab-dir DIR --work-dir DIR``

``--nab-dir`` holds ``nyc_taxi.csv`` and ``combined_windows.json`` (flat, or in NAB's own layout
``data/realKnownCause/`` and ``labels/``). The script sums the half-hourly counts to daily totals,
writes a raw input directory (DESIGN.md §3.2) under ``--work-dir`` in which the day's total is
split evenly over the same 1,000 users of the `Free` tier (segment `free`) as
``num_tokens_consumed`` (DAU 1,000, no generations, a flat GPU series): the series is a city's
passengers, not one account, so no user carries its changes (quiet reason `few_users`); runs
``dbt build --full-refresh`` on DuckDB there and prints, as Markdown, what the usage alerts of
`free` / `tokens` found: each labelled window found at WARNING+ and loudly, the false alarms, the
alerts on calendar events.

Dates move forward by 574 weeks (2014-07-01 -> 2025-07-01): same weekdays and the same US public
holidays day for day (checked at run time), inside the shipped calendar seed (2024-2028). The
tables print the original dates. Nothing is tuned: the project's default vars, run date the
morning after the last day.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import holidays
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from ltx_synth.generate import (  # noqa: E402  (the repo root is not on the path of a script)
    ENTERPRISE_DIR,
    ENTERPRISE_SCHEMA,
    GPU_DIR,
    GPU_SCHEMA,
    USAGE_DIR,
    USAGE_SCHEMA,
)

SERIES_KEY = "realKnownCause/nyc_taxi.csv"
FILES = {"nyc_taxi.csv": "data/realKnownCause/nyc_taxi.csv", "combined_windows.json": "labels/combined_windows.json"}
# NAB's description of the five windows, in date order
INCIDENTS = ("NYC marathon", "Thanksgiving", "Christmas", "New Year", "Snowstorm")
SLOTS_PER_DAY = 48
SHIFT = dt.timedelta(weeks=574)
RIDERS = 1000  # the day's passengers over this many Free users: each carries a thousandth of any change
SCOPE, METRIC = "free", "tokens"
WARNING_PLUS = ("warning", "critical")


@dataclass(frozen=True)
class DayTotal:
    day: dt.date
    total: int
    slots: int


@dataclass(frozen=True)
class Window:
    first: dt.date
    last: dt.date
    name: str

    def covers(self, day: dt.date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class AlertRow:
    day: dt.date  # original (unshifted) date
    severity: str
    is_postable: bool
    is_loud: bool
    rule: str = "usage_zscore"
    z_score: float | None = None
    pct_change: float | None = None
    hold_reason: str | None = None
    quiet_reason: str | None = None
    calendar_event: str | None = None

    @property
    def warning_plus(self) -> bool:
        return self.is_postable and self.severity in WARNING_PLUS


@dataclass(frozen=True)
class Verdict:
    window: Window
    found: bool
    found_loudly: bool


@dataclass(frozen=True)
class Outcome:
    verdicts: list[Verdict]
    false_alarms: list[AlertRow]
    loud_false_alarms: list[AlertRow]
    held: list[AlertRow]  # WARNING+ never posted (hold_reason), in or out of a window

    @property
    def found(self) -> int:
        return sum(v.found for v in self.verdicts)

    @property
    def found_loudly(self) -> int:
        return sum(v.found_loudly for v in self.verdicts)


def daily_totals(rows: Iterable[tuple[str, str]]) -> list[DayTotal]:
    """Sum (timestamp, value) rows by calendar day: one DayTotal per day, in date order."""
    totals: dict[dt.date, tuple[int, int]] = {}
    for stamp, value in rows:
        day = dt.datetime.fromisoformat(stamp).date()
        total, slots = totals.get(day, (0, 0))
        totals[day] = (total + int(value), slots + 1)
    return [DayTotal(day, total, slots) for day, (total, slots) in sorted(totals.items())]


def windows_from_labels(labels: dict[str, list[list[str]]], key: str = SERIES_KEY) -> list[Window]:
    """NAB's labelled windows of one series as whole days (first .. last day touched), in date order."""
    spans = sorted((dt.datetime.fromisoformat(a).date(), dt.datetime.fromisoformat(b).date()) for a, b in labels[key])
    names = INCIDENTS if len(spans) == len(INCIDENTS) else ("",) * len(spans)
    return [Window(first, last, name) for (first, last), name in zip(spans, names, strict=True)]


def match(alerts: Sequence[AlertRow], windows: Sequence[Window]) -> Outcome:
    """A window is found when a postable WARNING+ alert (and, separately, a loud one) falls on one
    of its days; every postable WARNING+ alert outside all windows is a false alarm."""
    verdicts = [
        Verdict(
            w,
            any(a.warning_plus and w.covers(a.day) for a in alerts),
            any(a.warning_plus and a.is_loud and w.covers(a.day) for a in alerts),
        )
        for w in windows
    ]
    false = [a for a in alerts if a.warning_plus and not any(w.covers(a.day) for w in windows)]
    held = [a for a in alerts if not a.is_postable and a.severity in WARNING_PLUS]
    return Outcome(verdicts, false, [a for a in false if a.is_loud], held)


def _find(nab_dir: Path, name: str) -> Path:
    for path in (nab_dir / name, nab_dir / FILES[name]):
        if path.is_file():
            return path
    raise SystemExit(f"error: {name} not found in {nab_dir} (nor {FILES[name]}); see the module docstring")


def read_inputs(nab_dir: Path) -> tuple[list[DayTotal], list[Window]]:
    with _find(nab_dir, "nyc_taxi.csv").open(newline="") as f:
        reader = csv.reader(f)
        if next(reader, None) != ["timestamp", "value"]:
            raise SystemExit("error: nyc_taxi.csv must start with the header timestamp,value")
        totals = daily_totals((row[0], row[1]) for row in reader)
    short = [t.day.isoformat() for t in totals if t.slots != SLOTS_PER_DAY]
    if short:
        raise SystemExit(f"error: days without {SLOTS_PER_DAY} half-hours: {', '.join(short)}")
    labels = json.loads(_find(nab_dir, "combined_windows.json").read_text())
    return totals, windows_from_labels(labels)


def check_calendar_shift(days: Sequence[dt.date]) -> None:
    """The shifted days have the original days' US public holidays (weekdays: SHIFT is whole weeks)."""
    years = sorted({d.year for d in days})
    before = holidays.country_holidays("US", years=years)
    after = holidays.country_holidays("US", years=sorted({(d + SHIFT).year for d in days}))
    moved = [d for d in days if before.get(d) != after.get(d + SHIFT)]
    if moved:
        raise SystemExit(f"error: the date shift changes the calendar of {moved[0]}")


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _gpu_day(day: dt.date) -> pa.Table:
    """A flat, tiny GPU day per vertical: 10 requests of $0.01 (each carrying a tenth of the idle and
    overhead), $0.02 idle, $0.005 overhead and $0.005 unused; below every cost threshold."""
    empty = dict.fromkeys(GPU_SCHEMA.names)
    rows: list[dict[str, object]] = []
    for vertical in ("api", "studio"):
        api = vertical == "api"
        common = {**empty, "dt": day, "vertical": vertical, "is_lt_team": False, "gpu_type": "H100"}
        request = {
            **common,
            "cost_category": "inference",
            "endpoint": "/v1/text-to-video" if api else None,
            "model_type": "ltxv-2b",
            "organization_name": "Self-serve" if api else None,
            "process_name": None if api else "video_generation",
            "workspace_id": None if api else "ws_0000",
            "result": "success",
            "row_cost": 0.01,
            "attributed_idle_cost": 0.002,
            "attributed_overhead_cost": 0.0005,
        }
        rows += [{**request, "request_id": f"{vertical}-{day:%Y%m%d}-{i}"} for i in range(10)]
        infra = {**common, "attributed_idle_cost": 0.0, "attributed_overhead_cost": 0.0}
        costs = (("idle", 0.02), ("overhead", 0.005), ("unused", 0.005))
        rows += [{**infra, "cost_category": category, "row_cost": cost} for category, cost in costs]
    return pa.Table.from_pylist(rows, schema=GPU_SCHEMA)


def write_raw(raw: Path, totals: Sequence[DayTotal]) -> None:
    """The §3.2 layout, rewritten from scratch: a file per shifted day of usage (the day's total as tokens,
    split evenly over RIDERS Free users, each far from the heavy line) and of GPU cost; one enterprise user who is
    never active."""
    shutil.rmtree(raw, ignore_errors=True)
    for t in totals:
        day = t.day + SHIFT
        share, rest = divmod(t.total, RIDERS)
        usage = {
            "dt": [day] * RIDERS,
            "lt_id": [f"taxi_{i:04d}" for i in range(RIDERS)],
            "griffin_tier_name": ["Free"] * RIDERS,
            "num_tokens_consumed": [share + (i < rest) for i in range(RIDERS)],
            "num_generate_image": [0] * RIDERS,
            "num_generate_video": [0] * RIDERS,
        }
        _write(pa.table(usage, schema=USAGE_SCHEMA), raw / USAGE_DIR / f"{day}.parquet")
        _write(_gpu_day(day), raw / GPU_DIR / f"{day}.parquet")
    enterprise = {
        "lt_id": ["ent_0"],
        "organization_id": ["org_idle"],
        "organization_name": ["Idle Org"],
        "team_name": [None],
        "contract_type": ["contract"],
    }
    _write(pa.table(enterprise, schema=ENTERPRISE_SCHEMA), raw / ENTERPRISE_DIR / "enterprise_users.parquet")


def run_dbt(work: Path, run_date: dt.date) -> float:
    """`dbt build --full-refresh` on DuckDB over work/raw into work/taxi.duckdb; seconds taken."""
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "DBT_PROFILES_DIR": str(REPO),
        "LTX_RAW_DIR": str(work / "raw"),
        "LTX_DUCKDB_PATH": str(work / "taxi.duckdb"),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }
    cmd = [str(REPO / ".venv" / "bin" / "dbt"), "build", "--full-refresh", "--target", "duckdb"]
    cmd += ["--vars", f"{{run_date: {run_date}}}", "--exclude", "test_type:unit"]
    started = time.monotonic()
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"error: dbt build failed ({res.returncode}):\n{res.stdout[-4000:]}{res.stderr[-2000:]}")
    return time.monotonic() - started


def read_alerts(db: Path) -> tuple[list[AlertRow], int]:
    """The usage alerts of the taxi series (original dates), and how many other usage alerts exist."""
    query = """
        select alert_date, severity, is_postable, is_loud, rule, z_score, pct_change, hold_reason,
               quiet_reason, calendar_event, scope = ? and metric = ? as is_taxi
        from main_marts.fct_alerts where domain = 'usage' order by alert_date, rule
    """
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(query, [SCOPE, METRIC]).fetchall()
    alerts = [AlertRow(r[0] - SHIFT, *r[1:10]) for r in rows if r[10]]
    return alerts, len(rows) - len(alerts)


def _num(value: float | None, fmt: str) -> str:
    return "–" if value is None else format(value, fmt)


def bar(found: int, false_alarms: int, need: int = 4, allowed: int = 1) -> str:
    """Issue 21's bar on NYC taxi: at least `need` windows found with at most `allowed` false alarms."""
    short, extra = max(0, need - found), max(0, false_alarms - allowed)
    return "met" if not short and not extra else f"missed: {short} window(s) short, {extra} false alarm(s) too many"


def summary_lines(outcome: Outcome, others: int) -> list[str]:
    n, false, loud_false = len(outcome.verdicts), len(outcome.false_alarms), len(outcome.loud_false_alarms)
    lines = [
        f"| result ({SCOPE} / {METRIC}) | value |",
        "|---|---|",
        f"| labelled windows found at WARNING+ | {outcome.found} / {n} |",
        f"| ... found loudly (`is_loud`) | {outcome.found_loudly} / {n} |",
        f"| false alarms at WARNING+ (postable, outside every window) | {false} |",
        f"| ... of them loud | {len(outcome.loud_false_alarms)} |",
        f"| WARNING+ held, never posted (`hold_reason`) | {len(outcome.held)} |",
        f"| usage alerts on the other series (DAU, no generations, other segments) | {others} |",
        f"| issue 21 bar (>= 4 of 5 found, <= 1 false alarm) at WARNING+ | {bar(outcome.found, false)} |",
        f"| ... the same bar for loud posts only | {bar(outcome.found_loudly, loud_false)} |",
        "",
        "| window | incident | WARNING+ | loud |",
        "|---|---|---|---|",
    ]
    for v in outcome.verdicts:
        found, loud = ("yes" if flag else "no" for flag in (v.found, v.found_loudly))
        lines.append(f"| {v.window.first} .. {v.window.last} | {v.window.name} | {found} | {loud} |")
    return lines


def alert_lines(alerts: Sequence[AlertRow], windows: Sequence[Window]) -> list[str]:
    lines = [
        "| day | weekday | rule | severity | z | change | postable | loud | calendar_event | window |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a in alerts:
        window = next((w.name or "yes" for w in windows if w.covers(a.day)), "")
        change = _num(None if a.pct_change is None else 100 * a.pct_change, "+.1f")
        postable = "yes" if a.is_postable else f"no: {a.hold_reason}"
        loud = "yes" if a.is_loud else f"no: {a.quiet_reason}"
        lines.append(
            f"| {a.day} | {a.day:%a} | {a.rule} | {a.severity} | {_num(a.z_score, '.2f')} | {change} % "
            f"| {postable} | {loud} | {a.calendar_event or ''} | {window} |"
        )
    return lines


def holiday_lines(alerts: Sequence[AlertRow]) -> list[str]:
    """Every alert on a US public holidays-library day: does it name the holiday, or is it quiet?"""
    us = holidays.country_holidays("US", years=sorted({a.day.year for a in alerts}))
    out = []
    for a in alerts:
        name = us.get(a.day)
        if name:
            named = bool(a.calendar_event and name in a.calendar_event)
            ok = "ok" if named or not a.is_loud else "VIOLATION"
            out.append(f"* {a.day} {name}: {a.severity}, loud {a.is_loud}, names it {named} -> {ok}")
    return out or ["* no alert on a US public holiday"]


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--nab-dir", type=Path, required=True, help="holds nyc_taxi.csv and combined_windows.json")
    scratch = "scratch directory; its raw/, taxi.duckdb, target/ and logs/ are rewritten"
    p.add_argument("--work-dir", type=Path, required=True, help=scratch)
    args = p.parse_args(argv)
    totals, windows = read_inputs(args.nab_dir)
    check_calendar_shift([t.day for t in totals])
    write_raw(args.work_dir / "raw", totals)
    seconds = run_dbt(args.work_dir, totals[-1].day + SHIFT + dt.timedelta(days=1))
    alerts, others = read_alerts(args.work_dir / "taxi.duckdb")
    print(f"{len(totals)} days ({totals[0].day} .. {totals[-1].day}), dbt build {seconds:.0f} s\n")
    print("\n".join(summary_lines(match(alerts, windows), others)))
    print("\nEvery usage alert of the series (NOTICE included):\n")
    print("\n".join(alert_lines(alerts, windows)))
    print("\nAlerts on US public holidays (a post on a holiday names it, or is not loud):")
    print("\n".join(holiday_lines(alerts)))


if __name__ == "__main__":
    main()
