"""The report in a real browser: headless Chromium opens index.html from disk, offline.

Checked through the DevTools protocol: no console error, no uncaught exception, no error log
entry (a CSP violation or a blocked load would be one), and no request other than the file
itself; the incidents and their inline SVG charts are in the DOM; the worked example (z 3.36)
reads as such; the full-page screenshot (written under data/test/report-browser/) is not blank.
A negative control proves the checks can fail: a page that tries to load from the network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alerting.cli import main
from tests.python.headless_chromium import chromium_binary, visit
from tests.python.png_tools import decode
from tests.python.test_report import DAY, FIXTURE_ALERTS, make_marts

REPO = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("LTX_REPORT_TEST_OUT", REPO / "data" / "test" / "report-browser"))

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium() -> None:
    assert chromium_binary(), "chromium is not installed: `make test-report` installs Debian's chromium"


DOM_PROBE = """JSON.stringify({
  incidents: Array.from(document.querySelectorAll('article.incident')).map(a => ({
    id: a.id, severity: a.dataset.severity, title: a.querySelector('h3').innerText,
    charts: a.querySelectorAll('.chart svg').length,
    facts: Array.from(a.querySelectorAll('dl.facts div')).map(d => d.innerText.replace(/\\s+/g, ' ').trim()),
  })),
  svgs: document.querySelectorAll('svg').length,
  sections: Array.from(document.querySelectorAll('main > section')).map(s => s.id),
  scripts: document.scripts.length,
  width: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  text: document.body.innerText.slice(0, 200000),
  cramped: CRAMPED,
})"""
# Chart text the browser cannot show: a text outside its SVG (clipped) or a legend label under another legend
# label or symbol. vl-convert lays the chart out with its own font metrics; a browser whose font is wider than
# those overflows them (Liberation Sans measured, DejaVu Sans shown: "±3σ to ±4.5σ (warning" under a symbol).
CRAMPED_PROBE = """Array.from(document.querySelectorAll('svg')).flatMap((svg, i) => {
  const box = svg.getBoundingClientRect(), rect = e => e.getBoundingClientRect();
  const outside = Array.from(svg.querySelectorAll('text')).filter(t => { const r = rect(t);
    return r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
      || r.bottom > box.bottom + 1); }).map(t => 'svg ' + i + ' clips ' + t.textContent);
  const labels = Array.from(svg.querySelectorAll('.role-legend-label text'));
  const hit = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const overlaps = labels.flatMap(l => [...labels, ...svg.querySelectorAll('.role-legend-symbol path')]
    .filter(m => m !== l && hit(rect(l), rect(m)))
    .map(m => 'svg ' + i + ': ' + l.textContent + ' under a legend mark'));
  return [...outside, ...overlaps];
})"""
DOM_PROBE = DOM_PROBE.replace("CRAMPED", CRAMPED_PROBE)


def non_blank(png: bytes) -> tuple[float, int]:
    """(pixel standard deviation, distinct colours in a sample) of a screenshot."""
    pixels = decode(png)
    sample = pixels[:: max(1, pixels.shape[0] // 400), :: max(1, pixels.shape[1] // 300), :3].reshape(-1, 3)
    return float(pixels.std()), len({tuple(p) for p in sample.tolist()})


def open_report(path: Path, **kw: object):  # type: ignore[no-untyped-def]
    result = visit(path.resolve().as_uri(), DOM_PROBE, **kw)  # type: ignore[arg-type]
    return result, json.loads(result.evaluated)


def assert_clean(result, page_url: str) -> None:  # type: ignore[no-untyped-def]
    assert result.errors == [], result.errors
    assert [u for u in result.requests if u != page_url] == [], result.requests


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    marts = make_marts(tmp / "marts.duckdb", FIXTURE_ALERTS, health=True)
    out = tmp / "report"
    assert main(["report", "--date", DAY.isoformat(), "--out", str(out)], {"LTX_DUCKDB_PATH": str(marts)}) == 0
    return out / "index.html"


def test_worked_example_renders_offline_with_its_chart(fixture_report: Path) -> None:
    result, dom = open_report(fixture_report)
    assert_clean(result, fixture_report.resolve().as_uri())
    assert dom["scripts"] == 0
    assert dom["sections"] == ["incidents", "history", "costs", "health", "backtest", "feedback"]
    [free] = [i for i in dom["incidents"] if "Free – Tokens" in i["title"]]
    assert free["severity"] == "warning" and free["charts"] == 1
    assert "z 3.36" in free["facts"] and "Current 4,497,947" in free["facts"]
    assert dom["svgs"] >= 2  # the incident charts and the history
    assert dom["cramped"] == []
    assert "<script>fetch(" in dom["text"]  # the hostile org name shows as text, never runs
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fixture-report.png").write_bytes(result.screenshot)
    std, colours = non_blank(result.screenshot)
    assert std > 5 and colours > 20, (std, colours)


def test_phone_width_has_no_horizontal_scroll(fixture_report: Path) -> None:
    result, dom = open_report(fixture_report, width=390, height=844, mobile=True)
    assert_clean(result, fixture_report.resolve().as_uri())
    assert dom["width"] <= dom["viewport"] + 1, (dom["width"], dom["viewport"])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "fixture-report-phone.png").write_bytes(result.screenshot)
    assert non_blank(result.screenshot)[0] > 5


def test_real_build_report(test_duckdb: Path, tmp_path: Path) -> None:
    """The `make test-dbt` build's latest day, as `make report` writes it."""
    out = tmp_path / "real"
    assert main(["report", "--out", str(out)], {"LTX_DUCKDB_PATH": str(test_duckdb)}) == 0
    page = out / "index.html"
    result, dom = open_report(page)
    assert_clean(result, page.resolve().as_uri())
    assert dom["incidents"], "the test build's latest day has incidents"
    assert all(i["charts"] == 1 for i in dom["incidents"] if i["id"] and "data_health" not in i["id"])
    assert dom["cramped"] == []
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "test-build-report.png").write_bytes(result.screenshot)
    std, colours = non_blank(result.screenshot)
    assert std > 5 and colours > 20


def test_negative_control_network_and_script_are_caught(tmp_path: Path) -> None:
    """The same checks on a page that tries the network: they must fail (else they prove nothing)."""
    from ltx_reports.report import CSP

    page = tmp_path / "bad.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="{CSP}"></head>'
        '<body><p>x</p><img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom")</script></body></html>',
        encoding="utf-8",
    )
    result, _ = visit(page.as_uri(), "document.body.innerText"), None
    assert result.errors, "a blocked image and a blocked script must show up as errors"
    assert any("Content Security Policy" in e or "csp" in e.lower() for e in result.errors), result.errors
    cramped = tmp_path / "cramped.html"  # a label past its SVG's edge, a legend label under a legend symbol
    cramped.write_text(
        '<!DOCTYPE html><html><body><svg width="60" height="40"><text x="5" y="20">a label too long</text>'
        '<g class="role-legend-label"><text x="5" y="35">label</text></g>'
        '<g class="role-legend-symbol"><path d="M10,28h8v8h-8z"/></g></svg></body></html>',
        encoding="utf-8",
    )
    found = json.loads(visit(cramped.as_uri(), f"JSON.stringify({CRAMPED_PROBE})").evaluated)
    assert found == ["svg 0 clips a label too long", "svg 0: label under a legend mark"], found
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>", encoding="utf-8")
    shot = visit(blank.as_uri(), "1").screenshot
    std, colours = non_blank(shot)
    assert std < 1 and colours <= 2  # a blank page fails the non-blank check
