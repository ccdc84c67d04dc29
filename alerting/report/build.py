"""The day's HTML report (one self-contained file: templates/index.html.j2) and the per-incident charts for Slack.

Every value the template prints is made one inert line first (`sanitize.collapse`: control, zero-width and
bidi characters become spaces), then escaped; the only markup inserted as is is the charts' SVG (`safe_svg`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from alerting import values
from alerting.backtest import hold_reason, read_window, run_backtest
from alerting.causes import attach_causes
from alerting.charts import Chart, SeriesPoint, cost_trend_spec, history_spec, render_chart, render_svg, series_title
from alerting.compose import concentration_line
from alerting.message import plain
from alerting.model import Alert, attach_drivers, group_incidents, severity_rank
from alerting.report import data
from alerting.sanitize import collapse
from alerting.warehouse import Backend

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
HISTORY_DAYS, HEALTH_DAYS, FEEDBACK_WEEKS = 90, 14, 8
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def incident_charts(backend: Backend, alerts: Iterable[Alert], png: bool = True, svg: bool = False) -> dict[str, Chart]:
    """Per incident, its headline alert's chart (without the chart mart: the day against its own bands)."""
    leads = [i.primary for i in group_incidents(alerts) if i.domain in ("usage", "gpu_cost")]
    series = data.read_series(backend, [a.alert_id for a in leads])
    out: dict[str, Chart] = {}
    for a in leads:
        points = series.get(a.alert_id, [])
        if not points and values.finite(a.current_value) and values.finite(a.baseline_mean):
            points = [SeriesPoint(a.alert_date, a.current_value, False, True)]
        if points:
            out[a.incident_id] = render_chart(a, points, png=png, svg=svg)
    return out


def chart_for(backend: Backend) -> Callable[[Any], tuple[str, bytes] | None]:
    """The runner's hook: an incident (its `.primary` alert) -> (file name, PNG bytes) of its chart, or None."""
    return lambda i: next(((c.filename, c.png) for c in incident_charts(backend, [i.primary]).values()), None)


def incidents_of_the_day(backend: Backend, alerts: Sequence[Alert], charts: bool) -> dict[str, Any]:
    """The day's incidents, most severe first, with their causes (drivers, decomposition, concentration), and
    their charts' SVG by incident."""
    usage = [a.alert_id for a in alerts if a.domain == "usage"]
    alerts = attach_drivers(attach_causes(backend, alerts), data.read_usage_drivers(backend, usage))
    rendered: dict[str, Chart] = {}
    if charts:
        try:
            rendered = incident_charts(backend, alerts, png=False, svg=True)
        except Exception as exc:  # a chart must never stop the report: it still lists the incidents
            log.error("charts failed: %s: %s", type(exc).__name__, exc)
    svg = {k: Markup(c.svg) for k, c in rendered.items()}  # noqa: S704 - checked by safe_svg
    return {"all": group_incidents(alerts), "svg": svg}


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


def _svg(spec: Callable[[], dict[str, Any]], what: str) -> Markup | None:
    try:
        return Markup(render_svg(spec()))  # noqa: S704 - checked by safe_svg (no script, handler or external reference)
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
    )  # fmt: skip
    env.globals.update(baseline_label=values.baseline_label, zip=zip)
    env.tests.update(finite=values.finite, held=lambda i: not any(a.is_postable for a in i.alerts))
    return env


def build_report(
    backend: Backend, day: dt.date, cost_day: dt.date, generated_at: dt.datetime | None = None, charts: bool = True
) -> str:
    """The report's HTML for usage day `day` and the finalised cost day `cost_day`."""
    start, cost_start = (d - dt.timedelta(days=HISTORY_DAYS - 1) for d in (day, cost_day))
    alerts = read_window(backend, start, max(day, cost_day))
    todays = [a for a in alerts if a.alert_date == (cost_day if a.domain == "gpu_cost" else day)]
    past = [a for a in alerts if a.alert_date <= day]
    hist = history(past)
    trend = data.read_cost_trend(backend, cost_start, cost_day)
    monday = day - dt.timedelta(days=day.weekday() + 7 * (FEEDBACK_WEEKS - 1))
    context = {
        "csp": Markup(CSP),  # noqa: S704 - a constant of this module, not data
        "day": day,
        "cost_day": cost_day,
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        "incidents": incidents_of_the_day(backend, todays, charts),
        "history_start": start,
        "history": hist,
        "history_svg": charts and hist["cells"] and _svg(lambda: history_spec(hist["cells"], start, day), "history"),
        "trend_svg": charts and trend and _svg(lambda: cost_trend_spec(trend, cost_start, cost_day), "cost trend"),
        "trend": trend,
        "week_drivers": data.read_week_drivers(backend, cost_day),
        "week_start": cost_day - dt.timedelta(days=6),
        "health": data.read_data_health(backend, day - dt.timedelta(days=HEALTH_DAYS - 1), day),
        "feedback": data.read_feedback(backend, monday, day),
        "feedback_start": monday,
        "backtest": run_backtest(past),
    }
    return _environment().get_template("index.html.j2").render(**context)
