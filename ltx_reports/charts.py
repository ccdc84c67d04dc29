"""The report's own charts: the alert history and the GPU cost trend (Vega-Lite, like an incident's chart in
alerting.charts), and every chart of the page as SVG, re-checked by `safe_svg` before it is inlined."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import vl_convert

from alerting.charts import (
    BASE,
    COMPONENT_COLOURS,
    SEVERITY_COLOURS,
    VEGA_LITE_VERSION,
    WIDTH,
    vl_colour,
    vl_field,
    x_time,
)


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
        "x": x_time(scale=days),
        "y": vl_field("series", "nominal", title=None, sort=series, axis={"labelLimit": 320}),
        "color": vl_colour("severity", severities, SEVERITY_COLOURS, {"title": "severity", "orient": "top"}),
        "opacity": vl_field("status", "nominal", scale=status, legend={"title": "faded = held", "orient": "top"}),
        "tooltip": [vl_field("dt", "temporal"), {"field": "series"}, {"field": "severity"}],
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
        "x": x_time(),
        "y": vl_field("cost", "quantitative", title="USD / day", stack="zero", axis={"format": "$,.0f"}),
        "color": vl_colour("cost_category", categories, COMPONENT_COLOURS, {"title": None, "orient": "bottom"}),
        "order": {"field": "cost_category", "sort": "ascending"},
    }
    facet = vl_field("vertical", "nominal", title=None, sort=["API", "STUDIO"])
    spec = {"width": 300, "height": 180, "mark": {"type": "area"}, "encoding": encoding}
    return _overview(f"GPU cost by category, {start} – {end}", "cost", values, columns=2, facet=facet, spec=spec)


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
