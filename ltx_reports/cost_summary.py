"""The finalised day's GPU cost summary, read from the DuckDB marts.

``python -m ltx_reports.cost_summary [--date YYYY-MM-DD] [--finalisation-days 3]``

``--date`` follows the alerting CLI: it is the data day of the run (default
yesterday); cost data needs ``cost_finalisation_days`` to settle, so the cost
day shown is ``date + 1 - finalisation_days`` (= run date - 3 by default).
Money is computed unrounded in the marts and rounded to 2 decimals here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import dataclass, field

import duckdb

from alerting.planning import finalised_cost_date

SCHEMA = "main_marts"
VERTICAL_LABELS = {"api": "API", "studio": "Studio"}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "notice": 2}


@dataclass
class VerticalTotals:
    vertical: str
    infra_cost: float
    fully_loaded_inference_cost: float
    customer_fully_loaded_cost: float
    idle_cost: float
    unused_cost: float
    requests: int
    failed_requests: int
    cost_per_request: float | None


@dataclass
class Driver:
    breakdown: str
    name: str
    cost: float
    share: float | None


@dataclass
class CostAlert:
    severity: str
    team: str
    scope: str
    metric: str
    unit: str
    rule: str
    current_value: float | None
    baseline_mean: float | None
    threshold: float | None
    drivers_summary: str | None


@dataclass
class CostSummary:
    cost_date: dt.date
    totals: list[VerticalTotals] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)
    alerts: list[CostAlert] = field(default_factory=list)


def fetch_summary(con: duckdb.DuckDBPyConnection, day: dt.date, top_n: int = 3) -> CostSummary:
    totals = [
        VerticalTotals(*row)
        for row in con.execute(
            f"""select vertical, infra_cost, fully_loaded_inference_cost, customer_fully_loaded_cost,
                       idle_cost, unused_cost, requests, failed_requests, cost_per_request
                from {SCHEMA}.fct_gpu_cost_daily where dt = ? order by vertical""",  # noqa: S608 - constant schema
            [day],
        ).fetchall()
    ]
    breakdowns = [
        ("API endpoint", "endpoint", "fct_gpu_cost_api_by_endpoint_model", "share_of_api_cost"),
        ("API model", "model_type", "fct_gpu_cost_api_by_endpoint_model", "share_of_api_cost"),
        ("API organisation", "organization_name", "fct_gpu_cost_api_by_organization", "share_of_api_cost"),
        ("Studio process", "process_name", "fct_gpu_cost_studio_by_process", "share_of_studio_cost"),
    ]
    drivers: list[Driver] = []
    for label, column, table, share in breakdowns:
        # identifiers come from the constant list above; the day is a parameter
        rows = con.execute(
            f"""select {column}, sum(fully_loaded_cost) as cost, sum({share}) as share
                from {SCHEMA}.{table} where dt = ?
                group by {column} order by cost desc, {column} limit ?""",  # noqa: S608
            [day, top_n],
        ).fetchall()
        drivers += [Driver(label, name, cost, share_) for name, cost, share_ in rows]
    alerts = [
        CostAlert(*row)
        for row in con.execute(
            # z rules carry their notice band as threshold; this summary prints only level thresholds
            f"""select severity, team, scope, metric, unit, rule, current_value, baseline_mean,
                       case when threshold_kind = 'z' then null else threshold end, drivers_summary
                from {SCHEMA}.fct_alerts
                where domain = 'gpu_cost' and alert_date = ? and not is_suppressed""",  # noqa: S608
            [day],
        ).fetchall()
    ]
    return CostSummary(day, totals, drivers, alerts)


def fmt_usd(x: float | None) -> str:
    return "n/a" if x is None else f"${x:,.2f}"


def fmt_value(x: float | None, unit: str) -> str:
    if x is None:
        return "n/a"
    if unit in ("usd", "usd_per_request"):
        return fmt_usd(x)
    if unit == "rate":
        return f"{100 * x:.2f}%"
    if unit == "ratio":
        return f"{x:.2f}:1"
    return f"{x:,.2f}"


def fmt_threshold(alert: CostAlert) -> str:
    if alert.threshold is None:
        return ""
    if alert.rule in ("cost_spike_vs_7d_avg", "day_over_day_jump"):
        return f", threshold +{100 * alert.threshold:.2f}%"
    return f", threshold {fmt_value(alert.threshold, alert.unit)}"


def format_summary(s: CostSummary) -> str:
    """Plain text, every amount rounded to 2 decimals."""
    lines = [f"GPU cost summary for {s.cost_date.isoformat()} (finalised cost day)"]
    if not s.totals:
        lines.append("  no cost data for this day")
        return "\n".join(lines)
    header = f"  {'':8}{'infra':>12}{'fully loaded':>14}{'customer':>12}{'idle':>12}{'unused':>12}"
    lines += [header + f"{'requests':>10}{'failed':>8}{'cost/req':>10}"]
    for t in [*s.totals, _total(s.totals)]:
        lines.append(
            f"  {VERTICAL_LABELS.get(t.vertical, t.vertical):8}{fmt_usd(t.infra_cost):>12}"
            f"{fmt_usd(t.fully_loaded_inference_cost):>14}{fmt_usd(t.customer_fully_loaded_cost):>12}"
            f"{fmt_usd(t.idle_cost):>12}{fmt_usd(t.unused_cost):>12}{t.requests:>10,}{t.failed_requests:>8,}"
            f"{fmt_usd(t.cost_per_request):>10}"
        )
    lines.append("Top drivers (customer fully loaded cost, LT team excluded):")
    for d in s.drivers:
        share = "" if d.share is None else f" ({100 * d.share:.2f}%)"
        lines.append(f"  {d.breakdown:17} {d.name}: {fmt_usd(d.cost)}{share}")
    lines.append(f"Cost alerts: {len(s.alerts)}")
    for a in sorted(s.alerts, key=lambda a: (SEVERITY_ORDER.get(a.severity, 9), a.scope, a.metric, a.rule)):
        lines.append(
            f"  [{a.severity.upper()}] {VERTICAL_LABELS.get(a.scope, a.scope)} {a.metric} ({a.rule}, team {a.team}): "
            f"{fmt_value(a.current_value, a.unit)} vs {fmt_value(a.baseline_mean, a.unit)}{fmt_threshold(a)}"
        )
        if a.drivers_summary:
            lines.append(f"      {a.drivers_summary}")
    return "\n".join(lines)


def _total(totals: list[VerticalTotals]) -> VerticalTotals:
    requests = sum(t.requests for t in totals)
    customer = sum(t.customer_fully_loaded_cost for t in totals)
    return VerticalTotals(
        "Total",
        sum(t.infra_cost for t in totals),
        sum(t.fully_loaded_inference_cost for t in totals),
        customer,
        sum(t.idle_cost for t in totals),
        sum(t.unused_cost for t in totals),
        requests,
        sum(t.failed_requests for t in totals),
        customer / requests if requests else None,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ltx_reports.cost_summary", description=__doc__.split("\n\n")[0])
    p.add_argument("--date", type=dt.date.fromisoformat, default=None, help="run data day (default: yesterday)")
    p.add_argument("--finalisation-days", type=int, default=3)
    p.add_argument("--duckdb", default=os.environ.get("LTX_DUCKDB_PATH", "data/ltx_monitoring.duckdb"))
    a = p.parse_args(argv)
    run_day = a.date or (dt.date.today() - dt.timedelta(days=1))
    day = finalised_cost_date(run_day, a.finalisation_days)
    with duckdb.connect(a.duckdb, read_only=True) as con:
        print(format_summary(fetch_summary(con, day)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
