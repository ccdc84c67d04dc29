"""Charts: one Vega-Lite spec per incident, rendered as PNG (Slack) and SVG (the HTML report).

Everything here is pure except `render_png` / `render_svg`, which call vl-convert (Vega-Lite
compiled and rendered in-process by a bundled Deno/V8: no browser, no network, the same
bytes for the same spec). A spec is plain JSON built from the marts' numbers:

* usage  — the same weekday over the last 13 weeks (fct_alert_chart_series), the baseline
  points marked, mu and the ±2sigma / ±3sigma / ±4.5sigma bands of the alert (fct_alerts), the day's
  point coloured by severity;
* gpu_cost — the metric's days back far enough to hold the alert's whole baseline, the days
  its mean stands on marked, the alert's own mu and ±2sigma / ±3sigma / ±4.5sigma bands
  (fct_alerts, the sigma named by its kind: sample or pooled within-weekday) or, for a rule
  without a sigma, its mean; beside it the day's change split into components
  (fct_gpu_cost_decomposition, or the category split of fct_alert_chart_cost_components)
  as one stacked bar.

Bands of a metric that cannot go below 0 (every value and the mean >= 0) stop at 0, so the
axis never runs below 0 for them.

Data strings (scope, metric, component names) only enter the spec as data values or titles;
Vega's SVG renderer escapes text, and `safe_svg` re-checks the markup before the report
inlines it.
"""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting.values import (
    display_metric,
    display_scope,
    format_change,
    format_delta,
    format_value,
    format_z,
    sigma_label,
)

VEGA_LITE_VERSION = "5.21"
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier: nothing is fetched
Z_BANDS: tuple[float, ...] = (2.0, 3.0, 4.5)  # notice / warning / critical edges on |z|
BAND_LABELS = {2.0: "within ±2σ", 3.0: "±2σ to ±3σ (notice)", 4.5: "±3σ to ±4.5σ (warning)"}
BAND_COLOURS = {2.0: "#dbe9f6", 3.0: "#fdf1c7", 4.5: "#fde0c5"}
SEVERITY_COLOURS = {
    "critical": "#c92a2a",
    "warning": "#e8590c",
    "notice": "#d9a400",
    "none": "#495057",
}
COMPONENT_ORDER = (
    "request_volume",
    "request_rate",
    "inference",
    "idle",
    "overhead",
    "unused",
)
COMPONENT_COLOURS = {
    "request_volume": "#1c7ed6",
    "request_rate": "#74c0fc",
    "inference": "#1c7ed6",
    "idle": "#f76707",
    "overhead": "#868e96",
    "unused": "#ced4da",
}
KIND_BASELINE, KIND_HISTORY, KIND_DAY = "baseline point", "earlier point", "alert day"
WIDTH, HEIGHT = 560, 240
PNG_SCALE = 2.0


@dataclass(frozen=True)
class SeriesPoint:
    """One row of fct_alert_chart_series."""

    dt: dt.date
    value: float | None
    is_baseline_point: bool
    is_alert_day: bool


@dataclass(frozen=True)
class Component:
    """One part of a cost day's change (decomposition or category split), USD."""

    component: str
    delta_usd: float


@dataclass(frozen=True)
class ChartInput:
    """What one incident's chart draws: its headline alert and that alert's series."""

    alert_id: str
    domain: str
    scope: str
    metric: str
    unit: str | None
    alert_date: dt.date
    current_value: float | None
    baseline_mean: float | None
    baseline_stddev: float | None
    z_score: float | None
    severity: str
    points: tuple[SeriesPoint, ...] = ()
    baseline_stddev_kind: str | None = None
    components: tuple[Component, ...] = ()
    components_basis: str = ""
    threshold: float | None = None
    threshold_kind: str | None = None
    incident_id: str | None = None

    @property
    def key(self) -> str:
        return self.incident_id or self.alert_id


@dataclass(frozen=True)
class Chart:
    """A rendered chart: the spec and its two renderings."""

    key: str
    spec: dict[str, Any]
    png: bytes = b""
    svg: str = ""
    filename: str = field(default="")


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _iso(day: dt.date) -> str:
    return day.isoformat()


def band_values(mean: float | None, stddev: float | None, floor: float | None = None) -> list[dict[str, Any]]:
    """The ±ksigma bands around mu, widest first (so narrower bands are drawn on top), cut at ``floor``."""
    if not (_finite(mean) and _finite(stddev)) or stddev <= 0:  # type: ignore[operator]
        return []
    assert mean is not None and stddev is not None
    low = -math.inf if floor is None else floor
    return [
        {"band": BAND_LABELS[k], "k": k, "lo": max(mean - k * stddev, low), "hi": mean + k * stddev}
        for k in sorted(Z_BANDS, reverse=True)
    ]


def non_negative_floor(chart: ChartInput) -> float | None:
    """0 when the metric cannot go below 0 here (every value and the mean >= 0), else None."""
    values = [p.value for p in chart.points] + [chart.baseline_mean, chart.current_value]
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return 0.0 if finite and min(finite) >= 0 else None


def _band_layers(chart: ChartInput) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The alert's own mu (dashed) and ±k sigma bands as layers, and their datasets."""
    bands = band_values(chart.baseline_mean, chart.baseline_stddev, non_negative_floor(chart))
    layers: list[dict[str, Any]] = []
    if bands:
        layers.append(
            {
                "data": {"name": "bands"},
                "mark": {"type": "rect", "opacity": 0.9},
                "encoding": {
                    "y": {"field": "lo", "type": "quantitative"},
                    "y2": {"field": "hi"},
                    "color": {
                        "field": "band",
                        "type": "nominal",
                        "scale": {
                            "domain": [BAND_LABELS[k] for k in Z_BANDS],
                            "range": [BAND_COLOURS[k] for k in Z_BANDS],
                        },
                        "legend": {"title": None, "orient": "bottom", "direction": "horizontal"},
                    },
                },
            }
        )
    mu = [{"mu": chart.baseline_mean}] if _finite(chart.baseline_mean) else []
    if mu:
        layers.append(
            {
                "data": {"name": "mu"},
                "mark": {"type": "rule", "color": "#1864ab", "strokeDash": [5, 3]},
                "encoding": {"y": {"field": "mu", "type": "quantitative"}},
            }
        )
    return layers, {"bands": bands, "mu": mu}


def _baseline_text(chart: ChartInput, where: str) -> str:
    """'μ of the 8 filled day(s) the alert compared with: $164.00 · pooled within-weekday σ $3.10; bands …'."""
    text = f"μ {where}: {format_value(chart.baseline_mean, chart.unit)}"
    if not _finite(chart.baseline_stddev):
        return text
    text += f" · {sigma_label(chart.baseline_stddev_kind)} {format_value(chart.baseline_stddev, chart.unit)}"
    if (chart.baseline_stddev_kind or "") == "pooled_within_weekday":
        text += " (every day of those weeks, each against its weekday)"
    return text + "; bands ±2σ / ±3σ / ±4.5σ"


def _kind(p: SeriesPoint) -> str:
    if p.is_alert_day:
        return KIND_DAY
    return KIND_BASELINE if p.is_baseline_point else KIND_HISTORY


def series_values(points: Iterable[SeriesPoint]) -> list[dict[str, Any]]:
    """The series as Vega-Lite data rows, in date order; points without a value are left out."""
    return [
        {"dt": _iso(p.dt), "day": f"{p.dt:%b %d}", "value": p.value, "kind": _kind(p)}
        for p in sorted(points, key=lambda p: p.dt)
        if _finite(p.value)
    ]


def title_text(chart: ChartInput) -> str:
    return f"{display_scope(chart.scope)} – {display_metric(chart.metric)} · {chart.alert_date:%a %Y-%m-%d}"


def _headline(chart: ChartInput) -> str:
    sev = (chart.severity or "").upper()
    parts = [f"{format_value(chart.current_value, chart.unit)}"]
    if _finite(chart.z_score):
        parts.append(f"z {format_z(chart.z_score)}")
    parts.append(sev)
    if chart.baseline_mean:
        parts.append(f"{format_change(_pct(chart))} vs μ")
    return " · ".join(p for p in parts if p)


def _pct(chart: ChartInput) -> float | None:
    if not (_finite(chart.current_value) and _finite(chart.baseline_mean)) or not chart.baseline_mean:
        return None
    assert chart.current_value is not None and chart.baseline_mean is not None
    return (chart.current_value - chart.baseline_mean) / chart.baseline_mean


def _x(title: str | None = None) -> dict[str, Any]:
    return {
        "field": "dt",
        "type": "temporal",
        "timeUnit": "utcyearmonthdate",
        "title": title,
        "axis": {"format": "%b %d", "labelAngle": 0, "tickCount": 6},
    }


def _x_days() -> dict[str, Any]:
    """Usage: one slot per same-weekday point, labelled with its date (data order)."""
    return {"field": "day", "type": "ordinal", "sort": None, "title": None, "axis": {"labelAngle": -40}}


def _y(unit: str | None, title: str) -> dict[str, Any]:
    fmt = "$,.2f" if unit == "usd_per_request" else ("$,.0f" if unit == "usd" else ",.3~s")
    if unit in ("rate", "fraction"):
        fmt = ".0%"
    return {"field": "value", "type": "quantitative", "title": title, "scale": {"zero": False}, "axis": {"format": fmt}}


def _points_layers(chart: ChartInput, unit: str | None, ytitle: str, x: dict[str, Any]) -> list[dict[str, Any]]:
    colour = SEVERITY_COLOURS.get((chart.severity or "").lower(), SEVERITY_COLOURS["none"])
    y = _y(unit, ytitle)
    return [
        {
            "data": {"name": "series"},
            "mark": {"type": "line", "color": "#495057", "strokeWidth": 1.5},
            "encoding": {"x": x, "y": y},
        },
        {
            "data": {"name": "series"},
            "transform": [{"filter": {"field": "kind", "oneOf": [KIND_BASELINE, KIND_HISTORY]}}],
            "mark": {"type": "point", "size": 45, "strokeWidth": 1.5},
            "encoding": {
                "x": x,
                "y": y,
                "shape": {
                    "field": "kind",
                    "type": "nominal",
                    "scale": {"domain": [KIND_BASELINE, KIND_HISTORY], "range": ["circle", "circle"]},
                    "legend": None,
                },
                "fill": {
                    "field": "kind",
                    "type": "nominal",
                    "scale": {"domain": [KIND_BASELINE, KIND_HISTORY], "range": ["#1864ab", "#ffffff"]},
                    "legend": {"title": None, "orient": "bottom", "direction": "horizontal"},
                },
                "stroke": {"value": "#1864ab"},
            },
        },
        {
            "data": {"name": "series"},
            "transform": [{"filter": {"field": "kind", "equal": KIND_DAY}}],
            "mark": {"type": "point", "filled": True, "size": 170, "color": colour, "stroke": "#212529"},
            "encoding": {"x": x, "y": y},
        },
        {
            "data": {"name": "series"},
            "transform": [{"filter": {"field": "kind", "equal": KIND_DAY}}],
            "mark": {"type": "text", "align": "right", "dx": -10, "dy": -10, "fontWeight": "bold", "color": colour},
            "encoding": {"x": x, "y": y, "text": {"value": (chart.severity or "").upper()}},
        },
    ]


def _base_spec(chart: ChartInput, subtitle: list[str]) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "title": {"text": title_text(chart), "subtitle": subtitle, "anchor": "start"},
        "background": "white",
        "padding": 8,
        "config": {
            "font": "sans-serif",
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#f1f3f5"},
            "legend": {"labelFontSize": 11},
            "title": {"fontSize": 14, "subtitleFontSize": 12, "subtitleColor": "#495057"},
        },
    }


def usage_spec(chart: ChartInput) -> dict[str, Any]:
    """The same weekday over ~13 weeks, the 10 baseline points, mu and the ±2/3/4.5sigma bands."""
    baseline_n = sum(1 for p in chart.points if p.is_baseline_point and not p.is_alert_day)
    where = (
        f"of the last {baseline_n} {chart.alert_date:%A}s (filled points)"
        if baseline_n
        else "(this build has no series for the alert: the day against its bands only)"
    )
    subtitle = [_headline(chart), _baseline_text(chart, where)]
    layers, band_data = _band_layers(chart)
    layers += _points_layers(chart, chart.unit, display_metric(chart.metric), _x_days())
    spec = _base_spec(chart, subtitle)
    spec.update(
        {
            "width": WIDTH,
            "height": HEIGHT,
            "datasets": {"series": series_values(chart.points), **band_data},
            "layer": layers,
            "resolve": {"scale": {"color": "independent", "fill": "independent"}},
        }
    )
    return spec


def component_values(components: Iterable[Component]) -> list[dict[str, Any]]:
    order = {c: i for i, c in enumerate(COMPONENT_ORDER)}
    rows = sorted(components, key=lambda c: (order.get(c.component, len(order)), c.component))
    return [
        {"component": c.component.replace("_", " "), "order": i, "delta_usd": c.delta_usd, "bar": "change"}
        for i, c in enumerate(rows)
        if _finite(c.delta_usd)
    ]


def cost_spec(chart: ChartInput) -> dict[str, Any]:
    """The alert's baseline days marked, its mu and ±k sigma bands; the day's change as a stacked bar."""
    baseline_n = sum(1 for p in chart.points if p.is_baseline_point and not p.is_alert_day)
    where = (
        f"of the {baseline_n} filled day(s) the alert compared with"
        if baseline_n
        else "(dashed; the build has no series for it)"
    )
    subtitle = [_headline(chart), _baseline_text(chart, where)]
    main, band_data = _band_layers(chart)
    if chart.threshold_kind == "absolute" and _finite(chart.threshold):
        main.append(
            {
                "data": {"name": "threshold"},
                "mark": {"type": "rule", "color": "#c92a2a", "strokeDash": [2, 2]},
                "encoding": {"y": {"field": "threshold", "type": "quantitative"}},
            }
        )
    main += _points_layers(chart, chart.unit, display_metric(chart.metric), _x())
    comps = component_values(chart.components)
    spec = _base_spec(chart, subtitle)
    datasets: dict[str, Any] = {
        "series": series_values(chart.points),
        **band_data,
        "threshold": [{"threshold": chart.threshold}] if _finite(chart.threshold) else [],
        "components": comps,
    }
    main_view = {
        "width": WIDTH - 150 if comps else WIDTH,
        "height": HEIGHT,
        "layer": main,
        "resolve": {"scale": {"color": "independent", "fill": "independent"}},
    }
    if not comps:
        spec.update({"datasets": datasets, **main_view})
        return spec
    names = [c["component"] for c in comps]
    bar = {
        "width": 90,
        "height": HEIGHT,
        "data": {"name": "components"},
        "title": {
            "text": [
                f"{format_delta(sum(c['delta_usd'] for c in comps), 'usd')}",
                f"vs {chart.components_basis or 'baseline'}",
            ],
            "fontSize": 11,
        },
        "mark": {"type": "bar"},
        "encoding": {
            "x": {"field": "bar", "type": "nominal", "title": None, "axis": {"labels": False, "ticks": False}},
            "y": {"field": "delta_usd", "type": "quantitative", "title": "USD", "stack": "zero"},
            "order": {"field": "order", "type": "quantitative"},
            "color": {
                "field": "component",
                "type": "nominal",
                "scale": {
                    "domain": names,
                    "range": [COMPONENT_COLOURS.get(n.replace(" ", "_"), "#adb5bd") for n in names],
                },
                "legend": {"title": None, "orient": "right"},
            },
            "tooltip": [{"field": "component"}, {"field": "delta_usd", "format": "$,.2f"}],
        },
    }
    spec.update({"datasets": datasets, "hconcat": [main_view, bar], "spacing": 24})
    return spec


def chart_spec(chart: ChartInput) -> dict[str, Any]:
    if chart.domain == "gpu_cost":
        return cost_spec(chart)
    return usage_spec(chart)


# --- report-wide charts ------------------------------------------------------------------------


def history_spec(rows: Sequence[Mapping[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    """Alert history: one row per series, one cell per day, coloured by severity, held ones hatched light.

    rows: {dt, series, severity, held (bool)} — one per alert.
    """
    values = [
        {
            "dt": _iso(r["dt"]),
            "series": str(r["series"]),
            "severity": str(r["severity"]),
            "status": "held" if r["held"] else "posted",
        }
        for r in sorted(rows, key=lambda r: (r["dt"], str(r["series"]), str(r["severity"])))
    ]
    series = sorted({v["series"] for v in values})
    severities = [s for s in ("notice", "warning", "critical") if any(v["severity"] == s for v in values)]
    severities += sorted({v["severity"] for v in values} - set(severities))
    return {
        "$schema": SCHEMA,
        "background": "white",
        "padding": 8,
        "title": {"text": f"Alerts {start:%Y-%m-%d} – {end:%Y-%m-%d}", "anchor": "start"},
        "config": {"font": "sans-serif", "view": {"stroke": "#dee2e6"}},
        "datasets": {"alerts": values},
        "data": {"name": "alerts"},
        "width": WIDTH + 120,
        "height": {"step": 14},
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 0.5},
        "encoding": {
            "x": {
                "field": "dt",
                "type": "temporal",
                "timeUnit": "utcyearmonthdate",
                "title": None,
                "scale": {"domain": [_iso(start), _iso(end + dt.timedelta(days=1))], "type": "utc"},
                "axis": {"format": "%b %d", "labelAngle": 0},
            },
            "y": {"field": "series", "type": "nominal", "title": None, "sort": series, "axis": {"labelLimit": 320}},
            "color": {
                "field": "severity",
                "type": "nominal",
                "scale": {"domain": severities, "range": [SEVERITY_COLOURS.get(s, "#adb5bd") for s in severities]},
                "legend": {"title": "severity", "orient": "top"},
            },
            "opacity": {
                "field": "status",
                "type": "nominal",
                "scale": {"domain": ["posted", "held"], "range": [1.0, 0.3]},
                "legend": {"title": "faded = held", "orient": "top"},
            },
            "tooltip": [{"field": "dt", "type": "temporal"}, {"field": "series"}, {"field": "severity"}],
        },
    }


def cost_trend_spec(rows: Sequence[Mapping[str, Any]], start: dt.date, end: dt.date) -> dict[str, Any]:
    """GPU cost per day by category, API and Studio side by side. rows: {dt, vertical, cost_category, cost}."""
    values = [
        {"dt": _iso(r["dt"]), "vertical": str(r["vertical"]).upper(), "category": str(r["cost_category"]),
         "cost": float(r["cost"] or 0.0)}
        for r in sorted(rows, key=lambda r: (r["dt"], str(r["vertical"]), str(r["cost_category"])))
    ]  # fmt: skip
    categories = [c for c in ("inference", "idle", "overhead", "unused") if any(v["category"] == c for v in values)]
    categories += sorted({v["category"] for v in values} - set(categories))
    return {
        "$schema": SCHEMA,
        "background": "white",
        "padding": 8,
        "title": {"text": f"GPU cost by category, {start:%Y-%m-%d} – {end:%Y-%m-%d}", "anchor": "start"},
        "config": {"font": "sans-serif", "view": {"stroke": None}},
        "datasets": {"cost": values},
        "data": {"name": "cost"},
        "columns": 2,
        "facet": {"field": "vertical", "type": "nominal", "title": None, "sort": ["API", "STUDIO"]},
        "spec": {
            "width": 300,
            "height": 180,
            "mark": {"type": "area"},
            "encoding": {
                "x": {
                    "field": "dt",
                    "type": "temporal",
                    "timeUnit": "utcyearmonthdate",
                    "title": None,
                    "axis": {"format": "%b %d", "labelAngle": 0, "tickCount": 4},
                },
                "y": {
                    "field": "cost",
                    "type": "quantitative",
                    "title": "USD / day",
                    "stack": "zero",
                    "axis": {"format": "$,.0f"},
                },
                "color": {
                    "field": "category",
                    "type": "nominal",
                    "scale": {"domain": categories, "range": [COMPONENT_COLOURS.get(c, "#adb5bd") for c in categories]},
                    "legend": {"title": None, "orient": "bottom"},
                },
                "order": {"field": "category", "sort": "ascending"},
            },
        },
    }


# --- rendering -----------------------------------------------------------------------------------


def render_png(spec: Mapping[str, Any], scale: float = PNG_SCALE) -> bytes:
    """PNG bytes of a spec (vl-convert: offline, deterministic)."""
    import vl_convert

    return bytes(vl_convert.vegalite_to_png(dict(spec), vl_version=VEGA_LITE_VERSION, scale=scale))


def render_svg(spec: Mapping[str, Any]) -> str:
    """SVG markup of a spec, checked by `safe_svg`."""
    import vl_convert

    return safe_svg(vl_convert.vegalite_to_svg(dict(spec), vl_version=VEGA_LITE_VERSION))


class UnsafeSvgError(ValueError):
    """The SVG holds something a report must not inline (script, event handler, external link)."""


_SVG_NS = "{http://www.w3.org/2000/svg}"
_FORBIDDEN = {"script", "foreignObject", "iframe", "object", "embed", "image", "use", "a", "style"}


def safe_svg(svg: str) -> str:
    """Return `svg` when it is well-formed and free of scripts, handlers and external references."""
    try:
        root = ET.fromstring(svg)  # noqa: S314 - our own renderer's output, checked not trusted
    except ET.ParseError as exc:
        raise UnsafeSvgError(f"not well-formed SVG: {exc}") from None
    for el in root.iter():
        tag = el.tag.replace(_SVG_NS, "") if isinstance(el.tag, str) else ""
        if tag in _FORBIDDEN:
            raise UnsafeSvgError(f"SVG element <{tag}> is not allowed")
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise UnsafeSvgError(f"SVG event handler {local!r} is not allowed")
            if local in ("href", "src") or ("url(" in value.replace(" ", "").lower() and "url(#" not in value):
                raise UnsafeSvgError(f"SVG reference in {local!r} is not allowed")
    return svg


def chart_filename(chart: ChartInput) -> str:
    """A safe file name for the Slack upload: only [a-z0-9_-]."""
    raw = f"{chart.alert_date:%Y%m%d}-{chart.domain}-{chart.scope}-{chart.metric}"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in raw.lower())[:100] + ".png"


def render_chart(chart: ChartInput, png: bool = True, svg: bool = True) -> Chart:
    spec = chart_spec(chart)
    return Chart(
        key=chart.key,
        spec=spec,
        png=render_png(spec) if png else b"",
        svg=render_svg(spec) if svg else "",
        filename=chart_filename(chart),
    )
