"""The finalised day's GPU cost summary, read from the DuckDB marts (`make demo` prints it).

``python -m alerting.cost_summary [--date YYYY-MM-DD] [--finalisation-days 3]``

``--date`` is the data day of the run, as in the alerting CLI (default yesterday); the cost day
shown is the finalised one (run date - 3 by default). Amounts go through `alerting.values`, the
formatter of the Slack messages: both show the same cent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from dataclasses import dataclass, field, fields

import duckdb

from alerting import sanitize, values
from alerting.dates import finalised_cost_date
from alerting.model import Alert, alert_from_row, severity_rank

SCHEMA = "main_marts"
# (label, column, mart): the customers ranked by the inference cost of their own requests
CUSTOMER_BREAKDOWNS = (
    ("API endpoint", "endpoint", "fct_gpu_cost_api_by_endpoint_model"),
    ("API model", "model_type", "fct_gpu_cost_api_by_endpoint_model"),
    ("API organisation", "organization_name", "fct_gpu_cost_api_by_organization"),
    ("Studio process", "process_name", "fct_gpu_cost_studio_by_process"),
)
CUSTOMERS_HEADER = (
    "Largest customers (inference cost of their own requests, LT team excluded;"
    " idle / overhead / unused are infrastructure, never a customer's):"
)


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
class CostSummary:
    cost_date: dt.date
    totals: list[VerticalTotals] = field(default_factory=list)
    drivers: list[Driver] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def fetch_summary(con: duckdb.DuckDBPyConnection, day: dt.date, top_n: int = 3) -> CostSummary:
    columns = ", ".join(f.name for f in fields(VerticalTotals))  # constant names; the day is a parameter
    daily = f"select {columns} from {SCHEMA}.fct_gpu_cost_daily where dt = ? order by vertical"  # noqa: S608
    totals = [VerticalTotals(*row) for row in con.execute(daily, [day]).fetchall()]
    drivers: list[Driver] = []
    for label, column, table in CUSTOMER_BREAKDOWNS:
        # identifiers come from the constant list; the day is a parameter. Inference cost only:
        # the idle / overhead attributed to requests in proportion to their cost is
        # infrastructure, and would rank the busiest customer first for idle nobody sent.
        rows = con.execute(
            f"""select {column}, sum(inference_cost) as cost,
                       sum(inference_cost) / nullif(sum(sum(inference_cost)) over (), 0) as share
                from {SCHEMA}.{table} where dt = ?
                group by {column} order by cost desc, {column} limit ?""",  # noqa: S608
            [day, top_n],
        ).fetchall()
        drivers += [Driver(label, name, cost, share_) for name, cost, share_ in rows]
    cursor = con.execute(
        f"select * from {SCHEMA}.fct_alerts where domain = 'gpu_cost' and alert_date = ? and is_postable",  # noqa: S608
        [day],
    )
    names = [c[0] for c in cursor.description]
    return CostSummary(
        day, totals, drivers, [alert_from_row(dict(zip(names, r, strict=True))) for r in cursor.fetchall()]
    )


def _alert_lines(a: Alert, day: dt.date) -> list[str]:
    """'[CRITICAL] Studio – Infrastructure cost (team studio): $130.00 vs previous day $100.00, threshold …'."""
    threshold = values.threshold_text(a.threshold_kind, a.threshold, a.unit, a.direction)
    label = values.baseline_label(a.baseline_kind, None, day)
    head = (
        f"  [{a.severity.upper()}] {values.display_scope(a.scope)} – {values.display_metric(a.metric)}"
        f" (team {a.team}): {values.format_value(a.current_value, a.unit)} vs"
        f" {label[:1].lower()}{label[1:]} {values.format_value(a.baseline_mean, a.unit)}"
    )
    summary = [f"      {sanitize.clean(a.drivers_summary, sanitize.TEXT_CAP)}"] if a.drivers_summary else []
    return [head + (f", threshold {threshold}" if threshold else ""), *summary]


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
            f"  {values.display_scope(t.vertical):8}{values.money(t.infra_cost):>12}"
            f"{values.money(t.fully_loaded_inference_cost):>14}{values.money(t.customer_fully_loaded_cost):>12}"
            f"{values.money(t.idle_cost):>12}{values.money(t.unused_cost):>12}{t.requests:>10,}{t.failed_requests:>8,}"
            f"{values.money(t.cost_per_request):>10}"
        )
    lines.append(CUSTOMERS_HEADER)
    for d in s.drivers:
        share = "" if d.share is None else f" ({values.pct(d.share, 2)})"
        lines.append(f"  {d.breakdown:17} {sanitize.clean(d.name)}: {values.money(d.cost)}{share}")
    lines.append(f"Cost alerts: {len(s.alerts)}")
    for a in sorted(s.alerts, key=lambda a: (severity_rank(a.severity), a.scope, a.metric, a.baseline_kind or "")):
        lines += _alert_lines(a, s.cost_date)
    return "\n".join(lines)


def _total(totals: list[VerticalTotals]) -> VerticalTotals:
    """The sum of every amount and count (infra_cost ... failed_requests); cost per request over the sums."""
    sums = {f.name: sum(getattr(t, f.name) for t in totals) for f in fields(VerticalTotals)[1:-1]}
    requests = sums["requests"]
    per_request = sums["customer_fully_loaded_cost"] / requests if requests else None
    return VerticalTotals("Total", cost_per_request=per_request, **sums)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m alerting.cost_summary", description=__doc__.split("\n\n")[0])
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
