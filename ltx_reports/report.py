"""`python -m alerting report`: the day's HTML report, one self-contained file (templates/index.html.j2). Marts
are read with names as constants and values as parameters (a mart not built reads None). Every value the template
prints is made one inert line first (`sanitize.collapse`: control, zero-width and bidi characters become spaces),
then escaped; the only markup inserted as is is the charts' SVG (`safe_svg`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from alerting import values
from alerting.causes import Rows, attach_causes, read
from alerting.charts import incident_charts, series_title
from alerting.compose import concentration_line, explanation, why_loud, why_quiet
from alerting.message import plain
from alerting.model import Alert, as_date, group_incidents, severity_rank
from alerting.sanitize import collapse
from alerting.warehouse import ALERTS_TABLE, Backend, between, on_cost_day, read_alert_history
from ltx_reports import charts
from ltx_reports.backtest import ACTIONS, Feedback, hold_reason, incident_feedback, run_backtest

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parent / "templates"
HISTORY_DAYS, FEEDBACK_WEEKS, HEALTH_WINDOW = 90, 8, dt.timedelta(days=13)  # health: the day and 13 before
TREND = ("dt", "vertical", "cost_category", "cost")
HEALTH = ("dt", "source", "status", "row_count", "judged_rows", "expected_rows", "completeness", "status_reason")
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
FEEDBACK_COUNTS = ("loud_incidents", "acknowledged", "snoozed", "expected", "false_alarms", "no_answer")


def read_week_drivers(backend: Backend, end: dt.date, top: int = 5) -> Rows:
    """The week's (end - 6 .. end) top `top` cost contributors per vertical: the sum of their daily change
    against the 7-day average (fct_gpu_cost_decomposition's contributor rows)."""
    if "contributor" not in backend.columns("marts", "fct_gpu_cost_decomposition"):
        return []
    where, params = between(backend, "dt", end - dt.timedelta(days=6), end)
    sql = (
        "select vertical, contributor_type, contributor, sum(delta_usd) as delta_usd"  # noqa: S608 - a constant name
        f" from {backend.table('marts', 'fct_gpu_cost_decomposition')} where {where}"
        f" and contributor_type <> {backend.param('total')}"
        " and contributor is not null group by vertical, contributor_type, contributor"
    )
    rows = backend.query(sql, {**params, "total": "total"})
    rows.sort(key=lambda r: (r["vertical"], -abs(r["delta_usd"] or 0), r["contributor_type"], r["contributor"]))
    return [r for _, ranked in groupby(rows, key=lambda r: r["vertical"]) for r in list(ranked)[:top]]


def read_feedback(backend: Backend, start: dt.date, end: dt.date) -> Rows | None:
    """fct_alert_feedback_weekly over the weeks start .. end (None without the mart), summed per team and rule (the
    template says the precision from people). Not summed over rules: an incident of two rules is in both rows."""
    if not set(FEEDBACK_COUNTS) <= set(backend.columns("marts", "fct_alert_feedback_weekly")):
        return None
    where, params = between(backend, "alert_week", start, end)
    sums = ", ".join(f"coalesce(sum({c}), 0) as {c}" for c in FEEDBACK_COUNTS)
    table = backend.table("marts", "fct_alert_feedback_weekly")
    rows = backend.query(f"select team, rule, {sums} from {table} where {where} group by team, rule", params)  # noqa: S608
    rows.sort(key=lambda r: (r["team"], r["rule"]))
    return rows


def latest_day(backend: Backend) -> dt.date | None:
    """The newest scored usage day (fct_usage_anomaly_scores), else the newest alert day."""
    for table, column in (("fct_usage_anomaly_scores", "dt"), (ALERTS_TABLE, "alert_date")):
        if column in backend.columns("marts", table):
            [row] = backend.query(f"select max({column}) as day from {backend.table('marts', table)}")  # noqa: S608
            if row.get("day") is not None:
                return as_date(row["day"])
    return None


def _incident_svgs(backend: Backend, alerts: Sequence[Alert]) -> dict[str, Markup]:
    try:
        return {k: Markup(charts.render_svg(spec)) for k, (_, spec) in incident_charts(backend, alerts).items()}  # noqa: S704 - checked by safe_svg
    except Exception as exc:  # a chart must never stop the report: it still lists the incidents
        log.error("charts failed: %s: %s", type(exc).__name__, exc)
    return {}


def history(alerts: Sequence[Alert]) -> dict[str, Any]:
    """Per (day, series) the most severe alert, held when every alert of it is; counts per severity and hold."""
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for a in sorted(alerts, key=lambda a: severity_rank(a.severity)):
        key = (a.alert_date.isoformat(), series_title(a))
        cell = cells.setdefault(key, {"dt": key[0], "series": key[1], "severity": a.severity, "status": "held"})
        cell["status"] = "posted" if a.is_postable else cell["status"]
    by = Counter((a.severity, a.is_postable) for a in alerts)
    severities = sorted({s for s, _ in by}, key=lambda s: (severity_rank(s), s))
    return {
        "cells": [cells[k] for k in sorted(cells)],
        "summary": [(s, by[(s, True)], by[(s, False)]) for s in severities],
    }


def _svg(what: str, spec: Callable[..., dict[str, Any]], *args: Any) -> Markup | None:
    try:
        return Markup(charts.render_svg(spec(*args)))  # noqa: S704 - checked by safe_svg (no script, handler or external reference)
    except Exception as exc:  # a chart must never stop the report
        log.error("chart %s failed: %s: %s", what, type(exc).__name__, exc)
    return None


def _concentration(a: Alert) -> str:
    """The message's 'Users: …' line as plain text, where the drill-down replaces the tier drivers."""
    c = a.concentration
    return plain(concentration_line(c, a.unit)).removeprefix("Users: ") if c and c.uses_drilldown else ""


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda v: collapse(v) if isinstance(v, str) and not isinstance(v, Markup) else v,
    )
    env.filters.update(
        value=values.format_value, delta=values.format_delta, z=values.format_z, change=values.format_change,
        share=values.format_share, sigma=values.sigma_label, series=series_title, hold_reason=hold_reason,
        concentration=_concentration, money=lambda v: values.format_value(v, "usd"),
        why_quiet=lambda a: plain(why_quiet(a)[0]), why_loud=why_loud, plural=values.plural,
        cause=lambda i: next((c for c in map(plain, explanation(i)) if c.startswith("Cause: ")), None),
    )  # fmt: skip
    env.globals.update(baseline_label=values.baseline_label, zip=zip)
    env.tests.update(finite=values.finite, held=lambda i: not any(a.is_postable for a in i.alerts),
                     loud=lambda i: any(a.is_loud for a in i.alerts))  # fmt: skip
    return env


def build_report(
    backend: Backend, day: dt.date, cost_day: dt.date, generated_at: dt.datetime | None = None, draw: bool = True
) -> str:
    start, cost_start = (d - dt.timedelta(days=HISTORY_DAYS - 1) for d in (day, cost_day))
    sunday = day + dt.timedelta(days=6 - day.weekday())  # the feedback mart's weeks end on it
    alerts = read_alert_history(backend, start, sunday)
    todays = [a for a in alerts if a.alert_date == (cost_day if on_cost_day(a.domain, a.scope) else day)]
    todays = attach_causes(backend, todays)  # drivers, decomposition, concentration
    past = [a for a in alerts if a.alert_date <= day]
    hist = history(past)
    trend = read(backend, "fct_gpu_cost_utilisation", *between(backend, "dt", cost_start, cost_day), TREND) or []
    health = read(backend, "fct_data_health", *between(backend, "dt", day - HEALTH_WINDOW, day), HEALTH)
    monday = day - dt.timedelta(days=day.weekday() + 7 * (FEEDBACK_WEEKS - 1))
    context = {
        "csp": Markup(CSP),  # noqa: S704 - a constant of this module, not data
        "day": day,
        "cost_day": cost_day,
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        "incidents": {"all": group_incidents(todays), "svg": _incident_svgs(backend, todays) if draw else {}},
        "history_start": start,
        "history": hist,
        "history_svg": draw and hist["cells"] and _svg("history", charts.history_spec, hist["cells"], start, day),
        "trend_svg": draw and trend and _svg("cost trend", charts.cost_trend_spec, trend, cost_start, cost_day),
        "trend": trend,
        "week_drivers": read_week_drivers(backend, cost_day),
        "week_start": cost_day - dt.timedelta(days=6),
        "health": health and sorted(health, key=lambda r: (-r["dt"].toordinal(), r["source"])),
        "feedback": read_feedback(backend, monday, day),
        "feedback_total": Feedback(tuple(incident_feedback(a for a in alerts if a.alert_date >= monday).values())),
        "feedback_weeks": (monday, sunday),
        "feedback_actions": tuple(ACTIONS),  # the table's columns, in the mart's order
        "backtest": run_backtest(past),
    }
    return _environment().get_template("index.html.j2").render(**context)
