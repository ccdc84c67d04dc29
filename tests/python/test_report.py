"""The HTML report: content, escaping, self-containment, degradation, the CLI and report_url."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest

from alerting.charts import incident_charts
from alerting.cli import main, report_url
from alerting.model import alert_from_row, group_incidents
from alerting.warehouse import DuckDBBackend, read_alert_history
from ltx_reports.report import build_report
from tests.python.alerting_support import ALERT_COLUMNS

DAY = dt.date(2026, 11, 17)
COST_DAY = DAY + dt.timedelta(days=1 - 3)
HOSTILE = '<img src=x onerror="alert(1)">'
HOSTILE_ORG = "<script>fetch('https://evil.example')</script>"
BASELINE = [3_100_000.0, 2_900_000.0, 3_500_000.0, 2_600_000.0, 3_000_000.0,
            3_200_000.0, 2_700_000.0, 3_600_000.0, 3_000_000.0, 3_084_550.0]  # fmt: skip


def alert(alert_id: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict(
        alert_id=alert_id, incident_id="inc-" + alert_id, alert_date=DAY, domain="usage", team="product",
        scope="free", metric="tokens", rule="usage_zscore", threshold_kind="z", baseline_kind="same_weekday",
        unit="tokens", current_value=4_497_947.0, baseline_mean=3_068_455.0, baseline_stddev=426_074.0,
        baseline_points=10, z_score=(4_497_947.0 - 3_068_455.0) / 426_074.0, robust_z_score=3.1,
        pct_change=(4_497_947.0 - 3_068_455.0) / 3_068_455.0, threshold=2.0, severity="warning",
        direction="increase", is_suppressed=False, suppression_reason=None, is_postable=True, hold_reason=None,
        has_insufficient_baseline=False, is_low_variance=False, has_baseline_outlier=False,
        baseline_outlier_date=None, is_incident_primary=True, drivers_summary=None,
        recommended_action="WARNING: no same-direction alert yesterday; watch whether it repeats tomorrow.",
        is_loud=True, quiet_reason=None, loud_reason="large_effect",
    )  # fmt: skip
    row.update(kw)
    row["is_loud"] = row["is_loud"] and row["is_postable"]  # as fct_alerts: a held alert is never loud
    row["loud_reason"] = row["loud_reason"] if row["is_loud"] else None
    return row


def worked_example_series(alert_id: str) -> list[tuple[Any, ...]]:
    rows = [(alert_id, DAY, DAY - dt.timedelta(days=7 * w), 2_800_000.0, False, False) for w in (12, 11)]
    rows += [(alert_id, DAY, DAY - dt.timedelta(days=7 * (10 - i)), v, True, False) for i, v in enumerate(BASELINE)]
    rows.append((alert_id, DAY, DAY, 4_497_947.0, False, True))
    return rows


def make_marts(path: Path, alerts: list[dict[str, Any]], series: bool = True, health: bool = False) -> Path:
    con = duckdb.connect(str(path))
    con.execute("create schema if not exists main_marts")
    cols = ", ".join(f"{c} {t}" for c, t in ALERT_COLUMNS)
    con.execute(f"create table main_marts.fct_alerts ({cols})")
    for a in alerts:
        con.execute(
            f"insert into main_marts.fct_alerts values ({', '.join('?' for _ in ALERT_COLUMNS)})",
            [a.get(c) for c, _ in ALERT_COLUMNS],
        )
    con.execute(
        "create table main_marts.fct_usage_alert_drivers (alert_id varchar, contributor_type varchar,"
        " contributor varchar, value double, baseline_mean double, delta double, share_of_delta double,"
        " contributor_rank bigint)"
    )
    con.execute(
        "insert into main_marts.fct_usage_alert_drivers values"
        " ('u-free-tokens', 'concentration', 'top-5 users', 2000000, 700000, 1300000, 0.91, 1),"
        " ('u-ent-dau', 'organization', ?, 3, 15, -12, 1.0, 1)",
        [HOSTILE_ORG],
    )
    if series:
        con.execute(
            "create table main_marts.fct_alert_chart_series (alert_id varchar, alert_date date, dt date,"
            " value double, is_baseline_point boolean, is_alert_day boolean)"
        )
        for a in alerts:
            if a["domain"] == "usage":
                con.executemany(
                    "insert into main_marts.fct_alert_chart_series values (?, ?, ?, ?, ?, ?)",
                    worked_example_series(a["alert_id"]),
                )
    if health:
        con.execute(
            "create table main_marts.fct_data_health (dt date, source varchar, row_count bigint, judged_rows bigint,"
            " expected_rows double, completeness double, status varchar, status_reason varchar)"
        )
        con.execute(  # GPU costs: judged on the 12 infrastructure rows, not the 2,000 loaded
            "insert into main_marts.fct_data_health values (?, 'usage', 380, 380, 1000, 0.38, 'incomplete', ?),"
            " (?, 'gpu_costs', 2000, 12, 12, 1.0, 'complete', null)",
            [DAY, "38 % of the expected rows <for a Tuesday>", DAY],
        )
    con.close()
    return path


FIXTURE_ALERTS = [
    alert("u-free-tokens"),
    alert(
        "u-ent-dau", scope="enterprise_contract", metric="dau", unit="count", current_value=12.0,
        baseline_mean=60.0, baseline_stddev=8.0, z_score=-6.0, pct_change=-0.8, severity="critical",
        direction="decrease", is_postable=False, hold_reason="muted", has_baseline_outlier=True,
        baseline_outlier_date=dt.date(2026, 10, 13),
    ),
    alert("u-heavy-dau", scope=HOSTILE, metric="dau", unit="count", severity="notice", z_score=2.5, is_loud=False,
          quiet_reason="below_severity"),
    alert(
        "c-api-idle", domain="gpu_cost", team="api", alert_date=COST_DAY, scope="api", metric="idle_cost",
        unit="usd", rule="cost_zscore", baseline_kind="rolling", current_value=512.04, baseline_mean=163.78,
        baseline_stddev=40.0, z_score=8.7, pct_change=2.13, severity="critical", incident_id="inc-cost",
        drivers_summary="idle +$348.26 (98 % of the change) <b>", loud_reason="family_wise",
    ),
    alert(
        "c-api-infra", domain="gpu_cost", team="api", alert_date=COST_DAY, scope="api", metric="infra_cost",
        unit="usd", rule="day_over_day_jump", baseline_kind="previous_day", current_value=700.0,
        baseline_mean=350.0, baseline_stddev=None, z_score=None, pct_change=1.0, severity="warning",
        incident_id="inc-cost", is_incident_primary=False, loud_reason="threshold",
    ),
]  # fmt: skip


@pytest.fixture
def marts(tmp_path: Path) -> Path:
    return make_marts(tmp_path / "marts.duckdb", FIXTURE_ALERTS)


class _Parts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str]] = []
        self.styles: list[str] = []
        self.tags: set[str] = set()
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._in_style = tag == "style"
        self.attrs += [(k, v or "") for k, v in attrs if k not in ("content",)]

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def page_parts(html: str) -> tuple[list[tuple[str, str]], list[str], set[str]]:
    """Every attribute (name, value), every <style> body and every tag name of a page."""
    parser = _Parts()
    parser.feed(html)
    return parser.attrs, parser.styles, parser.tags


def build(path: Path, day: dt.date = DAY) -> str:
    backend = DuckDBBackend(path, "main_marts", "main_alerting", read_only=True)
    try:
        return build_report(backend, day, day + dt.timedelta(days=1 - 3), generated_at=dt.datetime(2026, 11, 18, 7))
    finally:
        backend.close()


def section(html: str, start_id: str, end_marker: str) -> str:
    start = html.index(f'id="{start_id}"')
    return html[start : html.index(end_marker, start)]


def test_worked_example_incident_with_chart(marts: Path) -> None:
    html = build(marts)
    incidents = section(html, "incidents", 'id="held"')
    assert "Free – Tokens" in incidents
    assert "<dt>z</dt><dd>3.36</dd>" in incidents
    assert "4,497,947" in incidents and "3,068,455" in incidents and "426,074" in incidents
    assert "+46.6%" in incidents
    article = incidents[incidents.index('id="incident-inc-u-free-tokens"') :]
    article = article[: article.index("</article>")]
    assert 'data-severity="warning"' in article
    assert article.count("<svg") == 1  # its chart, inline
    assert "top-5 users" in article  # drivers
    assert "WARNING: no same-direction alert yesterday" in article  # action


def test_quiet_incidents_apart_each_with_why(tmp_path: Path) -> None:
    """Postable is not posted: a loud incident notifies its channel and says which way it passed (fct_alerts
    .loud_reason, the model's first for an incident: family-wise before threshold), a quiet one is listed apart
    with the reason the Summary: message gives (compose.why_quiet), its data escaped like any other."""
    two_users = alert(
        "u-paying-videos",
        scope="paying",
        metric="video_generations",
        unit="count",
        current_value=150.0,
        baseline_mean=100.0,
        z_score=3.5,
        pct_change=0.5,
        is_loud=False,
        quiet_reason="few_users",
    )
    html = build(make_marts(tmp_path / "marts.duckdb", [*FIXTURE_ALERTS, two_users]))
    loud = section(html, "incidents", 'id="quiet"')
    quiet = section(html, "quiet", 'id="held"')
    assert "2 loud incidents," in loud and "Free – Tokens" in loud and "Paying – Video generations" not in loud
    assert "loud: a large change of a series that moves the product, surprising on its own" in loud
    assert "loud: surprising across every series tested that day" in loud and "loud: a fixed threshold" not in loud
    assert "Quiet (2)" in quiet
    assert "Paying – Video generations" in quiet
    assert "quiet · Why quiet: one or two users made most of the change: their accounts&#39; event" in quiet
    assert "quiet · Why quiet: a NOTICE never notifies on its own" in quiet
    assert "&lt;img src=x" in quiet and HOSTILE not in quiet
    assert "posted to Slack" not in html


def test_held_and_muted_shown_apart_with_reason(marts: Path) -> None:
    html = build(marts)
    posted = section(html, "incidents", 'id="held"')
    held = section(html, "held", 'id="history"')
    assert "Enterprise Contract – DAU" not in posted
    assert "Enterprise Contract – DAU" in held and "held: muted" in held
    assert "The baseline holds an outlier on 2026-10-13" in held


def test_the_gpu_sources_data_health_is_reported_for_the_cost_day_as_it_is_posted(tmp_path: Path) -> None:
    """warehouse.on_cost_day decides the day a series is reported for, here as in the runner: the data health
    of the GPU source belongs to the finalised cost day, that of the usage source to the usage day."""
    health = dict(domain="data_health", team="data", metric="rows", unit="count", rule="data_health")
    rows = [
        alert("d-gpu-cost-day", scope="gpu_costs", alert_date=COST_DAY, **health),
        alert("d-gpu-usage-day", scope="gpu_costs", **health),
        alert("d-usage-day", scope="usage", **health),
        alert("d-usage-cost-day", scope="usage", alert_date=COST_DAY, **health),
    ]
    shown = re.findall(r'id="incident-([^"]+)"', build(make_marts(tmp_path / "health.duckdb", rows)))
    assert sorted(shown) == ["inc-d-gpu-cost-day", "inc-d-usage-day"]


def test_cost_incident_groups_its_rules(marts: Path) -> None:
    html = build(marts)
    article = html[html.index('id="incident-inc-cost"') :]
    article = article[: article.index("</article>")]
    assert "API – Idle cost" in article and "day_over_day_jump" in article  # member line
    assert article.count('id="incident-') == 1
    assert "<dt>z</dt><dd>8.70</dd>" in article
    assert "<strong>Drivers:</strong> idle +$348.26 (98 % of the change) &lt;b&gt;" in article  # no structured rows


def test_a_cost_card_says_the_cause_line_its_action_points_at(marts: Path) -> None:
    """The actions of cost rules end 'check the cause line': the card says it, as the Slack post does (the
    decomposition: what the change is of, and its parts; 348.26 / 355.37 = 98 %)."""
    con = duckdb.connect(str(marts))
    con.execute(
        "create table main_marts.fct_gpu_cost_decomposition as select * from (values"
        " (?::date, 'api', 'idle', 'total', 'all', 348.26, 348.26 / 355.37, 'trailing_7d', 355.37, 346.74),"
        " (?::date, 'api', 'overhead', 'total', 'all', 7.11, 7.11 / 355.37, 'trailing_7d', 355.37, 346.74))"
        " t(dt, vertical, component, contributor_type, contributor, delta_usd, share_of_change, baseline_kind,"
        " infra_change, baseline_infra_cost)",
        [COST_DAY, COST_DAY],
    )
    con.close()
    card = section(build(marts), "incident-inc-cost", "</article>")
    cause = "infrastructure cost +$355.37 (+102.5%) vs 7-day average $346.74: idle +$348.26 (98% of the change)"
    assert f"<p><strong>Cause:</strong> {cause}" in card
    assert card.index("<strong>Cause:</strong>") < card.index("<strong>Action:</strong>")


def test_drivers_table_names_the_baseline_and_the_whole_its_shares_are_of(marts: Path) -> None:
    """Cost drivers are measured against the 7-day average, not the headline's same-weekday mean: the table says
    so, and its shares are of the contributors' change, not of the headline's."""
    con = duckdb.connect(str(marts))
    con.execute(
        "create table main_marts.fct_gpu_cost_alert_drivers as select * from (values"
        " ('c-api-idle', 'gpu_type', 'H100', 435.14, 101.99, 333.15, 0.65, 1, 'short_window_mean', 'usd'),"
        " ('c-api-idle', 'gpu_type', 'A100', 234.30, 54.92, 179.38, 0.35, 2, 'short_window_mean', 'usd'))"
        " t(alert_id, contributor_type, contributor, value, baseline_value, delta, share_of_delta,"
        " contributor_rank, baseline_kind, unit)"
    )
    con.close()
    html = build(marts)
    cost = html[html.index('id="incident-inc-cost"') :]
    cost = cost[: cost.index("</article>")]
    assert "each one's change vs its 7-day average" in cost
    assert '<th class="num">7-day average</th>' in cost and "share of the change</th>" in cost
    assert "+$333.15" in cost and "65%" in cost
    usage = html[html.index('id="incident-inc-u-free-tokens"') :]
    usage = usage[: usage.index("</article>")]
    assert '<th class="num">Same-weekday mean (10 pts)</th>' in usage  # usage drivers: the alert's own baseline


def test_every_data_string_is_escaped(marts: Path) -> None:
    html = build(marts)
    assert HOSTILE not in html and HOSTILE_ORG not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html or "&lt;img src=x onerror=&quot;" in html
    assert "&lt;script&gt;" in html
    assert "<script" not in html.lower()


def test_self_contained_no_network_reference(marts: Path) -> None:
    html = build(marts)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    assert csp
    policy = html_lib.unescape(csp.group(1))
    assert "default-src 'none'" in policy and "img-src data:" in policy
    assert "script-src" not in policy
    # no attribute (src, href, style, ...) and no <style> holds a URL other than the SVG namespaces;
    # a URL inside escaped data text (the hostile org) is inert text
    attrs, styles, tags = page_parts(html)
    namespaces = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    for name, value in attrs:
        if name.startswith("xmlns"):
            assert value in namespaces, (name, value)
            continue
        assert not re.search(r"(https?:|//|url\((?!#)|data:)", value, re.IGNORECASE), (name, value)
        if name in ("src", "href", "action", "poster", "srcset", "xlink:href"):
            assert value.startswith("#"), (name, value)  # only in-page anchors
    for css in styles:
        assert not re.search(r"url\(|@import|https?:", css, re.IGNORECASE)
    assert not tags & {"script", "link", "iframe", "img", "object", "embed", "image", "use", "base", "form"}, tags
    assert "@import" not in html and "<link" not in html and "<iframe" not in html


def test_degrades_without_optional_marts(tmp_path: Path) -> None:
    path = make_marts(tmp_path / "bare.duckdb", [alert("u-free-tokens")], series=False)
    html = build(path)
    assert "Free – Tokens" in html and "3.36" in html
    article = html[html.index('id="incident-inc-u-free-tokens"') :]
    article = article[: article.index("</article>")]
    assert article.count("<svg") == 1  # the day against the alert's own bands, without history
    assert "this build has no series for the alert" in article
    assert "no <code>fct_data_health</code> mart" in html
    assert "No GPU cost data in the window." in html
    assert "per ISO week and severity" in html or "ltx_reports.backtest" in html


def test_data_health_rows_escaped(tmp_path: Path) -> None:
    path = make_marts(tmp_path / "h.duckdb", [alert("u-free-tokens")], health=True)
    html = build(path)
    health = section(html, "health", 'id="backtest"')
    assert 'class="status-incomplete">incomplete' in health and "38%" in health
    assert '<td class="num">380</td><td class="num">380</td><td class="num">1,000</td>' in health
    # loaded, judged, expected: 2,000 rows loaded against an expectation of 12 read as a contradiction
    assert '<td class="num">2,000</td><td class="num">12</td><td class="num">12</td><td class="num">100%</td>' in health
    assert "&lt;for a Tuesday&gt;" in health


def test_no_alerts_day(marts: Path) -> None:
    html = build(marts, DAY - dt.timedelta(days=40))
    assert "No alert fired for usage day" in html


def test_cli_report_writes_index_html(marts: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["report", "--date", DAY.isoformat(), "--out", str(out)], {"LTX_DUCKDB_PATH": str(marts)})
    assert code == 0
    assert (out / "index.html").exists()
    assert capsys.readouterr().out.strip() == str((out / "index.html").resolve())
    assert "Free – Tokens" in (out / "index.html").read_text(encoding="utf-8")


def test_cli_report_default_folder_and_missing_db(
    marts: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--date", DAY.isoformat(), "--no-charts"], {"LTX_DUCKDB_PATH": str(marts)}) == 0
    assert (tmp_path / "reports" / DAY.isoformat() / "index.html").exists()
    assert main(["report"], {"LTX_DUCKDB_PATH": str(tmp_path / "nope.duckdb")}) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_report_default_date_is_the_latest_day(marts: Path, tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert main(["report", "--out", str(out), "--no-charts"], {"LTX_DUCKDB_PATH": str(marts)}) == 0
    assert f"LTX monitoring — {DAY:%a %Y-%m-%d}" in (out / "index.html").read_text(encoding="utf-8")


def test_incident_charts_one_chart_per_incident(marts: Path) -> None:
    backend = DuckDBBackend(marts, "main_marts", "main_alerting", read_only=True)
    try:
        alerts = read_alert_history(backend, DAY, DAY)
        charts = incident_charts(backend, alerts)
    finally:
        backend.close()
    assert set(charts) == {"inc-u-free-tokens", "inc-u-ent-dau", "inc-u-heavy-dau"}  # usage day only; all have series
    for key, (lead, spec) in charts.items():
        assert lead.incident_id == key and lead.is_incident_primary
        assert spec["datasets"]["series"][-1]["kind"] == "alert day"


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (None, None),
        ("", None),
        ("https://reports.example.com/ltx", "https://reports.example.com/ltx/2026-11-17/index.html"),
        ("https://reports.example.com/ltx/", "https://reports.example.com/ltx/2026-11-17/index.html"),
        ("http://10.0.0.5:8080/r", "http://10.0.0.5:8080/r/2026-11-17/index.html"),
    ],
)
def test_report_url(base: str | None, expected: str | None) -> None:
    env = {} if base is None else {"LTX_REPORT_BASE_URL": base}
    assert report_url(DAY, env) == expected


@pytest.mark.parametrize(
    "base",
    [
        "javascript:alert(1)",
        "ftp://host/x",
        "https://",
        "https://user:pw@host/x",
        "https://host/x?a=1",
        "https://host/x#frag",
        "https://host/a|b",
        "https://host/<!channel>",
        "https://host/a b",
        "https://ho st/",
    ],
)
def test_report_url_rejects_unsafe_bases(base: str) -> None:
    with pytest.raises(ValueError, match="LTX_REPORT_BASE_URL must be an http"):
        report_url(DAY, {"LTX_REPORT_BASE_URL": base})


def test_real_marts_charts_match_the_alerts_baseline(test_duckdb: Path) -> None:
    """On the `make test-dbt` build: every usage incident chart of the last day has the 10 baseline
    points the alert's mean and sigma come from (numpy on the chart's own data), and one day point."""
    backend = DuckDBBackend(test_duckdb, "main_marts", "main_alerting", read_only=True)
    try:
        [row] = backend.query("select max(alert_date) as d from main_marts.fct_alerts where domain = 'usage'")
        day = row["d"]
        alerts = [a for a in read_alert_history(backend, day - dt.timedelta(days=6), day) if a.domain == "usage"]
        charts = incident_charts(backend, alerts)
    finally:
        backend.close()
    assert charts, "no usage chart on the test build"
    checked = 0
    by_key = {i.incident_id: i.primary for i in group_incidents(alerts)}
    for key, (_, spec) in charts.items():
        series = spec["datasets"]["series"]
        baseline = np.array([r["value"] for r in series if r["kind"] == "baseline point"])
        assert sum(r["kind"] == "alert day" for r in series) == 1
        assert len(series) <= 16  # the day + baseline_lookback_weeks (15): excluded weeks widen it
        if len(baseline) < 10:
            continue
        assert len(baseline) == 10
        a = by_key.get(key)
        mu = np.mean(baseline)
        sd = np.std(baseline, ddof=1)
        bands = {b["k"]: (b["lo"], b["hi"]) for b in spec["datasets"]["bands"]}
        # usage metrics are counts (>= 0): a band stops at 0 (issue 20: no axis below 0)
        np.testing.assert_allclose(bands[3.0], [max(mu - 3 * sd, 0.0), mu + 3 * sd], rtol=1e-9)
        if a is not None and a.current_value is not None:
            [day_point] = [r for r in series if r["kind"] == "alert day"]
            assert day_point["value"] == pytest.approx(a.current_value)
        checked += 1
    assert checked, "no chart with a full baseline was checked"


def test_incident_charts_of_alert_objects(marts: Path) -> None:
    """The runner holds alerting.model.Alert objects: one chart per incident, the alert's own mean."""
    backend = DuckDBBackend(marts, "main_marts", "main_alerting", read_only=True)
    try:
        objs = [alert_from_row(a) for a in FIXTURE_ALERTS if a["alert_id"] in ("u-free-tokens", "u-ent-dau")]
        charts = incident_charts(backend, objs)
    finally:
        backend.close()
    assert set(charts) == {"inc-u-free-tokens", "inc-u-ent-dau"}
    assert charts["inc-u-free-tokens"][1]["datasets"]["mu"] == [{"mu": 3_068_455.0}]


def test_chart_for_hook_returns_filename_and_png_of_the_primary(marts: Path) -> None:
    """The runner's hook (chart_for(model.Incident) -> (filename, bytes) | None)."""
    from types import SimpleNamespace

    from alerting.charts import chart_for

    backend = DuckDBBackend(marts, "main_marts", "main_alerting", read_only=True)
    try:
        hook = chart_for(backend)
        members = [alert_from_row(a) for a in FIXTURE_ALERTS if a["alert_id"] == "u-free-tokens"]
        incident = SimpleNamespace(incident_id="inc-u-free-tokens", primary=members[0], members=tuple(members))
        chart = hook(incident)
        health = alert_from_row(alert("d-usage", domain="data_health", scope="usage", metric="rows"))
        no_chart = hook(SimpleNamespace(incident_id="inc-d", primary=health, members=(health,)))
    finally:
        backend.close()
    assert chart is not None
    filename, png = chart
    assert filename == "20261117-usage-free-tokens.png"
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
    assert no_chart is None  # data health has no series: nothing to upload, no error


def test_backtest_section_is_the_backtest_of_the_90_days(marts: Path) -> None:
    """ltx_reports.backtest over the report's window; counts worked out by hand from FIXTURE_ALERTS: the cost
    incident (critical + warning member) is on Sunday COST_DAY (ISO week 46), the usage alerts on Tuesday DAY
    (week 47): free-tokens warning and heavy-dau notice posted, ent-dau critical muted."""
    backtest = section(build(marts), "backtest", "</section>")
    assert "held by reason: muted 1." in backtest
    assert '<th class="num">warning+</th>' in backtest
    cells = {
        ("2026-W46", "critical"): ("1/1", "1/1"),
        ("2026-W46", "warning"): ("1/0", "1/0"),  # a member of the critical incident: no incident of its own
        ("2026-W47", "critical"): ("0/0", "0/0"),
        ("2026-W47", "warning"): ("1/1", "1/1"),
        ("2026-W47", "notice"): ("1/1", "0/0"),  # warning+ drops it
    }
    for (week, severity), (current, warning_plus) in cells.items():
        row = f'<td>{week}</td><td>{severity}</td><td class="num">{current}</td><td class="num">{warning_plus}</td>'
        assert row in backtest, (week, severity)
    assert '<th>total</th><th></th><th class="num">4/3</th><th class="num">3/2</th>' in backtest


RTL = "\u202eevil\u200b"


def add_feedback_mart(path: Path, rows: list[tuple[Any, ...]]) -> None:
    con = duckdb.connect(str(path))
    con.execute(
        "create table main_marts.fct_alert_feedback_weekly (alert_week date, team varchar, rule varchar,"
        " loud_incidents bigint, acknowledged bigint, snoozed bigint, expected bigint, false_alarms bigint,"
        " no_answer bigint, false_alarm_share double)"
    )
    con.executemany("insert into main_marts.fct_alert_feedback_weekly values (?, ?, ?, ?, ?, ?, ?, ?, ?, null)", rows)
    con.close()


def test_feedback_section_sums_the_weeks_and_says_precision_from_people(tmp_path: Path) -> None:
    """The rows are the mart's, summed over the weeks; the last row counts each loud incident of fct_alerts once
    (year 9's report said 13 loud incidents where a cost incident's two rules made two rows of one incident)."""
    answered = [  # one incident of two loud rules, called a false alarm on one; one acknowledged; one unanswered
        alert("a1", incident_id="i1", feedback_action="false_alarm"),
        alert("a2", incident_id="i1", rule="usage_week_over_week_shift", is_incident_primary=False),
        alert("a3", incident_id="i2", scope="paying", feedback_action="acknowledge"),
        alert("a4", incident_id="i3", scope="heavy"),
        alert("a5", incident_id="i4", scope="enterprise_pilot", is_loud=False, feedback_action="false_alarm"),
    ]
    path = make_marts(tmp_path / "f.duckdb", answered)
    monday = DAY - dt.timedelta(days=DAY.weekday())
    add_feedback_mart(path, [
        # week, team, rule, loud, acknowledged, snoozed, expected, false alarms, no answer
        (monday, "product", "usage_zscore", 5, 2, 0, 1, 1, 1),
        (monday - dt.timedelta(days=7), "product", "usage_zscore", 3, 0, 1, 0, 2, 0),
        (monday, HOSTILE + RTL, "cost_zscore", 2, 0, 0, 0, 0, 2),
        (monday - dt.timedelta(days=7 * 8), "product", "usage_zscore", 9, 0, 0, 0, 9, 0),  # before the 8 weeks
    ])  # fmt: skip
    html = build(path)
    feedback = section(html, "feedback", "</section>")
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>((?:<td class=\"num\">.*?</td>)+)</tr>", feedback)
    table = {(team, rule): re.findall(r'<td class="num">(.*?)</td>', nums) for team, rule, nums in rows}
    # product / usage_zscore over two weeks: 8 loud, 7 answered, 3 false alarms -> 1 - 3/7 = 57 %
    assert table[("product", "usage_zscore")] == ["8", "2", "1", "1", "3", "1", f"{1 - 3 / 7:.0%}"]
    hostile_team = next(team for team, _ in table if "evil" in team)
    assert table[(hostile_team, "cost_zscore")] == ["2", "0", "0", "0", "0", "2", "–"]  # nobody answered
    assert table[("all teams", "all rules")] == ["3", "1", "0", "0", "1", "1", "50%"]  # quiet i4 not counted
    assert HOSTILE not in html and "&lt;img src=x" in hostile_team
    assert "\u202e" not in html and "\u200b" not in html  # bidi override and zero-width: neutralised


def test_feedback_section_without_the_mart(marts: Path) -> None:
    assert "no <code>fct_alert_feedback_weekly</code> mart" in section(build(marts), "feedback", "</section>")


def test_history_cell_is_the_days_most_severe_alert_held_only_when_all_are() -> None:
    from ltx_reports.report import history

    alerts = [
        alert_from_row(alert("x1", severity="notice")),
        alert_from_row(alert("x2", severity="critical", is_postable=False, hold_reason="muted")),
        alert_from_row(alert("y1", scope="paying", is_postable=False, hold_reason="muted")),
    ]
    h = history(alerts)
    assert h["cells"] == [
        {"dt": "2026-11-17", "series": "Free – Tokens", "severity": "critical", "status": "posted"},
        {"dt": "2026-11-17", "series": "Paying – Tokens", "severity": "warning", "status": "held"},
    ]
    assert h["summary"] == [("critical", 0, 1), ("warning", 0, 1), ("notice", 1, 0)]
