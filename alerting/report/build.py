"""Build the day's HTML report (one self-contained file) and the per-incident charts for Slack.

`build_report` reads the marts (alerting.report.data), groups the day's alerts into
incidents, draws one chart per incident (alerting.charts) and renders
templates/index.html.j2 with Jinja2 autoescaping: every data string is escaped; the only
markup inserted unescaped is the charts' SVG, after `safe_svg` checked it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from alerting.causes import read_concentration
from alerting.charts import (
    Chart,
    ChartInput,
    Component,
    SeriesPoint,
    UnsafeSvgError,
    cost_trend_spec,
    display_metric,
    display_scope,
    format_change,
    format_delta,
    format_value,
    format_z,
    history_spec,
    render_chart,
    render_svg,
)
from alerting.compose import concentration_line
from alerting.message import plain
from alerting.model import Concentration, as_date
from alerting.report import data
from alerting.values import sigma_label
from alerting.warehouse import Backend

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
SEVERITIES = ("critical", "warning", "notice")
HISTORY_DAYS = 90
HEALTH_DAYS = 14
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _get(alert: Any, name: str, default: Any = None) -> Any:
    """A field of an alert given as a mart row (dict) or as an object (alerting.model.Alert)."""
    if isinstance(alert, Mapping):
        return alert.get(name, default)
    return getattr(alert, name, default)


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and math.isfinite(x)


def severity_rank(severity: str | None) -> int:
    key = (severity or "").lower()
    return SEVERITIES.index(key) if key in SEVERITIES else len(SEVERITIES)


def incident_key(alert: Any) -> str:
    return str(_get(alert, "incident_id") or _get(alert, "alert_id"))


def primary_of(members: Sequence[Any]) -> Any:
    """The headline alert: the mart's is_incident_primary, else highest severity, then largest |z|."""
    flagged = [a for a in members if _get(a, "is_incident_primary")]
    if flagged:
        return flagged[0]
    return sorted(
        members,
        key=lambda a: (
            severity_rank(_get(a, "severity")),
            -abs(_get(a, "z_score")) if _finite(_get(a, "z_score")) else 0.0,
            str(_get(a, "alert_id")),
        ),
    )[0]


def group_incidents(alerts: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for a in alerts:
        out.setdefault(incident_key(a), []).append(a)
    return out


def chart_input(
    alert: Any, points: Sequence[SeriesPoint], components: Sequence[Component] = (), basis: str = ""
) -> ChartInput:
    return ChartInput(
        alert_id=str(_get(alert, "alert_id")),
        incident_id=_get(alert, "incident_id"),
        domain=str(_get(alert, "domain")),
        scope=str(_get(alert, "scope") or ""),
        metric=str(_get(alert, "metric") or ""),
        unit=_get(alert, "unit"),
        alert_date=as_date(_get(alert, "alert_date")),
        current_value=_get(alert, "current_value"),
        baseline_mean=_get(alert, "baseline_mean"),
        baseline_stddev=_get(alert, "baseline_stddev"),
        baseline_stddev_kind=_get(alert, "baseline_stddev_kind"),
        z_score=_get(alert, "z_score"),
        severity=str(_get(alert, "severity") or ""),
        points=tuple(points),
        components=tuple(components),
        components_basis=basis,
        threshold=_get(alert, "threshold"),
        threshold_kind=_get(alert, "threshold_kind"),
    )


def incident_charts(backend: Backend, alerts: Iterable[Any], png: bool = True, svg: bool = False) -> dict[str, Chart]:
    """One chart per incident of `alerts` (its primary alert's series), keyed by incident_id (or alert_id).

    For the Slack runner: `chart.png` is the file to upload, `chart.filename` its name. Incidents
    whose primary alert has no series (data-health alerts, a build without
    fct_alert_chart_series) get no chart.
    """
    primaries = [primary_of(members) for members in group_incidents(alerts).values()]
    with_series = [a for a in primaries if _get(a, "domain") in ("usage", "gpu_cost")]
    series = data.read_series(backend, [str(_get(a, "alert_id")) for a in with_series])
    rows = [
        {"alert_id": _get(a, "alert_id"), "domain": _get(a, "domain"), "alert_date": _get(a, "alert_date"),
         "scope": _get(a, "scope")}
        for a in with_series
    ]  # fmt: skip
    components, basis = data.read_components(backend, rows)
    out: dict[str, Chart] = {}
    for a in with_series:
        points = series.get(str(_get(a, "alert_id")), [])
        if not points:  # a build without the chart mart: the day against the alert's own baseline
            value, mean = _get(a, "current_value"), _get(a, "baseline_mean")
            if not (_finite(value) and _finite(mean)):
                continue
            points = [SeriesPoint(as_date(_get(a, "alert_date")), float(value), False, True)]
        ci = chart_input(a, points, components.get(str(_get(a, "alert_id")), []), basis)
        out[incident_key(a)] = render_chart(ci, png=png, svg=svg)
    return out


def chart_for(backend: Backend) -> Callable[[Any], tuple[str, bytes] | None]:
    """The runner's `chart_for` hook: an incident (with `.members` and/or `.primary`) -> (filename, PNG bytes).

    The chart is the one of the incident's primary alert (the mart's is_incident_primary when the
    members carry it); None when there is nothing to draw (no series, e.g. data health).
    """

    def render(incident: Any) -> tuple[str, bytes] | None:
        members = list(getattr(incident, "members", None) or [])
        primary = primary_of(members) if members else getattr(incident, "primary", None)
        if primary is None:
            return None
        chart = next(iter(incident_charts(backend, [primary], png=True, svg=False).values()), None)
        return (chart.filename, chart.png) if chart is not None and chart.png else None

    return render


# --- view models (pre-formatted strings; the template escapes them) ----------------------------


@dataclass
class IncidentView:
    key: str
    domain: str
    title: str
    severity: str
    direction: str
    day: dt.date
    headline: list[tuple[str, str]]
    members: list[dict[str, str]]
    drivers: list[dict[str, str]]
    caveats: list[str]
    action: str
    held: bool
    hold_reasons: list[str]
    chart_svg: Markup | None = None
    chart_note: str = ""
    drivers_summary: str = ""
    concentration: str = ""  # the usage concentration drill-down, said instead of the tier drivers


def _title(a: Any) -> str:
    return f"{display_scope(_get(a, 'scope'))} – {display_metric(_get(a, 'metric'))}"


def _baseline_label(a: Any) -> str:
    kind = _get(a, "baseline_kind")
    n = _get(a, "baseline_points")
    labels = {
        "same_weekday": f"mean of the last {n} same weekdays" if n else "same-weekday mean",
        "rolling": f"rolling mean ({n} days)" if n else "rolling mean",
        "trailing_7d": "7-day average",
        "trailing_7d_full": "7-day average",
        "previous_day": "previous day",
        "previous_week": "same weekday last week",
        "same_weekday_transition": "typical change for this weekday",
        "expected_volume": "expected volume",
    }
    if kind in labels:
        return labels[kind]
    return "same-weekday mean (μ)" if _get(a, "domain") == "usage" else "baseline mean"


def _headline(a: Any) -> list[tuple[str, str]]:
    unit = _get(a, "unit")
    out = [("Current", format_value(_get(a, "current_value"), unit))]
    out.append((_baseline_label(a).capitalize(), format_value(_get(a, "baseline_mean"), unit)))
    if _finite(_get(a, "baseline_stddev")):
        out.append((sigma_label(_get(a, "baseline_stddev_kind")), format_value(_get(a, "baseline_stddev"), unit)))
    if _finite(_get(a, "z_score")):
        out.append(("z", format_z(_get(a, "z_score"))))
    if _finite(_get(a, "robust_z_score")):
        out.append(("Robust z", format_z(_get(a, "robust_z_score"))))
    if _finite(_get(a, "pct_change")):
        out.append(("Change", format_change(_get(a, "pct_change"))))
    if _get(a, "baseline_points") is not None:
        out.append(("Baseline points", str(_get(a, "baseline_points"))))
    return out


def caveats(a: Any) -> list[str]:
    """The alert's validity caveats in words."""
    out = []
    n = _get(a, "baseline_points")
    if _get(a, "has_insufficient_baseline"):
        out.append(f"Baseline has only {n} point(s): fewer than the 10 the playbook asks for.")
    if _get(a, "is_low_variance"):
        out.append("σ is tiny relative to the mean: the z-score is inflated.")
    if _get(a, "has_baseline_outlier"):
        when = _get(a, "baseline_outlier_date")
        robust = _get(a, "robust_z_score")
        text = "The baseline holds an outlier" + (f" on {when}" if when else "")
        if _finite(robust):
            text += f"; the robust score is {format_z(robust)}"
        out.append(text + ".")
    return out


def _member_line(a: Any) -> dict[str, str]:
    unit = _get(a, "unit")
    parts = [format_value(_get(a, "current_value"), unit), f"vs {format_value(_get(a, 'baseline_mean'), unit)}"]
    if _finite(_get(a, "z_score")):
        parts.append(f"z {format_z(_get(a, 'z_score'))}")
    if _finite(_get(a, "pct_change")):
        parts.append(format_change(_get(a, "pct_change")))
    return {
        "title": _title(a),
        "rule": str(_get(a, "rule") or ""),
        "severity": str(_get(a, "severity") or ""),
        "text": " · ".join(parts),
        "held": data.hold_reason(a) or "",
    }


def _driver_rows(rows: Sequence[Mapping[str, Any]], unit: str | None) -> list[dict[str, str]]:
    out = []
    for r in sorted(rows, key=lambda r: (str(r.get("contributor_type") or ""), r.get("contributor_rank") or 0)):
        share = r.get("share_of_delta")
        u = r.get("unit") or unit
        out.append(
            {
                "type": str(r.get("contributor_type") or ""),
                "name": str(r.get("contributor") or ""),
                "value": format_value(r.get("value"), u),
                "baseline": format_value(r.get("baseline"), u),
                "delta": format_delta(r.get("delta"), u),
                "share": f"{share * 100 + 0.0:.0f} %".replace("-0 %", "0 %") if _finite(share) else "n/a",
            }
        )
    return out


def _svg_or_none(render: Callable[[], str], what: str) -> Markup | None:
    try:
        return Markup(render())  # noqa: S704 - checked by safe_svg (no script, handler or external reference)
    except UnsafeSvgError as exc:
        log.error("chart %s not inlined: %s", what, exc)
    except Exception as exc:  # a chart must never stop the report
        log.error("chart %s failed: %s: %s", what, type(exc).__name__, exc)
    return None


def _concentration_text(c: Concentration | None, unit: str | None) -> str:
    """The message's 'Users: …' line as plain text (data already cleaned; Jinja escapes it) when it applies."""
    if c is None or not c.uses_drilldown:
        return ""
    return plain(concentration_line(c, unit)).removeprefix("Users: ")


def incident_views(
    backend: Backend, alerts: Sequence[Mapping[str, Any]], charts: bool = True
) -> tuple[list[IncidentView], list[IncidentView]]:
    """(posted incidents, held incidents) of the given alerts, most severe first."""
    groups = group_incidents(alerts)
    primaries = {k: primary_of(m) for k, m in groups.items()}
    drivers = data.read_drivers(backend, [str(p["alert_id"]) for p in primaries.values()])
    usage_ids = [str(p["alert_id"]) for p in primaries.values() if p.get("domain") == "usage"]
    concentrations = read_concentration(backend, usage_ids)
    rendered: dict[str, Chart] = {}
    if charts:
        try:
            rendered = incident_charts(backend, [a for m in groups.values() for a in m], png=False, svg=True)
        except Exception as exc:  # the report still lists the incidents
            log.error("charts failed: %s: %s", type(exc).__name__, exc)
    posted, held = [], []
    for key, members in groups.items():
        p = primaries[key]
        others = sorted(
            (m for m in members if m is not p), key=lambda m: (severity_rank(m.get("severity")), str(m["alert_id"]))
        )
        members_sorted = [p, *others]
        is_held = all(data.held(m) for m in members)
        chart = rendered.get(key)
        view = IncidentView(
            key=key,
            domain=str(p["domain"]),
            title=_title(p),
            severity=str(min((m.get("severity") or "" for m in members), key=severity_rank)),
            direction=str(p.get("direction") or ""),
            day=p["alert_date"],
            headline=_headline(p),
            members=[_member_line(m) for m in members_sorted] if len(members) > 1 else [],
            drivers=_driver_rows(drivers.get(str(p["alert_id"]), []), p.get("unit")),
            caveats=caveats(p),
            action=str(p.get("recommended_action") or ""),
            held=is_held,
            hold_reasons=sorted({data.hold_reason(m) or "" for m in members if data.held(m)} - {""}),
            chart_svg=Markup(chart.svg) if chart and chart.svg else None,  # noqa: S704 - safe_svg checked it
            chart_note="" if chart else "no chart: nothing to draw for this alert",
            drivers_summary=str(p.get("drivers_summary") or ""),
            concentration=_concentration_text(concentrations.get(str(p["alert_id"])), p.get("unit")),
        )
        (held if is_held else posted).append(view)
    order = lambda v: (severity_rank(v.severity), v.domain, v.title)  # noqa: E731
    return sorted(posted, key=order), sorted(held, key=order)


def history_rows(alerts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One cell per (day, series): the most severe alert; held only when every alert of the cell is."""
    cells: dict[tuple[dt.date, str], dict[str, Any]] = {}
    for a in alerts:
        key = (a["alert_date"], _title(a))
        cell = cells.setdefault(key, {"dt": key[0], "series": key[1], "severity": a["severity"], "held": True})
        if severity_rank(a["severity"]) < severity_rank(cell["severity"]):
            cell["severity"] = a["severity"]
        cell["held"] = cell["held"] and data.held(a)
    return [cells[k] for k in sorted(cells)]


def history_summary(alerts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = {}
    for a in alerts:
        row = counts.setdefault(str(a["severity"]), {"posted": 0, "held": 0})
        row["held" if data.held(a) else "posted"] += 1
    return [{"severity": s, **counts[s]} for s in sorted(counts, key=lambda s: (severity_rank(s), s))]


def hold_counts(alerts: Iterable[Mapping[str, Any]]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for a in alerts:
        reason = data.hold_reason(a)
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass
class BacktestView:
    source: str
    columns: list[str]
    rows: list[list[str]]
    totals: list[str] = field(default_factory=list)
    held: list[tuple[str, int]] = field(default_factory=list)
    label_columns: int = 1  # leading text columns; the rest are counts (right-aligned)


def backtest_view(backend: Backend, alerts: Sequence[Mapping[str, Any]], start: dt.date, end: dt.date) -> BacktestView:
    """alerting.backtest's table when that module is there; else posted/held counts per ISO week."""
    try:
        from alerting import backtest  # H3's module: run_backtest(read_window(...))

        result = backtest.run_backtest(backtest.read_window(backend, start, end))
        return BacktestView(
            source="alerting.backtest: alerts/incidents each posting policy would have posted",
            columns=["week", "severity", *result.policies],
            rows=[[w, s, *(str(c) for c in cells)] for w, s, cells in result.rows],
            totals=["total", "", *(str(c) for c in result.totals)],
            held=list(result.held.items()),
            label_columns=2,
        )
    except (ImportError, AttributeError) as exc:
        log.debug("no alerting.backtest (%s): the report counts alerts per week itself", exc)
    except Exception as exc:
        log.warning(
            "alerting.backtest failed (%s: %s): the report counts alerts per week itself", type(exc).__name__, exc
        )
    weeks: dict[str, dict[str, list[int]]] = {}
    for a in alerts:
        year, week, _ = a["alert_date"].isocalendar()
        cell = weeks.setdefault(f"{year}-W{week:02d}", {}).setdefault(str(a["severity"]), [0, 0])
        cell[1 if data.held(a) else 0] += 1
    severities = sorted({s for w in weeks.values() for s in w}, key=lambda s: (severity_rank(s), s))

    def cell(counts: Mapping[str, list[int]], severity: str) -> str:
        posted, n_held = counts.get(severity, [0, 0])
        return f"{posted} ({n_held} held)" if n_held else str(posted)

    totals: dict[str, list[int]] = {}
    for w in weeks.values():
        for s, (posted, n_held) in w.items():
            t = totals.setdefault(s, [0, 0])
            t[0], t[1] = t[0] + posted, t[1] + n_held
    return BacktestView(
        source="alerts the current policy posted per ISO week and severity (held ones in brackets)",
        columns=["week", *severities],
        rows=[[w, *(cell(weeks[w], s) for s in severities)] for w in sorted(weeks)],
        totals=["total", *(cell(totals, s) for s in severities)],
        held=hold_counts(alerts),
    )


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html", "j2", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = lambda v: format_value(v, "usd")
    env.filters["delta_usd"] = lambda v: format_delta(v, "usd")
    return env


def build_report(
    backend: Backend,
    day: dt.date,
    cost_day: dt.date,
    generated_at: dt.datetime | None = None,
    charts: bool = True,
) -> str:
    """The report's HTML for usage day `day` and the finalised cost day `cost_day`."""
    start = day - dt.timedelta(days=HISTORY_DAYS - 1)
    history = data.read_alerts(backend, start, max(day, cost_day))
    todays = [
        a
        for a in history
        if (a["domain"] == "gpu_cost" and a["alert_date"] == cost_day)
        or (a["domain"] != "gpu_cost" and a["alert_date"] == day)
    ]
    posted, held = incident_views(backend, todays, charts=charts)

    cells = history_rows(a for a in history if a["alert_date"] <= day)
    history_svg = (
        _svg_or_none(lambda: render_svg(history_spec(cells, start, day)), "history") if charts and cells else None
    )
    trend = data.read_cost_trend(backend, cost_day - dt.timedelta(days=HISTORY_DAYS - 1), cost_day)
    trend_svg = (
        _svg_or_none(
            lambda: render_svg(cost_trend_spec(trend, cost_day - dt.timedelta(days=HISTORY_DAYS - 1), cost_day)),
            "cost trend",
        )
        if charts and trend
        else None
    )
    week_drivers, week_basis = data.read_week_drivers(backend, cost_day)
    health = data.read_data_health(backend, day - dt.timedelta(days=HEALTH_DAYS - 1), day)
    context = {
        "csp": Markup(CSP),  # noqa: S704 - a constant of this module, not data
        "day": day,
        "cost_day": cost_day,
        "generated_at": (generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        "posted": posted,
        "held": held,
        "history_start": start,
        "history_svg": history_svg,
        "history_summary": history_summary(a for a in history if a["alert_date"] <= day),
        "history_holds": hold_counts(a for a in history if a["alert_date"] <= day),
        "history_count": sum(1 for a in history if a["alert_date"] <= day),
        "trend_svg": trend_svg,
        "trend_totals": _trend_totals(trend),
        "week_drivers": week_drivers,
        "week_basis": week_basis,
        "week_start": cost_day - dt.timedelta(days=6),
        "health": health,
        "backtest": backtest_view(backend, [a for a in history if a["alert_date"] <= day], start, day),
    }
    return _environment().get_template("index.html.j2").render(**context)


def _trend_totals(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per vertical and category: the window's total and the last day's cost."""
    if not rows:
        return []
    last = max(r["dt"] for r in rows)
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        t = totals.setdefault(
            (str(r["vertical"]), str(r["cost_category"])),
            {"vertical": str(r["vertical"]), "category": str(r["cost_category"]), "total": 0.0, "last": 0.0},
        )
        t["total"] += float(r["cost"] or 0.0)
        if r["dt"] == last:
            t["last"] += float(r["cost"] or 0.0)
    return [totals[k] for k in sorted(totals)]


def write_report(html: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(html, encoding="utf-8")
    return path
