"""An incident's chart: a Vega-Lite spec of its headline series, rendered by vl-convert in-process (no browser, no
network) as the PNG uploaded into its Slack thread; the HTML report (ltx_reports) draws the same spec as SVG. Data
strings only enter as data values or titles."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import vl_convert

from alerting import values as fmt
from alerting.causes import read_in
from alerting.model import Alert, group_incidents
from alerting.warehouse import Backend

VEGA_LITE_VERSION = "5.21"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier: nothing is fetched
BAND_LABELS = {2.0: "within ±2σ", 3.0: "±2σ to ±3σ (notice)", 4.5: "±3σ to ±4.5σ (warning)"}
BAND_COLOURS = {"within ±2σ": "#dbe9f6", "±2σ to ±3σ (notice)": "#fdf1c7", "±3σ to ±4.5σ (warning)": "#fde0c5"}
SEVERITY_COLOURS = {"critical": "#c92a2a", "warning": "#e8590c", "notice": "#d9a400", "none": "#495057"}
COMPONENT_COLOURS = dict(  # also the components' order in the bar
    request_volume="#1c7ed6", request_rate="#74c0fc", inference="#1c7ed6", idle="#f76707", overhead="#868e96",
    unused="#ced4da",
)  # fmt: skip
KIND_BASELINE, KIND_HISTORY, KIND_DAY = "baseline point", "earlier point", "alert day"
KINDS = ((KIND_HISTORY, KIND_BASELINE), (KIND_DAY, KIND_DAY))  # by (is_alert_day, is_baseline_point)
WIDTH, HEIGHT = 560, 240
GREY = "#adb5bd"
Y_FORMATS = {"usd_per_request": "$,.2f", "usd": "$,.0f", "rate": ".0%", "fraction": ".0%"}
X_WEEKDAYS = {"field": "day", "type": "ordinal", "sort": None, "title": None, "axis": {"labelAngle": -40}}
NO_SERIES = "(this build has no series for the alert: the day against its bands only)"
LEGEND_BOTTOM = {"title": None, "orient": "bottom", "direction": "horizontal"}
FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"  # measured and drawn alike (docs/charts-and-report.md)
CONFIG = {
    "font": FONT, "view": {"stroke": None}, "legend": {"labelFontSize": 11},
    "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#f1f3f5"},
    "title": {"fontSize": 14, "subtitleFontSize": 12, "subtitleColor": "#495057"},
}  # fmt: skip
BASE = {"$schema": SCHEMA, "background": "white", "padding": 8, "config": CONFIG}


@dataclass(frozen=True)
class SeriesPoint:  # one row of fct_alert_chart_series
    dt: dt.date
    value: float | None
    is_baseline_point: bool
    is_alert_day: bool


def series_title(a: Alert) -> str:
    return f"{fmt.display_scope(a.scope)} – {fmt.display_metric(a.metric)}"


def vl_field(name: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"field": name, "type": kind, **more}


def vl_colour(field: str, domain: Sequence[str], colours: Mapping[str, str], legend: Any) -> dict[str, Any]:
    scale = {"domain": list(domain), "range": [colours.get(d, GREY) for d in domain]}
    return vl_field(field, "nominal", scale=scale, legend=legend)


def x_time(**extra: Any) -> dict[str, Any]:
    axis = {"format": "%b %d", "labelAngle": 0, "tickCount": 6}
    return vl_field("dt", "temporal", timeUnit="utcyearmonthdate", title=None, axis=axis, **extra)


def _layer(data: str, mark: dict[str, Any], encoding: dict[str, Any], **kinds: Any) -> dict[str, Any]:
    layer: dict[str, Any] = {"data": {"name": data}, "mark": mark, "encoding": encoding}
    if kinds:
        layer["transform"] = [{"filter": {"field": "kind", **kinds}}]
    return layer


def _layers(a: Alert, data: dict[str, list[dict[str, Any]]], x: dict[str, Any]) -> list[dict[str, Any]]:
    """The bands, μ (dashed) and an absolute threshold (dotted) where the alert has them; the series line, its
    earlier points (baseline ones filled) and the day's point, coloured by severity."""
    q = {"type": "quantitative"}
    bands = vl_colour("band", list(BAND_LABELS.values()), BAND_COLOURS, LEGEND_BOTTOM)
    band = {"y": {"field": "lo", **q}, "y2": {"field": "hi"}, "color": bands}
    rule = {"type": "rule", "color": "#1864ab", "strokeDash": [5, 3]}
    colour = SEVERITY_COLOURS.get(a.severity, SEVERITY_COLOURS["none"])
    y = vl_field("value", "quantitative", title=fmt.display_metric(a.metric), scale={"zero": False},
                 axis={"format": Y_FORMATS.get(a.unit or "", ",.3~s")})  # fmt: skip
    earlier = [KIND_BASELINE, KIND_HISTORY]
    fill = vl_colour("kind", earlier, {KIND_BASELINE: "#1864ab", KIND_HISTORY: "#ffffff"}, LEGEND_BOTTOM)
    shape = vl_field("kind", "nominal", scale={"domain": earlier, "range": ["circle", "circle"]}, legend=None)
    points = {"x": x, "y": y, "shape": shape, "fill": fill, "stroke": {"value": "#1864ab"}}
    day = {"type": "point", "filled": True, "size": 170, "color": colour, "stroke": "#212529"}
    label = {"type": "text", "align": "right", "dx": -10, "dy": -10, "fontWeight": "bold", "color": colour}
    layers = [
        _layer("bands", {"type": "rect", "opacity": 0.9}, band),
        _layer("mu", rule, {"y": {"field": "mu", **q}}),
        _layer("threshold", {**rule, "color": "#c92a2a", "strokeDash": [2, 2]}, {"y": {"field": "threshold", **q}}),
        _layer("series", {"type": "line", "color": "#495057", "strokeWidth": 1.5}, {"x": x, "y": y}),
        _layer("series", {"type": "point", "size": 45, "strokeWidth": 1.5}, points, oneOf=earlier),
        _layer("series", day, {"x": x, "y": y}, equal=KIND_DAY),
        _layer("series", label, {"x": x, "y": y, "text": {"value": a.severity.upper()}}, equal=KIND_DAY),
    ]
    return [layer for layer in layers if layer["data"]["name"] == "series" or data[layer["data"]["name"]]]


def _subtitle(a: Alert, points: Sequence[SeriesPoint]) -> list[str]:
    """The headline ('4,497,947 · z 3.36 · WARNING · +46.6% vs μ') and what μ and σ are."""
    z = f"z {fmt.format_z(a.z_score)}" if fmt.finite(a.z_score) else ""
    mean = fmt.is_mean(a.baseline_kind)
    change = f"{fmt.format_change(a.pct_change)}{' vs μ' if mean else ''}" if fmt.finite(a.pct_change) else ""
    headline = [fmt.format_value(a.current_value, a.unit), z, a.severity.upper(), change]
    n = sum(1 for p in points if p.is_baseline_point and not p.is_alert_day)
    if a.domain == "gpu_cost":
        days = fmt.plural(n, "filled day")
        where = f"of the {days} the alert compared with" if n else "(dashed; the build has no series for it)"
    else:
        where = f"of the last {n} {a.alert_date:%A}s (filled points)" if n else NO_SERIES
    label = f"μ {where}" if mean else fmt.baseline_label(a.baseline_kind, a.baseline_points, a.alert_date)
    label += "" if mean or n else f" {where}"
    lines = [" · ".join(p for p in headline if p), f"{label}: {fmt.format_value(a.baseline_mean, a.unit)}"]
    if fmt.finite(a.baseline_stddev):
        lines[1] += f" · {fmt.sigma_label(a.baseline_stddev_kind)} {fmt.format_value(a.baseline_stddev, a.unit)}"
        if a.baseline_stddev_kind == "pooled_within_weekday":  # a line of its own: a wide title shrinks the chart
            lines.append("σ over every day of those weeks, each against its weekday; bands ±2σ / ±3σ / ±4.5σ")
        else:
            lines[1] += "; bands ±2σ / ±3σ / ±4.5σ"
    return lines


def _component_bar(rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = [r["component"] for r in rows]
    colours = {n: COMPONENT_COLOURS.get(n.replace(" ", "_"), GREY) for n in names}
    title = {"text": [fmt.format_delta(sum(r["delta_usd"] for r in rows), "usd"), "vs 7-day average"], "fontSize": 11}
    encoding = {
        "x": vl_field("bar", "nominal", title=None, axis={"labels": False, "ticks": False}),
        "y": vl_field("delta_usd", "quantitative", title="USD", stack="zero"),
        "order": vl_field("order", "quantitative"),
        "color": vl_colour("component", names, colours, {"title": None, "orient": "right"}),
        "tooltip": [{"field": "component"}, {"field": "delta_usd", "format": "$,.2f"}],
    }
    bar = {"data": {"name": "components"}, "title": title, "mark": {"type": "bar"}, "encoding": encoding}
    return {"width": 90, "height": HEIGHT, **bar}


def _bands(a: Alert, points: Sequence[SeriesPoint]) -> list[dict[str, Any]]:
    """The ±kσ bands around μ, widest first (narrower ones drawn on top); cut at 0 when the metric cannot go
    below 0 here (every value and the mean >= 0)."""
    mean, sd = a.baseline_mean, a.baseline_stddev
    if mean is None or sd is None or not (fmt.finite(mean) and fmt.finite(sd)) or sd <= 0:
        return []
    seen = [v for v in (*(p.value for p in points), mean, a.current_value) if v is not None and fmt.finite(v)]
    low = 0.0 if min(seen) >= 0 else -math.inf
    return [
        {"band": BAND_LABELS[k], "k": k, "lo": max(mean - k * sd, low), "hi": mean + k * sd}
        for k in sorted(BAND_LABELS, reverse=True)
    ]


def chart_spec(a: Alert, points: Sequence[SeriesPoint]) -> dict[str, Any]:
    """An incident's chart: its headline alert's series and bands; for cost, the day's components beside them."""
    order = {c: i for i, c in enumerate(COMPONENT_COLOURS)}
    comps = [c for c in a.decomposition if c.contributor_type is None and fmt.finite(c.delta_usd)]
    comps.sort(key=lambda c: (order.get(c.component, len(order)), c.component))
    data: dict[str, list[dict[str, Any]]] = {
        "series": [
            dict(
                dt=p.dt.isoformat(), day=f"{p.dt:%b %d}", value=p.value, kind=KINDS[p.is_alert_day][p.is_baseline_point]
            )
            for p in sorted(points, key=lambda p: p.dt)
            if fmt.finite(p.value)
        ],
        "bands": _bands(a, points),
        "mu": [{"mu": a.baseline_mean}] if fmt.finite(a.baseline_mean) else [],
        "threshold": [{"threshold": a.threshold}] if a.threshold_kind == "absolute" and fmt.finite(a.threshold) else [],
        "components": [
            {"component": c.component.replace("_", " "), "order": i, "delta_usd": c.delta_usd, "bar": "change"}
            for i, c in enumerate(comps)
        ],
    }
    x = x_time() if a.domain == "gpu_cost" else X_WEEKDAYS
    main = {
        "width": WIDTH - 150 if data["components"] else WIDTH,
        "height": HEIGHT,
        "layer": _layers(a, data, x),
        "resolve": {"scale": {"color": "independent", "fill": "independent"}},
    }
    title = f"{series_title(a)} · {a.alert_date:%a %Y-%m-%d}"
    spec = {**BASE, "title": {"text": title, "subtitle": _subtitle(a, points), "anchor": "start"}, "datasets": data}
    if not data["components"]:
        return {**spec, **main}
    return {**spec, "hconcat": [main, _component_bar(data["components"])], "spacing": 24}


def render_png(spec: Mapping[str, Any], scale: float = 2.0) -> bytes:
    return bytes(vl_convert.vegalite_to_png(dict(spec), vl_version=VEGA_LITE_VERSION, scale=scale))


def incident_charts(backend: Backend, alerts: Iterable[Alert]) -> dict[str, tuple[Alert, dict[str, Any]]]:
    """Per incident, its headline alert and chart spec (without the chart mart: the day against its own bands)."""
    leads = [i.primary for i in group_incidents(alerts) if i.domain in ("usage", "gpu_cost")]
    need = ("alert_id", "dt", "value", "is_baseline_point", "is_alert_day")
    rows = read_in(backend, "fct_alert_chart_series", "alert_id", [a.alert_id for a in leads], need)
    out: dict[str, tuple[Alert, dict[str, Any]]] = {}
    for a in leads:
        mine = [r for r in rows if r["alert_id"] == a.alert_id]
        points = [SeriesPoint(r["dt"], r["value"], bool(r["is_baseline_point"]), bool(r["is_alert_day"])) for r in mine]
        if not points and fmt.finite(a.current_value) and fmt.finite(a.baseline_mean):
            points = [SeriesPoint(a.alert_date, a.current_value, False, True)]
        if points:
            out[a.incident_id] = (a, chart_spec(a, points))
    return out


def chart_for(backend: Backend) -> Callable[[Any], tuple[str, bytes] | None]:
    """The runner's hook: an incident (its `.primary` alert) -> (file name, PNG bytes) of its chart, or None."""
    return lambda i: next(
        ((chart_filename(a), render_png(s)) for a, s in incident_charts(backend, [i.primary]).values()), None
    )


def chart_filename(a: Alert) -> str:
    """A safe file name for the Slack upload: only [a-z0-9_-]."""
    raw = f"{a.alert_date:%Y%m%d}-{a.domain}-{a.scope}-{a.metric}"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in raw.lower())[:100] + ".png"
