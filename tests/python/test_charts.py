"""Charts: the Vega-Lite spec's structure and data (not pixels), and valid PNG / safe SVG renderings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from alerting.charts import (
    KIND_BASELINE,
    KIND_DAY,
    KIND_HISTORY,
    SEVERITY_COLOURS,
    SeriesPoint,
    chart_filename,
    chart_spec,
    render_png,
)
from alerting.model import Alert, CostComponent
from alerting.values import sigma_label
from ltx_reports.charts import UnsafeSvgError, history_spec, render_svg, safe_svg
from tests.python.png_tools import decode, size

DAY = dt.date(2026, 11, 17)  # a Tuesday
BASELINE = [3_100_000.0, 2_900_000.0, 3_500_000.0, 2_600_000.0, 3_000_000.0,
            3_200_000.0, 2_700_000.0, 3_600_000.0, 3_000_000.0, 3_084_550.0]  # fmt: skip


def usage_input(
    severity: str = "warning", scope: str = "free", points: tuple[SeriesPoint, ...] = (), **kw: object
) -> tuple[Alert, tuple[SeriesPoint, ...]]:
    """The worked example's numbers (mu 3,068,455, sigma 426,074) over a 13-week same-weekday series."""
    series = [SeriesPoint(DAY - dt.timedelta(days=7 * w), 2_800_000.0 + w, False, False) for w in (12, 11)]
    series += [SeriesPoint(DAY - dt.timedelta(days=7 * (10 - i)), v, True, False) for i, v in enumerate(BASELINE)]
    series.append(SeriesPoint(DAY, 4_497_947.0, False, True))
    base = dict(
        alert_id="a-free-tokens", domain="usage", scope=scope, metric="tokens", unit="tokens", alert_date=DAY,
        current_value=4_497_947.0, baseline_mean=3_068_455.0, baseline_stddev=426_074.0, z_score=3.355034,
        severity=severity, incident_id="i-free", team="product", rule="usage_zscore", direction="increase",
        baseline_kind="same_weekday",
    )  # fmt: skip
    base.update(kw)
    return Alert(**base), points or tuple(series)  # type: ignore[arg-type]


def component(name: str, delta: float) -> CostComponent:
    return CostComponent(component=name, delta_usd=delta, share_of_change=None)


def cost_input(components: tuple[CostComponent, ...] = (), **kw: object) -> tuple[Alert, tuple[SeriesPoint, ...]]:
    points = []
    for i in range(35):
        day = DAY - dt.timedelta(days=34 - i)
        points.append(SeriesPoint(day, 500.0 + 10 * (i % 7), 34 - i <= 7 and i != 34, i == 34))
    alert = Alert(
        alert_id="c-api-idle", domain="gpu_cost", scope="api", metric="idle_cost", unit="usd", alert_date=DAY,
        current_value=900.0, baseline_mean=540.0, baseline_stddev=25.0, z_score=14.4, severity="critical",
        decomposition=components, threshold=800.0, threshold_kind="absolute",
        baseline_stddev_kind="pooled_within_weekday", incident_id="i-api", team="api", rule="idle_cost_threshold",
        direction="increase", baseline_kind="same_weekday",
    )  # fmt: skip
    return dataclasses.replace(alert, **kw), tuple(points)  # type: ignore[arg-type]


def layer_with(spec: dict, mark: str, data: str) -> list[dict]:
    return [
        layer
        for layer in spec.get("layer", [])
        if (layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]) == mark
        and layer["data"]["name"] == data
    ]


def test_usage_spec_bands_are_mu_plus_minus_k_sigma_computed_independently() -> None:
    spec = chart_spec(*usage_input())
    bands = {b["k"]: (b["lo"], b["hi"]) for b in spec["datasets"]["bands"]}
    mu, sigma = 3_068_455.0, 426_074.0
    for k in (2.0, 3.0, 4.5):
        np.testing.assert_allclose(bands[k], np.array([mu - k * sigma, mu + k * sigma]), rtol=1e-12)
    assert sorted(bands) == [2.0, 3.0, 4.5]
    assert spec["datasets"]["mu"] == [{"mu": mu}]
    [rect] = layer_with(spec, "rect", "bands")
    assert rect["encoding"]["y"]["field"] == "lo" and rect["encoding"]["y2"]["field"] == "hi"
    [rule] = layer_with(spec, "rule", "mu")
    assert rule["encoding"]["y"]["field"] == "mu"


def test_usage_spec_marks_exactly_the_ten_baseline_points_and_the_day() -> None:
    spec = chart_spec(*usage_input())
    series = spec["datasets"]["series"]
    assert len(series) == 13
    assert [r["dt"] for r in series] == sorted(r["dt"] for r in series)
    baseline = [r for r in series if r["kind"] == KIND_BASELINE]
    assert [r["value"] for r in baseline] == BASELINE
    assert [r["kind"] for r in series[:2]] == [KIND_HISTORY, KIND_HISTORY]
    [day] = [r for r in series if r["kind"] == KIND_DAY]
    assert day == {"dt": "2026-11-17", "day": "Nov 17", "value": 4_497_947.0, "kind": KIND_DAY}
    # the marked points are the ones mu is the mean of (numpy, independently of the spec's mu)
    assert np.mean([r["value"] for r in baseline]) == pytest.approx(spec["datasets"]["mu"][0]["mu"], rel=1e-12)
    assert "10 Tuesdays" in spec["title"]["subtitle"][1]
    assert "z 3.36" in spec["title"]["subtitle"][0] and "WARNING" in spec["title"]["subtitle"][0]


@pytest.mark.parametrize("severity", ["notice", "warning", "critical"])
def test_the_days_point_is_coloured_by_severity(severity: str) -> None:
    spec = chart_spec(*usage_input(severity=severity))
    day_layers = [
        layer
        for layer in spec["layer"]
        if layer.get("transform") == [{"filter": {"field": "kind", "equal": KIND_DAY}}]
        and layer["mark"]["type"] == "point"
    ]
    assert [layer["mark"]["color"] for layer in day_layers] == [SEVERITY_COLOURS[severity]]
    others = {c for s, c in SEVERITY_COLOURS.items() if s != severity}
    assert day_layers[0]["mark"]["color"] not in others


def test_no_sigma_no_bands() -> None:
    spec = chart_spec(*usage_input(baseline_stddev=None, z_score=None))
    assert spec["datasets"]["bands"] == []
    assert not layer_with(spec, "rect", "bands")
    spec = chart_spec(*usage_input(baseline_stddev=0.0))
    assert spec["datasets"]["bands"] == []


def test_cost_spec_draws_the_alerts_own_baseline_threshold_and_decomposition_bar() -> None:
    # issue 20: the chart drew a rolling 28-day band that was not the alert's baseline and said
    # "filled: the 4 day(s)" beside an alert of 8 points; it now draws the alert's mu and bands
    comps = (component("idle", 348.2), component("request_volume", 4.1), component("request_rate", -2.0))
    # a contributor row details a component: not drawn again in the bar
    comps += (CostComponent(component="idle", delta_usd=300.0, share_of_change=None, contributor_type="gpu_type",
                            contributor="H100"),)  # fmt: skip
    chart = cost_input(comps)
    spec = chart_spec(*chart)
    main, bar = spec["hconcat"]
    assert "band" not in spec["datasets"]
    bands = {round(b["k"], 1): (b["lo"], b["hi"]) for b in spec["datasets"]["bands"]}
    assert bands == {2.0: (490.0, 590.0), 3.0: (465.0, 615.0), 4.5: (427.5, 652.5)}  # 540 ± k x 25
    assert spec["datasets"]["mu"] == [{"mu": 540.0}]
    assert spec["title"]["subtitle"][1:] == [  # three short lines: a wide subtitle would shrink the whole chart
        "μ of the 7 filled days the alert compared with: $540.00 · pooled within-weekday σ $25.00",
        "σ over every day of those weeks, each against its weekday; bands ±2σ / ±3σ / ±4.5σ",
    ]
    assert spec["datasets"]["threshold"] == [{"threshold": 800.0}]
    assert any(layer["data"]["name"] == "threshold" for layer in main["layer"])
    series = spec["datasets"]["series"]
    assert sum(r["kind"] == KIND_BASELINE for r in series) == 7
    assert [r["component"] for r in spec["datasets"]["components"]] == ["request volume", "request rate", "idle"]
    assert sum(r["delta_usd"] for r in spec["datasets"]["components"]) == pytest.approx(350.3)
    assert bar["encoding"]["y"]["stack"] == "zero" and bar["mark"]["type"] == "bar"
    assert "+$350.30" in bar["title"]["text"][0]


def test_an_expected_value_is_not_called_the_mean_of_the_days_it_came_from() -> None:
    """Year 4's Studio Saturday: $244.05 against $210.87 'expected after a typical Saturday change', computed from one
    filled day of $357.59; the subtitle said 'μ of the 1 filled day the alert compared with: $210.87'. A mean kind
    keeps its μ (the test above)."""
    alert, points = cost_input(
        baseline_kind="same_weekday_transition", baseline_mean=210.87, baseline_stddev=None, z_score=None,
        current_value=244.05, pct_change=244.05 / 210.87 - 1, severity="warning",
    )  # fmt: skip
    subtitle = chart_spec(alert, points)["title"]["subtitle"]
    assert subtitle == ["$244.05 · WARNING · +15.7%", f"Expected after a typical {DAY:%A} change: $210.87"]
    assert not any("μ" in line for line in subtitle)


def test_cost_spec_without_components_is_a_single_view() -> None:
    spec = chart_spec(*cost_input())
    assert "hconcat" not in spec and spec["layer"]


def test_spec_is_deterministic_json() -> None:
    assert chart_spec(*usage_input()) == chart_spec(*usage_input())
    assert chart_spec(*cost_input()) == chart_spec(*cost_input())


def test_png_is_a_valid_png_of_sensible_size() -> None:
    alert, points = usage_input()
    png, svg = render_png(chart_spec(alert, points)), render_svg(chart_spec(alert, points))
    width, height = size(png)
    assert 800 <= width <= 2400 and 400 <= height <= 1600, (width, height)
    pixels = decode(png)
    assert pixels.shape[:2] == (height, width)
    assert pixels.std() > 10  # something is drawn, not a blank canvas
    assert svg.startswith("<svg") and "</svg>" in svg
    assert chart_filename(alert) == "20261117-usage-free-tokens.png"


def test_svg_escapes_a_hostile_scope() -> None:
    hostile = '<script>alert(1)</script>" onload="x'
    svg = render_svg(chart_spec(*usage_input(scope=hostile)))
    root = ET.fromstring(svg)  # noqa: S314 - our renderer's output
    assert not [el for el in root.iter() if el.tag.endswith("script")]
    assert not [el for el in root.iter() if any(a.lower().startswith("onload") for a in el.attrib)]
    titles = [el.text or "" for el in root.iter() if el.tag.endswith("text") and hostile in (el.text or "")]
    assert titles, "the scope should arrive as inert text"
    assert "&lt;script&gt;" in svg and "<script>" not in svg


@pytest.mark.parametrize(
    "svg",
    [
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil.example/p)"/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        "<svg><unclosed></svg>",
    ],
)
def test_safe_svg_rejects_scripts_handlers_and_references(svg: str) -> None:
    with pytest.raises(UnsafeSvgError):
        safe_svg(svg)


def test_safe_svg_accepts_local_clip_paths() -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><g clip-path="url(#clip1)"><rect/></g></svg>'
    assert safe_svg(svg) == svg


def test_filename_is_safe() -> None:
    name = chart_filename(usage_input(scope="../../etc/<x>")[0])
    assert re.fullmatch(r"[a-z0-9_-]+\.png", name), name


def test_history_spec_one_cell_per_alert_row_held_faded() -> None:
    rows = [
        {"dt": "2026-11-01", "series": "Free – Tokens", "severity": "warning", "status": "posted"},
        {"dt": "2026-11-02", "series": "Enterprise Pilot – DAU", "severity": "critical", "status": "held"},
    ]
    spec = history_spec(rows, dt.date(2026, 8, 25), dt.date(2026, 11, 22))
    assert [(v["dt"], v["status"]) for v in spec["datasets"]["alerts"]] == [
        ("2026-11-01", "posted"),
        ("2026-11-02", "held"),
    ]
    assert spec["encoding"]["opacity"]["scale"] == {"domain": ["posted", "held"], "range": [1.0, 0.3]}
    assert spec["encoding"]["color"]["scale"]["domain"] == ["warning", "critical"]
    png = render_png(spec, scale=1)
    assert size(png)[0] > 300


def test_alert_only_chart_when_the_build_has_no_series() -> None:
    """Without fct_alert_chart_series the chart still places the day against the alert's bands."""
    only_day = (SeriesPoint(DAY, 4_497_947.0, False, True),)
    spec = chart_spec(*usage_input(points=only_day))
    assert [r["kind"] for r in spec["datasets"]["series"]] == [KIND_DAY]
    assert len(spec["datasets"]["bands"]) == 3
    assert "no series" in spec["title"]["subtitle"][1]
    cost = chart_spec(cost_input()[0], only_day)
    assert cost["datasets"]["mu"] == [{"mu": 540.0}] and len(cost["datasets"]["bands"]) == 3
    assert any(layer["data"]["name"] == "mu" for layer in cost["layer"])


def test_bands_of_a_non_negative_metric_stop_at_zero() -> None:
    # issue 20: a cost chart's axis ran to -$100 (mean - 4.5 sigma of a wide sigma)
    chart = cost_input(baseline_stddev=200.0)
    lows = [b["lo"] for b in chart_spec(*chart)["datasets"]["bands"]]
    assert lows == [0.0, 0.0, 140.0]  # 540 - 4.5 x 200 and 540 - 3 x 200 cut at 0; 540 - 2 x 200
    signed = usage_input(points=(SeriesPoint(DAY - dt.timedelta(days=7), -5.0, True, False),
                                 SeriesPoint(DAY, 4_497_947.0, False, True)), baseline_stddev=1_000_000.0)  # fmt: skip
    assert min(b["lo"] for b in chart_spec(*signed)["datasets"]["bands"]) < 0  # a metric that can be negative


def test_sigma_is_named_by_its_kind() -> None:
    assert sigma_label("pooled_within_weekday") == "pooled within-weekday σ"
    assert sigma_label("sample") == "sample σ" and sigma_label(None) == "σ"
    assert "sample σ 426,074" in chart_spec(*usage_input(baseline_stddev_kind="sample"))["title"]["subtitle"][1]
