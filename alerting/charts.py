"""Charts: Vega-Lite specs rendered as PNG (Slack) and SVG (the HTML report) by vl-convert, in-process (no
browser, no network). Data strings only enter as data values or titles; `safe_svg` re-checks the markup."""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import vl_convert

from alerting import values as fmt
from alerting.model import Alert

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


def _field(name: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"field": name, "type": kind, **more}


def _colour(field: str, domain: Sequence[str], colours: Mapping[str, str], legend: Any) -> dict[str, Any]:
    scale = {"domain": list(domain), "range": [colours.get(d, GREY) for d in domain]}
    return _field(field, "nominal", scale=scale, legend=legend)


def _x_time(**extra: Any) -> dict[str, Any]:
    axis = {"format": "%b %d", "labelAngle": 0, "tickCount": 6}
    return _field("dt", "temporal", timeUnit="utcyearmonthdate", title=None, axis=axis, **extra)


def _layer(data: str, mark: dict[str, Any], encoding: dict[str, Any], **kinds: Any) -> dict[str, Any]:
    layer: dict[str, Any] = {"data": {"name": data}, "mark": mark, "encoding": encoding}
    if kinds:
        layer["transform"] = [{"filter": {"field": "kind", **kinds}}]
    return layer


def _layers(a: Alert, data: dict[str, list[dict[str, Any]]], x: dict[str, Any]) -> list[dict[str, Any]]:
    """The bands, μ (dashed) and an absolute threshold (dotted) where the alert has them; the series line, its
    earlier points (baseline ones filled) and the day's point, coloured by severity."""
    q = {"type": "quantitative"}
    bands = _colour("band", list(BAND_LABELS.values()), BAND_COLOURS, LEGEND_BOTTOM)
    band = {"y": {"field": "lo", **q}, "y2": {"field": "hi"}, "color": bands}
    rule = {"type": "rule", "color": "#1864ab", "strokeDash": [5, 3]}
    colour = SEVERITY_COLOURS.get(a.severity, SEVERITY_COLOURS["none"])
    y = _field("value", "quantitative", title=fmt.display_metric(a.metric), scale={"zero": False},
               axis={"format": Y_FORMATS.get(a.unit or "", ",.3~s")})  # fmt: skip
    earlier = [KIND_BASELINE, KIND_HISTORY]
    fill = _colour("kind", earlier, {KIND_BASELINE: "#1864ab", KIND_HISTORY: "#ffffff"}, LEGEND_BOTTOM)
    shape = _field("kind", "nominal", scale={"domain": earlier, "range": ["circle", "circle"]}, legend=None)
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
    mean = (a.baseline_kind or "").strip().lower() in fmt.MEAN_KINDS  # else an expectation from the filled days
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
        "x": _field("bar", "nominal", title=None, axis={"labels": False, "ticks": False}),
        "y": _field("delta_usd", "quantitative", title="USD", stack="zero"),
        "order": _field("order", "quantitative"),
        "color": _colour("component", names, colours, {"title": None, "orient": "right"}),
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
    x = _x_time() if a.domain == "gpu_cost" else X_WEEKDAYS
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


def _overview(title: str, name: str, values: list[dict[str, Any]], **body: Any) -> dict[str, Any]:
    head = {"title": {"text": title, "anchor": "start"}, "datasets": {name: values}, "data": {"name": name}}
    return {**BASE, **head, **body}


def _ordered(values: Iterable[str], first: Sequence[str]) -> list[str]:
    present = set(values)
    return [v for v in first if v in present] + sorted(present - set(first))


def history_spec(values: list[dict[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    """One row per series, one cell per day ({dt, series, severity, status}), held ones faded."""
    severities = _ordered((v["severity"] for v in values), ("notice", "warning", "critical"))
    series = sorted({v["series"] for v in values})
    days = {"domain": [start.isoformat(), (end + dt.timedelta(days=1)).isoformat()], "type": "utc"}
    status = {"domain": ["posted", "held"], "range": [1.0, 0.3]}
    encoding = {
        "x": _x_time(scale=days),
        "y": _field("series", "nominal", title=None, sort=series, axis={"labelLimit": 320}),
        "color": _colour("severity", severities, SEVERITY_COLOURS, {"title": "severity", "orient": "top"}),
        "opacity": _field("status", "nominal", scale=status, legend={"title": "faded = held", "orient": "top"}),
        "tooltip": [_field("dt", "temporal"), {"field": "series"}, {"field": "severity"}],
    }
    mark = {"type": "rect", "stroke": "white", "strokeWidth": 0.5}
    size = {"width": WIDTH + 120, "height": {"step": 14}}
    return _overview(f"Alerts {start} – {end}", "alerts", values, **size, mark=mark, encoding=encoding)


def cost_trend_spec(rows: Sequence[Mapping[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    """GPU cost per day by category (fct_gpu_cost_utilisation rows), API and Studio side by side."""
    values = [
        {**r, "dt": r["dt"].isoformat(), "vertical": r["vertical"].upper(), "cost": float(r["cost"] or 0)}
        for r in sorted(rows, key=lambda r: (r["dt"], r["vertical"], r["cost_category"]))
    ]
    categories = _ordered((v["cost_category"] for v in values), ("inference", "idle", "overhead", "unused"))
    encoding = {
        "x": _x_time(),
        "y": _field("cost", "quantitative", title="USD / day", stack="zero", axis={"format": "$,.0f"}),
        "color": _colour("cost_category", categories, COMPONENT_COLOURS, {"title": None, "orient": "bottom"}),
        "order": {"field": "cost_category", "sort": "ascending"},
    }
    facet = _field("vertical", "nominal", title=None, sort=["API", "STUDIO"])
    spec = {"width": 300, "height": 180, "mark": {"type": "area"}, "encoding": encoding}
    return _overview(f"GPU cost by category, {start} – {end}", "cost", values, columns=2, facet=facet, spec=spec)


def render_png(spec: Mapping[str, Any], scale: float = 2.0) -> bytes:
    return bytes(vl_convert.vegalite_to_png(dict(spec), vl_version=VEGA_LITE_VERSION, scale=scale))


def render_svg(spec: Mapping[str, Any]) -> str:
    return safe_svg(vl_convert.vegalite_to_svg(dict(spec), vl_version=VEGA_LITE_VERSION))


class UnsafeSvgError(ValueError):
    """The SVG holds something a report must not inline (script, event handler, external link)."""


_FORBIDDEN = {"script", "foreignObject", "iframe", "object", "embed", "image", "use", "a", "style"}


def safe_svg(svg: str) -> str:
    try:
        root = ET.fromstring(svg)  # noqa: S314 - our own renderer's output, checked not trusted
    except ET.ParseError as exc:
        raise UnsafeSvgError(f"not well-formed SVG: {exc}") from None
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag in _FORBIDDEN:
            raise UnsafeSvgError(f"SVG element <{tag}> is not allowed")
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise UnsafeSvgError(f"SVG event handler {local!r} is not allowed")
            if local in ("href", "src") or ("url(" in value.replace(" ", "").lower() and "url(#" not in value):
                raise UnsafeSvgError(f"SVG reference in {local!r} is not allowed")
    return svg


def chart_filename(a: Alert) -> str:
    """A safe file name for the Slack upload: only [a-z0-9_-]."""
    raw = f"{a.alert_date:%Y%m%d}-{a.domain}-{a.scope}-{a.metric}"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in raw.lower())[:100] + ".png"
