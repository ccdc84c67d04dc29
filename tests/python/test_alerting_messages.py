"""Messages: values, labels by kind, incident sections, lifecycle bodies, Slack limits, golden digests.

Bodies are composed and rendered the way production does it: compose.py, then the runner's renderer
(`runner.render_body`: Slack, and Markdown for Linear) over lifecycle-shaped objects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import random
import re
from pathlib import Path
from types import SimpleNamespace as NS

import pytest
import yaml

from alerting import compose, values
from alerting.compose import Digest
from alerting.lifecycle import IncidentPlan
from alerting.message import MessageBody, plain
from alerting.model import (
    Alert,
    Concentration,
    CostComponent,
    Driver,
    TopUser,
    group_incidents,
)
from alerting.render import slack
from alerting.render.slack import Limits, SlackMessage
from alerting.routing import parse_routing
from alerting.runner import render_body
from tests.python.alerting_support import COST_DAY, DAY, cost_alert, create_marts, drivers, usage_alert, with_drivers
from tests.python.conftest import REPO
from tests.python.delivery_support import composed_run, team_routes

GOLDEN = Path(__file__).parent / "golden" / "alerting"
UPDATE = os.environ.get("LTX_UPDATE_GOLDEN") == "1"
HOSTILE = ["<!channel>", "<@U1>", "A & B", "<https://evil|click>", "<!here|here>", "&lt;already&gt;"]
PACKAGE = Path(__file__).resolve().parents[2] / "alerting"
REPORTS = PACKAGE.with_name("ltx_reports")  # the read-only package beside it


def digest(alerts: list[Alert], channel: str = "#ltx-usage-alerts", held: tuple[Alert, ...] = ()) -> Digest:
    teams = tuple(sorted({a.team or "unassigned" for a in alerts}))
    return Digest(channel=channel, teams=teams, usage_date=DAY, cost_date=COST_DAY, alerts=tuple(alerts), held=held)


def body_of(alerts: list[Alert], **kw: object) -> MessageBody:
    body = compose.digest(digest(alerts, **kw))  # type: ignore[arg-type]
    assert body is not None
    return body


def text_of(body: MessageBody | None) -> str:
    """Every line a body says, as plain text (no markup, no icons), one per line."""
    assert body is not None
    return "".join(plain(ln) + "\n" for ln in body.lines())


@dataclasses.dataclass(frozen=True)
class Message:
    """One Slack message as the dry run prints it: its channel, fallback text, blocks and the alert ids it carries."""

    channel: str
    text: str
    blocks: list[dict[str, object]]
    alert_ids: tuple[str, ...]


def build_messages(d: Digest, limits: Limits | None = None) -> list[Message]:
    """A channel's digest as the runner sends it (compose -> Slack render)."""
    messages = render_body(compose.digest(d), limits or Limits())
    return [Message(channel=d.channel, text=m.text, blocks=m.blocks, alert_ids=m.alert_ids) for m in messages]


def build_all_clear(channel: str, teams: list[str], usage_date: dt.date, cost_date: dt.date) -> Message:
    m = render_body(compose.all_clear(teams, usage_date, cost_date), Limits())[0]
    return Message(channel=channel, text=m.text, blocks=m.blocks, alert_ids=m.alert_ids)


def render_dry_run(message: Message, index: int, count: int) -> str:
    bar = f"===== {message.channel} · message {index} of {count} · {len(message.alert_ids)} alert(s) ====="
    payload = json.dumps({"channel": message.channel, "blocks": message.blocks}, indent=2, ensure_ascii=False)
    return f"{bar}\n--- text ---\n{message.text}\n--- Block Kit JSON ---\n{payload}\n"


def rendered(messages: list[Message]) -> str:
    return "".join(render_dry_run(m, i, len(messages)) for i, m in enumerate(messages, start=1))


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing (LTX_UPDATE_GOLDEN=1 writes it; review before committing)"
    assert actual == path.read_text(encoding="utf-8")


def product_alerts() -> list[Alert]:
    worked = usage_alert(
        "a-free-tokens",
        drivers_summary="Free +1,000,000 (70% of change); Lite +429,492 (30% of change)",
    )
    enterprise = with_drivers(
        usage_alert(
            "a-ent-dau",
            incident_id="inc-ent",
            scope="enterprise_contract",
            metric="dau",
            unit="count",
            current_value=15.0,
            baseline_mean=65.0,
            baseline_stddev=8.0,
            severity="critical",
            direction="decrease",
            has_baseline_outlier=True,
            baseline_outlier_date=dt.date(2026, 10, 12),
            robust_z_score=-1.9,
            is_baseline_valid=False,
            recommended_action="CRITICAL: investigate now; contact the account managers of the orgs below.",
        ),
        drivers(
            ("organization", "McCann_NY", 10.0, 40.0, 0.6),
            ("organization", "Acme Corp", 5.0, 25.0, 0.4),
        ),
    )
    enterprise_tokens = usage_alert(
        "a-ent-tokens",
        incident_id="inc-ent",
        is_incident_primary=False,
        scope="enterprise_contract",
        metric="tokens",
        current_value=1_000.0,
        baseline_mean=3_000.0,
        baseline_stddev=500.0,
        severity="warning",
        direction="decrease",
    )
    heavy = with_drivers(
        usage_alert(
            "a-heavy-img",
            scope="heavy",
            metric="image_generations",
            unit="count",
            current_value=1_250.0,
            baseline_mean=1_000.5,
            baseline_stddev=110.25,
            baseline_points=6,
            has_insufficient_baseline=True,
            is_baseline_valid=False,
            severity="notice",
            recommended_action="NOTICE: no action unless it persists.",
        ),
        drivers(("tier", "Pro", 700.0, 520.0, 0.72), ("tier", "Standard", 550.0, 480.5, 0.28)),
    )
    weekend = usage_alert(
        "a-ent-weekend",
        scope="enterprise_pilot",
        metric="dau",
        unit="count",
        current_value=0.0,
        baseline_mean=3.0,
        baseline_stddev=1.0,
        severity="critical",
        is_suppressed=True,
        suppression_reason="enterprise weekend",
    )
    return [worked, enterprise, enterprise_tokens, heavy, weekend]


def api_incident() -> list[Alert]:
    """An idle spike on flat traffic: one incident of four rules, the idle rule the primary."""
    # the shares' whole: infrastructure cost against its 7-day average, not the headline's same-weekday mean
    window = {"infra_change": 355.37, "baseline_infra_cost": 346.74}
    part = functools.partial(CostComponent, baseline_kind="trailing_7d", **window)
    decomposition = (
        part(component="idle", delta_usd=348.26, share_of_change=0.98),
        part(component="request_volume", delta_usd=1.07, share_of_change=0.003, pct_change=0.003),
        part(component="request_rate", delta_usd=6.04, share_of_change=0.017),
        part(
            component="request_volume",
            contributor_type="organization",
            contributor="Acme Studios",
            delta_usd=1.0,
            share_of_change=0.0028,
        ),
    )
    inc = "inc-api-idle"
    return [
        cost_alert(
            "c-idle",
            incident_id=inc,
            current_value=512.04,
            baseline_mean=163.78,
            baseline_stddev=40.0,
            baseline_kind="same_weekday",
            baseline_points=4,
            threshold_kind="z",
            threshold=2.0,
            z_score=8.71,
            pct_change=(512.04 - 163.78) / 163.78,
            drivers_summary=None,
            decomposition=decomposition,
        ),
        cost_alert(
            "c-infra-dod",
            incident_id=inc,
            is_incident_primary=False,
            metric="infra_cost",
            current_value=702.11,
            baseline_mean=302.09,
            baseline_kind="previous_day",
            threshold_kind="fraction_change",
            threshold=0.30,
            pct_change=(702.11 - 302.09) / 302.09,
            severity="warning",
            drivers_summary=None,
        ),
        cost_alert(
            "c-ratio",
            incident_id=inc,
            is_incident_primary=False,
            metric="idle_inference_ratio",
            unit="ratio",
            current_value=7.8571,
            baseline_mean=2.9,
            baseline_kind="trailing_7d",
            threshold_kind="ratio",
            threshold=4.0,
            pct_change=(7.8571 - 2.9) / 2.9,
            severity="warning",
            drivers_summary=None,
        ),
        cost_alert(
            "c-cpr",
            incident_id=inc,
            is_incident_primary=False,
            metric="cost_per_request",
            unit="usd_per_request",
            current_value=2.9377,
            baseline_mean=1.2288,
            baseline_kind="rolling",
            baseline_points=28,
            threshold_kind="absolute",
            threshold=0.70,
            pct_change=(2.9377 - 1.2288) / 1.2288,
            severity="warning",
            drivers_summary=None,
        ),
    ]


# --- values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (4_497_947.0, "tokens", "4,497,947"),
        (3_068_455.2, "count", "3,068,455"),
        (73.9, "count", "73.90"),
        (65.0, "count", "65"),
        (15_600.0, "usd", "$15,600.00"),
        (16_234.505, "usd", "$16,234.51"),  # half-up on the written value
        (2.675, "usd", "$2.68"),  # Python's round() and '%.2f' give 2.67 (binary half-even)
        (0.125, "usd", "$0.13"),  # half-even would give $0.12
        (-12.5, "usd", "-$12.50"),
        (-0.001, "usd", "$0.00"),  # never '-$0.00'
        (0.7345, "usd_per_request", "$0.7345/request"),
        (0.204, "fraction", "20.4%"),
        (0.25, "rate", "25.0%"),
        (7.8571, "ratio", "7.86 : 1"),
        (41_000.0, "rows", "41,000"),
        (float(2**62), "tokens", "4.61e+18"),  # an implausible value reads as one, not as 19 digits
        (1234.5678, "something_new", "1,234.57"),
        (None, "usd", "n/a"),
        (float("nan"), "count", "n/a"),
        (float("inf"), "fraction", "n/a"),
    ],
)
def test_format_value(value: float | None, unit: str, expected: str) -> None:
    assert values.format_value(value, unit) == expected


@pytest.mark.parametrize(
    ("z", "sign", "expected"),
    [(3.355034, False, "3.36"), (3.354999, False, "3.35"), (-2.281968, False, "-2.28"), (3.36, True, "+3.36"),
     (-6.475, True, "-6.48"), (None, True, "n/a")],
)  # fmt: skip
def test_format_z(z: float | None, sign: bool, expected: str) -> None:
    assert values.format_z(z, sign=sign) == expected


@pytest.mark.parametrize(
    ("pct", "expected"),
    [(0.46586, "+46.6%"), (-0.1204, "-12.0%"), (0.0, "+0.0%"), (1.5, "+150.0%"), (None, "n/a")],
)
def test_format_change_is_a_signed_fraction(pct: float | None, expected: str) -> None:
    assert values.format_change(pct) == expected


@pytest.mark.parametrize(
    ("kind", "points", "expected"),
    [
        ("same_weekday", 10, "Same-weekday mean (10 pts)"),
        ("rolling", 28, "Rolling 28-day mean"),
        ("trailing_7d", 7, "7-day average"),
        ("previous_day", 1, "Previous day"),
        ("previous_week", 1, "Same weekday last week"),
        ("same_weekday_transition", 8, "Expected after a typical Monday change"),
        ("expected_volume", 5, "Expected for a Monday"),
        ("a_kind_from_the_future", 3, "Baseline"),
        (None, None, "Baseline"),
    ],
)
def test_baseline_label_by_kind(kind: str | None, points: int | None, expected: str) -> None:
    assert values.baseline_label(kind, points, dt.date(2026, 11, 23)) == expected  # a Monday


@pytest.mark.parametrize(
    ("kind", "threshold", "unit", "direction", "expected"),
    [
        ("z", 2.0, "tokens", "increase", "|z| > 2"),
        ("z", 4.5, "count", "decrease", "|z| > 4.5"),
        ("absolute", 15_600.0, "usd", "increase", "above $15,600.00"),
        ("absolute", 0.70, "usd_per_request", "increase", "above $0.7000/request"),
        ("absolute", 100.0, "count", "decrease", "below 100"),
        ("ratio", 4.0, "ratio", "increase", "above 4.00 : 1"),
        ("fraction_change", 0.30, "usd", "increase", "change above 30.0%"),
        ("fraction_of_expected", 0.9, "rows", "decrease", "below 90% of expected"),
        ("brand_new_kind", 0.7, "usd", "increase", "threshold 0.7"),
        ("z", None, "usd", "increase", None),
    ],
)
def test_threshold_text_by_kind(
    kind: str, threshold: float | None, unit: str, direction: str, expected: str | None
) -> None:
    assert values.threshold_text(kind, threshold, unit, direction) == expected


def test_no_rule_name_in_the_package() -> None:
    """Both packages word thresholds and baselines from the kinds; no rule is named in their code."""
    rules = [
        "cost_zscore", "day_over_day", "cost_spike", "idle_cost_above", "inference_cost_above",
        "idle_inference_ratio_above", "failure_rate_above", "cost_per_request_above", "usage_zscore",
        "week_over_week",
    ]  # fmt: skip
    sources = {p: p.read_text(encoding="utf-8") for root in (PACKAGE, REPORTS) for p in root.rglob("*.py")}
    assert len(sources) > 10 and any(p.is_relative_to(REPORTS) for p in sources)
    for path, source in sources.items():
        for rule in rules:
            assert rule not in source, f"{path.name} names the rule {rule}"


# --- the playbook's numbers and the incident section ------------------------------------------------------


def test_worked_example_reproduces_the_playbook_lines() -> None:
    [message] = build_messages(digest([usage_alert("a1")]))
    section = message.blocks[2]["text"]["text"]  # type: ignore[index]
    assert section.startswith(":warning: *Free – Tokens* · WARNING increase\n")
    assert "Current: 4,497,947 | Same-weekday mean (10 pts): 3,068,455 | Std Dev (σ): 426,074" in section
    assert "Z-score: 3.36 | Change: +46.6% from mean | Threshold: |z| &gt; 2" in section
    assert "Free – Tokens" in message.text


def test_no_sigma_line_without_sigma_and_labels_from_the_kind() -> None:
    body = text_of(body_of(api_incident(), channel="#api"))
    assert "Current: $512.04 | Same-weekday mean (4 pts): $163.78 | Std Dev (σ): $40.00" in body
    assert (
        "↳ Infrastructure cost · WARNING: $702.11 vs previous day $302.09 (+132.4%), threshold change above 30.0%"
        in body
    )
    assert "vs 7-day average 2.90 : 1" in body and "7.86 : 1" in body
    assert "vs rolling 28-day mean $1.2288/request" in body and "$2.9377/request" in body
    assert "Mean (μ)" not in body and "σ): n/a" not in body
    day_over_day = text_of(body_of([api_incident()[1]], channel="#api"))
    assert "Current: $702.11 | Previous day: $302.09\n" in day_over_day and "Std Dev" not in day_over_day


def test_a_change_from_zero_is_said_in_money_not_as_n_a() -> None:
    """Year 6's idle cost on a day without a request: 'Current: $168.58 | 7-day average: $0.00' then 'Change: n/a
    from mean'. A percentage of zero does not exist; the difference does."""
    idle = dataclasses.replace(
        api_incident()[0], metric="unattributed_idle_cost", rule="idle_without_traffic", baseline_kind="trailing_7d",
        threshold_kind="absolute", current_value=168.58, baseline_mean=0.0, baseline_stddev=None, z_score=None,
        pct_change=None, threshold=2.0,
    )  # fmt: skip
    numbers, change = compose.numbers_lines(idle)
    assert plain(numbers) == "Current: $168.58 | 7-day average: $0.00"
    assert plain(change) == "Change: +$168.58 from mean | Threshold: above $2.00"
    unknown = dataclasses.replace(idle, baseline_mean=None)  # no baseline at all: nothing to subtract
    assert plain(compose.numbers_lines(unknown)[1]).startswith("Change: n/a from mean")


def test_one_section_per_incident_headline_members_cause_action() -> None:
    body = body_of(api_incident(), channel="#api")
    assert len(body.sections) == 1
    [section] = body.sections
    assert section.alert_ids == ("c-idle", "c-cpr", "c-infra-dod", "c-ratio")
    lines = [plain(ln) for ln in section.lines]
    assert lines[0] == "API – Idle cost · CRITICAL increase"
    members = [ln for ln in lines if ln.startswith("↳ ")]
    assert len(members) == 3  # each member rule is one compact line
    cause = next(ln for ln in lines if ln.startswith("Cause: "))
    assert cause == (  # what "the change" is: the decomposition's whole, which is not the headline's baseline
        "Cause: infrastructure cost +$355.37 (+102.5%) vs 7-day average $346.74: idle +$348.26 (98% of the change);"
        " requests flat (+0.3%)"
    )
    assert "Acme" not in text_of(body)  # idle on flat traffic names no organisation
    assert lines[-1] == "Action: Check idle GPU capacity of the API cluster."
    assert lines.index(cause) < len(lines) - 1


def test_decomposition_names_a_contributor_only_when_it_drives_the_change() -> None:
    spike = (
        CostComponent(component="request_volume", delta_usd=420.0, share_of_change=0.84, pct_change=0.61),
        CostComponent(component="idle", delta_usd=80.0, share_of_change=0.16),
        CostComponent(component="request_volume", contributor_type="organization", contributor="Acme Studios",
                      delta_usd=400.0, share_of_change=0.80),
        CostComponent(component="request_volume", contributor_type="endpoint", contributor="/v1/video",
                      delta_usd=60.0, share_of_change=0.12),
    )  # fmt: skip
    line_ = compose.decomposition_line(spike)
    assert line_ is not None
    assert plain(line_) == (
        "Cause: requests +61.0% (+$420.00, 84% of the change); idle +$80.00 (16% of the change);"
        " driven by organization Acme Studios +$400.00 (80% of the change)"
    )


def test_caveats_in_words() -> None:
    body = text_of(body_of(product_alerts()[:4]))
    assert "Caveat: baseline holds an outlier on 2026-10-12; the robust score (-1.90) disagrees" in body
    assert "Caveat: only 6 baseline points" in body
    agrees = dataclasses.replace(product_alerts()[1], robust_z_score=-5.2)
    assert "the robust score (-5.20) agrees" in text_of(body_of([agrees]))


def test_usage_incident_groups_metrics_of_one_segment() -> None:
    incidents = group_incidents(product_alerts()[:4])
    assert [i.incident_id for i in incidents] == ["inc-ent", "inc-a-free-tokens", "inc-a-heavy-img"]
    assert incidents[0].primary.alert_id == "a-ent-dau" and incidents[0].severity == "critical"
    body = text_of(body_of(product_alerts()[:4]))
    assert "↳ Tokens · WARNING: 1,000 vs same-weekday mean (10 pts) 3,000 (-66.7%), z -4.00, threshold |z| > 2" in body


def test_primary_falls_back_to_severity_then_abs_z() -> None:
    a = usage_alert("x1", incident_id="i", is_incident_primary=False, severity="warning", z_score=3.5)
    b = usage_alert("x2", incident_id="i", is_incident_primary=False, severity="critical", z_score=-5.0)
    c = usage_alert("x3", incident_id="i", is_incident_primary=False, severity="critical", z_score=-6.0)
    [incident] = group_incidents([a, b, c])
    assert incident.primary.alert_id == "x3" and [m.alert_id for m in incident.members] == ["x2", "x1"]


def test_digest_header_names_the_cost_day_for_cost_and_the_usage_day_for_usage() -> None:
    cost = body_of(api_incident(), channel="#api")
    usage = body_of([usage_alert("u")])
    both = body_of([usage_alert("u"), cost_alert("c")], channel="#all")
    assert f"cost day {COST_DAY.isoformat()}" in plain(cost.header) and DAY.isoformat() not in plain(cost.header)
    assert f"usage day {DAY.isoformat()}" in plain(usage.header)
    assert f"usage day {DAY.isoformat()}, cost day {COST_DAY.isoformat()}" in plain(both.header)


def test_held_counts_in_the_digest_context() -> None:
    held = (
        usage_alert("h1", is_postable=False, hold_reason="insufficient_baseline"),
        usage_alert("h2", is_postable=False, hold_reason="insufficient_baseline"),
        usage_alert("h3", is_postable=False, hold_reason="muted"),
    )
    body = text_of(body_of([usage_alert("u")], held=held))
    assert "held: too few baseline points 2, muted 1" in body  # not "2 too few baseline points"


def test_a_rule_added_in_a_fixture_renders_without_touching_python() -> None:
    """A new rule name with known kinds: labels and threshold from the kinds, no name shown."""
    new = cost_alert(
        "c-new",
        rule="overhead_share_jump_vs_last_week",
        metric="overhead_cost",
        baseline_kind="previous_week",
        threshold_kind="fraction_change",
        threshold=0.25,
        current_value=130.0,
        baseline_mean=100.0,
        pct_change=0.3,
        severity="warning",
        recommended_action="Check the overhead jobs.",
    )
    out = text_of(body_of([new], channel="#api"))
    assert "API – Overhead cost · WARNING increase" in out
    assert "Current: $130.00 | Same weekday last week: $100.00" in out
    assert "Change: +30.0% vs same weekday last week | Threshold: change above 25.0%" in out
    assert "overhead_share_jump" not in out
    odd = dataclasses.replace(new, baseline_kind="something_else", threshold_kind="weird", unit="furlongs")
    out = text_of(body_of([odd], channel="#api"))
    assert "Current: 130.00 | Baseline: 100.00" in out and "Threshold: threshold 0.25" in out


# --- lifecycle bodies -----------------------------------------------------------------------------------


def log_entry(**kw: object) -> NS:
    """A delivery-log row as the lifecycle hands it to the composer (the attributes composer.py reads)."""
    base = dict(alert_id="a", alert_date=DAY, series_key="usage|free|tokens|usage_zscore", severity="critical",
                direction="decrease", z_score=-6.48, current_value=1_000.0, kind="post")  # fmt: skip
    base.update(kw)
    return NS(**base)


def health_alert(rows: float, expected: float = 41_000.0) -> Alert:
    return Alert(
        alert_id="dh-usage", incident_id="inc-dh", alert_date=dt.date(2026, 11, 22), domain="data_health",
        team="data", scope="usage", metric="rows", rule="data_completeness",
        threshold_kind="fraction_of_expected", baseline_kind="expected_volume", unit="rows",
        current_value=rows, baseline_mean=expected, pct_change=rows / expected - 1, threshold=0.9,
        severity="warning" if rows else "critical", direction="decrease", is_postable=True, is_loud=True,
        is_incident_primary=True, recommended_action="Check the usage load; re-run make daily when it lands.",
    )  # fmt: skip


HEALTH_DAY = dt.date(2026, 11, 22)


def held_for_data(n: int) -> tuple[Alert, ...]:
    return tuple(
        usage_alert(f"h{i}", alert_date=HEALTH_DAY, is_postable=False, hold_reason="incomplete_data") for i in range(n)
    )


def test_data_health_body() -> None:
    out = text_of(body_of([health_alert(15_580.0)], held=held_for_data(12)))
    assert "usage for 2026-11-22: 38% of the expected rows for a Sunday (15,580 of 41,000);" in out
    assert "12 segment alerts held until the day is complete" in out
    assert "python -m alerting release --date 2026-11-22" in out
    shipped = "… if the drop is real (an outage), release them with: python -m alerting release --date 2026-11-22."
    said = text_of(
        body_of([dataclasses.replace(health_alert(15_580.0), recommended_action=shipped)], held=held_for_data(1))
    )
    assert said.count("release --date 2026-11-22") == 1  # the shipped action names the command: said once
    missing = text_of(body_of([health_alert(0.0)], held=held_for_data(1)))
    assert "no rows loaded (expected 41,000 for a Sunday); 1 segment alert held" in missing


def test_all_clear_bodies() -> None:
    full = build_all_clear("#x", ["product"], DAY, COST_DAY).text
    assert "all clear" in full and f"No alerts for usage day {DAY.isoformat()}" in full
    clear = build_all_clear("#ltx-usage-alerts", ["product"], DAY, COST_DAY)
    assert "all clear" in clear.text.lower() and clear.alert_ids == ()  # the runner logs it under its own key


# --- every message kind, on both platforms -------------------------------------------------------------


def every_message(issue: bool = False) -> list[tuple[str, list[SlackMessage]]]:
    """What the runner says for each delivery kind, on Slack or (`issue`) Linear; lifecycle objects as their
    attributes. A reply is one message."""

    def say(body: MessageBody | None, reply: bool = False) -> list[SlackMessage]:
        return render_body(body, Limits(), issue)[: 1 if reply else None]

    def digest_of(
        team: str, alerts: list[Alert], day: dt.date = DAY, held: tuple[Alert, ...] = ()
    ) -> list[SlackMessage]:
        return say(compose.digest(Digest("#x", (team,), day, COST_DAY, tuple(alerts), held)))

    now = log_entry(severity="warning", direction="increase", z_score=3.355, current_value=4_497_947.0)
    trend = ((DAY - dt.timedelta(days=1), 3.02), (DAY, 3.36))  # a streak and its trend are one direction
    persists = "WARNING: fired yesterday too, same direction: the shift persists."  # the mart's action on day 2
    plan = IncidentPlan(
        "inc-a", dataclasses.replace(usage_alert("a"), recommended_action=persists, run_days=2), z_trend=trend
    )
    resolution = NS(
        series=(NS(series=("usage", "free", "tokens"), last_alert_date=DAY, quiet_days=2),),
        alert_date=DAY + dt.timedelta(days=2),
    )
    health = log_entry(series_key="data_health|usage|rows|data_completeness", severity="warning")
    failure = NS(resource_type="test", name="not_null_fct_alerts_<!channel>", status="fail", rows=3)
    gone = NS(was=log_entry(series_key="usage|<!channel>|tokens|r", current_value=1.0), reason="gone")
    return [
        ("digest", digest_of("product", product_alerts()[:4])),
        ("digest", digest_of("api", api_incident())),
        ("digest", digest_of("data", [health_alert(100.0)], HEALTH_DAY, held_for_data(3))),
        ("repeat", say(compose.repeats([plan]))),
        (
            "summary",
            say(
                compose.summary(
                    [dataclasses.replace(product_alerts()[3], is_loud=False, quiet_reason="below_severity")],
                    DAY,
                    COST_DAY,
                )
            ),
        ),
        ("correction", say(compose.correction(NS(alert=now, was=log_entry()), usage_alert("a")), True)),
        ("withdrawal", say(compose.withdrawal(gone), True)),
        ("withdrawal", say(compose.withdrawal(NS(was=health, reason="gone")), True)),
        ("resolved", say(compose.resolved(resolution), True)),
        (
            "pipeline_health",
            say(compose.pipeline_health(DAY, [NS(source="usage", last_loaded_day=None)], [failure]), True),
        ),
        ("all_clear", say(compose.all_clear(["product"], DAY, COST_DAY), True)),
    ]


def test_markdown_for_linear_says_every_line_with_data_made_inert() -> None:
    for (kind, slack_messages), (_, markdown) in zip(every_message(), every_message(issue=True), strict=True):
        [md] = markdown
        assert md.blocks == [] and md.text.startswith("### ") and "<" not in md.text, kind
        assert [m.alert_ids for m in slack_messages] == [md.alert_ids] or len(slack_messages) > 1, kind
    [md] = render_body(
        compose.digest(Digest("#x", ("product",), DAY, COST_DAY, tuple(product_alerts()[:4]))), Limits(), True
    )
    assert "\n\n[CRITICAL] **Enterprise Contract – DAU** · CRITICAL decrease\n\n" in md.text
    assert "**Action:** CRITICAL: investigate now;" in md.text
    hostile = with_drivers(
        usage_alert("h", scope="enterprise_contract"), drivers(("organization", "<b>*x*</b> @here", 1.0, 0.0, 1.0))
    )
    [md] = render_body(compose.digest(Digest("#x", ("product",), DAY, COST_DAY, (hostile,))), Limits(), True)
    assert "‹b›*x*‹/b› ＠here" in md.text and "<b>" not in md.text


# --- golden digests ------------------------------------------------------------------------------------------


def test_golden_product_digest(tmp_path: Path) -> None:
    """The product channel's digest as a run composes it from the marts (held alert counted, never shown)."""
    routing = parse_routing(
        {"default_channel": "#ltx-monitoring", "routes": team_routes(product="#ltx-usage-alerts")}, {}
    )
    db = tmp_path / "marts.duckdb"
    create_marts(db, product_alerts())
    report, composer = composed_run(db, routing, DAY, COST_DAY)
    assert report.held_by_reason == {"enterprise_weekend": 1}
    [(d, composed)] = composer.digests
    assert [a.alert_id for a in d.held] == ["a-ent-weekend"]
    messages = [Message(channel=d.channel, text=m.text, blocks=m.blocks, alert_ids=m.alert_ids) for m in composed]
    out = rendered(messages)
    check_golden("product_digest.txt", out)
    # one section per incident, the most severe first; the suppressed alert nowhere
    assert out.index("Enterprise Contract – DAU") < out.index("Free – Tokens") < out.index("Heavy – Image")
    assert "Enterprise Pilot" not in out
    assert "*McCann_NY* (organization): 10 vs 40 (-30, 60% of change)" in out


def test_golden_cost_digest() -> None:
    messages = build_messages(digest(api_incident(), channel="#ltx-api-cost-alerts"))
    check_golden("api_cost_digest.txt", rendered(messages))


def test_golden_hostile_digest() -> None:
    alerts = [
        with_drivers(
            usage_alert(
                "h1",
                scope="enterprise_contract",
                drivers_summary=" ; ".join(HOSTILE),
                recommended_action="Call <!channel> & <@U1>\nAction: ignore this *now*",
            ),
            drivers(*[("organization", name, 10.0, 5.0, 0.1) for name in HOSTILE]),
        ),
        usage_alert("h2", team="<!channel>", scope="<@U1>", metric="<https://evil|click>", severity="<!everyone>"),
    ]
    check_golden("hostile_digest.txt", rendered(build_messages(digest(alerts))))


# --- Slack: escaping and limits ------------------------------------------------------------------------------


def all_mrkdwn(messages: list[Message] | list[slack.SlackMessage], plain_too: bool = True) -> list[str]:
    """Every text Slack shows; plain_text objects (headers, not parsed by Slack) only with plain_too."""
    out = [m.text for m in messages]
    for m in messages:
        for block in m.blocks:
            text_obj = block.get("text")
            if isinstance(text_obj, dict) and (plain_too or text_obj.get("type") == "mrkdwn"):
                out.append(str(text_obj["text"]))
            for el in [*block.get("elements", []), *block.get("fields", [])]:  # type: ignore[misc]
                out.append(str(el["text"]))
    return out


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_strings_arrive_inert_everywhere(name: str) -> None:
    alert = with_drivers(
        usage_alert("x", team=name, scope=name, metric=name, severity=name, direction=name, rule=name,
                    drivers_summary=name, recommended_action=name, domain=name),
        drivers(("organization", name, 1.0, 0.0, 1.0)),
    )  # fmt: skip
    messages = build_messages(digest([alert]))
    for text_ in all_mrkdwn(messages):
        assert "<" not in text_ and ">" not in text_, text_
    for text_ in all_mrkdwn(messages, plain_too=False):  # mrkdwn: every & starts an entity we wrote
        assert not re.search(r"&(?!amp;|lt;|gt;)", text_), text_


def test_newline_in_a_name_cannot_forge_a_line() -> None:
    name = "Acme\nAction: ignore this\r\n> quoted\u2028*bold* _it_ ~s~ `code`"
    alert = with_drivers(usage_alert("x", scope="enterprise_contract"), drivers(("organization", name, 1.0, 0.0, 1.0)))
    [message] = build_messages(digest([alert]))
    section = message.blocks[2]["text"]["text"]  # type: ignore[index]
    lines = section.split("\n")
    assert [ln for ln in lines if ln.startswith("*Action:*")] == [
        "*Action:* WARNING: no same-direction alert yesterday; watch whether it repeats tomorrow."
    ]
    assert "Acme Action: ignore this &gt; quoted ∗bold∗ ˍitˍ ∼s∼ ˋcodeˋ" in section


def test_a_5000_character_name_is_capped_and_the_action_survives() -> None:
    huge = "Evil Corp " * 500
    alerts = [
        with_drivers(
            usage_alert(f"u{i}", scope="enterprise_contract", metric=f"m{i}"),
            drivers(("organization", huge, 1.0, 0.0, 1.0)),
        )
        for i in range(5)
    ]
    [message] = build_messages(digest(alerts))
    for section in [b for b in message.blocks if b["type"] == "section"]:
        body = section["text"]["text"]  # type: ignore[index]
        assert len(body) <= 3000
        assert "Evil Corp Evil" in body and "…" in body
        assert body.split("\n")[-1].startswith("*Action:*")


def many_alerts(n: int) -> list[Alert]:
    severities = ["critical", "warning", "notice"]
    return [
        usage_alert(
            f"m{i:04d}", severity=severities[i % 3], scope=["free", "paying", "heavy"][i % 3], metric=f"metric_{i}"
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [1, 24, 25, 26, 130])
def test_large_digest_is_split_into_parts_within_limits(n: int) -> None:
    alerts = many_alerts(n)
    messages = build_messages(digest(alerts))
    ids = [a for m in messages for a in m.alert_ids]
    assert sorted(ids) == sorted(a.alert_id for a in alerts)  # every alert exactly once
    for m in messages:
        assert len(m.blocks) <= 50
        assert len(m.blocks[0]["text"]["text"]) <= 150  # type: ignore[index]
        assert all(len(t) <= 3000 for t in all_mrkdwn([m]))
    if len(messages) > 1:
        assert (
            [m.blocks[0]["text"]["text"][-5:] for m in messages]
            == [  # type: ignore[index]
                f"({i}/{len(messages)})"[-5:] for i in range(1, len(messages) + 1)
            ]
        )


def test_block_count_boundary() -> None:
    # header + context + 16 incidents of 2 blocks (text + feedback buttons) + 15 dividers = 49 blocks;
    # 17 incidents need 52: two parts
    one = build_messages(digest(many_alerts(16)))
    two = build_messages(digest(many_alerts(17)))
    assert [len(m.blocks) for m in one] == [49]
    assert len(two) == 2 and len(two[0].blocks) == 49 and len(two[1].blocks) == 4
    assert two[0].blocks[0]["text"]["text"].endswith("(1/2)")  # type: ignore[index]


def test_fallback_text_is_capped_with_an_n_more_line() -> None:
    [message] = slack.render(body_of(many_alerts(16)), Limits(text_chars=1200))
    assert len(message.text) <= 1200
    shown = message.text.count("\n:")
    assert 0 < shown < 16
    assert message.text.count("*Action:*") >= 1  # the first sections in full
    assert message.text.endswith(f"… and {16 - shown} more: see the message blocks")


def test_no_alerts_no_message() -> None:
    assert build_messages(digest([])) == []
    assert compose.digest(digest([])) is None


def test_random_alerts_never_fail_and_respect_limits() -> None:
    """Unseen data: random strings, None / nan / huge numbers, unknown units, kinds and severities."""
    rng = random.Random(1234)
    alphabet = "abc <>&|@!#*_~`\n\t\"'é漢🚨"

    def s(max_len: int = 60) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_len)))

    def num() -> float | None:
        return rng.choice([None, float("nan"), 0.0, -1e12, 1e15, rng.uniform(-1e6, 1e6), 1e-9])

    for i in range(60):
        alerts = []
        for j in range(rng.randint(0, 60)):
            alerts.append(
                dataclasses.replace(
                    usage_alert(f"r{i}-{j}"),
                    incident_id=rng.choice(["i1", "i2", s(5)]),  # the contract's types: not-null columns stay set
                    team=rng.choice(["", s(20), "api"]),
                    scope=s(),
                    metric=s(),
                    unit=rng.choice([None, "usd", "fraction", "ratio", "count", "tokens", s(5)]),
                    baseline_kind=rng.choice([None, "same_weekday", "previous_day", s(6)]),
                    threshold_kind=rng.choice([None, "z", "absolute", "ratio", s(6)]),
                    baseline_points=rng.choice([None, 0, 3, 10]),
                    current_value=num(),
                    baseline_mean=num(),
                    baseline_stddev=num(),
                    z_score=num(),
                    robust_z_score=num(),
                    pct_change=num(),
                    threshold=num(),
                    severity=rng.choice(["critical", "warning", "notice", "CRITICAL", s(8)]),
                    direction=rng.choice(["decrease", "increase", s(8)]),
                    has_baseline_outlier=rng.choice([None, True]),
                    drivers_summary=rng.choice([None, s(4000)]),
                    recommended_action=rng.choice([None, s(200)]),
                    drivers=drivers(*[("tier", s(30), 1.0, 2.0, 0.5) for _ in range(rng.randint(0, 6))]),
                )
            )
        limits = Limits(blocks_per_message=rng.randint(4, 50))
        messages = build_messages(digest(alerts), limits)
        assert sorted(a for m in messages for a in m.alert_ids) == sorted(a.alert_id for a in alerts)
        for m in messages:
            assert len(m.blocks) <= limits.blocks_per_message
            assert len(m.blocks[0]["text"]["text"]) <= 150  # type: ignore[index]
            for text_ in all_mrkdwn([m]):
                assert len(text_) <= 3000
                assert "<" not in text_ and ">" not in text_
            json.dumps(m.blocks)  # serialisable


def test_a_digest_is_a_context_intro_and_one_text_section_per_incident() -> None:
    body = body_of(product_alerts()[:4])
    assert body.intro is not None and body.intro.context and not any(s.context for s in body.sections)
    assert text_of(body).splitlines()[2] == "Enterprise Contract – DAU · CRITICAL decrease"


def test_data_health_digest_counts_the_held_alerts_of_its_source_and_day(tmp_path: Path) -> None:
    routing = parse_routing(
        {"default_channel": "#ltx-monitoring", "routes": team_routes(product="#usage", data="#ltx-data-alerts")}, {}
    )
    day = dt.date(2026, 11, 22)
    held = [usage_alert(f"h{i}", alert_date=day, is_postable=False, hold_reason="incomplete_data") for i in range(12)]
    other = [usage_alert("thin", alert_date=day, is_postable=False, hold_reason="insufficient_baseline")]
    db = tmp_path / "marts.duckdb"
    create_marts(db, [health_alert(15_580.0), *held, *other])
    _, composer = composed_run(db, routing, day, COST_DAY)
    [(data, _)] = composer.digests
    assert data.channel == "#ltx-data-alerts" and data.teams == ("data",)
    # it counts the incomplete-data holds of #usage, not that channel's other holds
    assert sorted(a.alert_id for a in data.held) == sorted(a.alert_id for a in held)
    out = text_of(compose.digest(data))  # type: ignore[arg-type]
    assert "usage for 2026-11-22: 38% of the expected rows for a Sunday (15,580 of 41,000);" in out
    assert "12 segment alerts held until the day is complete" in out


def test_an_incident_of_two_teams_goes_once_where_its_headline_is_routed(tmp_path: Path) -> None:
    """An API incident with an engineering member is posted once, to the API channel, whole (issue 20: the
    same incident, chart included, was posted again to the infrastructure channel)."""
    routing = parse_routing(
        {"default_channel": "#ltx-monitoring", "routes": team_routes(api="#api", engineering="#infra")}, {}
    )
    alerts = [*api_incident()[:2], dataclasses.replace(api_incident()[2], team="engineering")]
    db = tmp_path / "marts.duckdb"
    create_marts(db, alerts)
    report, composer = composed_run(db, routing, DAY, COST_DAY)
    assert [(d.channel, d.teams) for d, _ in composer.digests] == [("#api", ("api",))]
    [(digest, _)] = composer.digests
    [section] = body_of(list(digest.alerts), channel=digest.channel).sections
    assert sorted(section.alert_ids) == ["c-idle", "c-infra-dod", "c-ratio"]
    assert report.alerts_delivered == 3

    # the headline delivered first; the members added later follow it into #api's thread, nothing to #infra
    db2 = tmp_path / "again.duckdb"
    create_marts(db2, alerts[:1])
    composed_run(db2, routing, DAY, COST_DAY)
    create_marts(db2, alerts)
    again, composer = composed_run(db2, routing, DAY, COST_DAY)
    assert again.already_delivered == 1
    assert composer.digests == []
    assert composer.repeats == [("#api", ["c-infra-dod", "c-ratio"])]


def test_user_ids_in_drivers_are_truncated_and_units_per_driver() -> None:
    user = Driver(contributor_type="user", contributor="lt_0123456789abcdef", value=9e5, baseline_value=1e3,
                  delta=899_000.0, share_of_delta=0.62, rank=1)  # fmt: skip
    per_request = Driver(contributor_type="model", contributor="ltxv-13b", value=0.91, baseline_value=0.6,
                         delta=0.31, share_of_delta=0.8, rank=1, unit="usd_per_request")  # fmt: skip
    free = with_drivers(usage_alert("f"), (user,))
    out = text_of(body_of([free]))
    assert "Drivers: lt_012345… (user): 900,000 vs 1,000 (+899,000, 62% of change)" in out
    cpr = with_drivers(cost_alert("c", metric="cost_per_request", unit="usd_per_request"), (per_request,))
    assert "ltxv-13b (model): $0.9100/request vs $0.6000/request (+$0.3100/request, 80% of change)" in text_of(
        body_of([dataclasses.replace(cpr, drivers_summary=None)], channel="#api")
    )
    failed = Driver(contributor_type="process", contributor="storyboard", value=10, baseline_value=9.1, delta=0.9,
                    share_of_delta=0.4, rank=1, unit="count", driver_metric="failed_requests",
                    breakdown_order=1)  # fmt: skip
    model = dataclasses.replace(failed, contributor_type="model", contributor="flux-dev", breakdown_order=2)
    rate = with_drivers(cost_alert("r", metric="failure_rate", unit="fraction"), (model, failed))
    said = text_of(body_of([dataclasses.replace(rate, drivers_summary=None)], channel="#api"))
    # at the day's traffic; the process before the model, as fct_gpu_cost_alert_drivers.breakdown_order says
    assert "Drivers: storyboard (process): 10 vs 9.10 expected (+0.90, 40% of change); flux-dev (model)" in said


def test_alert_columns_are_the_plan_contract_in_order() -> None:
    """The Alert dataclass's mart columns are fct_alerts' contract (its YAML), in the mart's order: derived, not
    re-typed, so a column added to the contract and not to the one alert record fails here."""
    from alerting.model import ALERT_COLUMN_NAMES

    models = yaml.safe_load((REPO / "models/marts/alerts/_alerts__models.yml").read_text())["models"]
    [fct_alerts] = [m for m in models if m["name"] == "fct_alerts"]
    assert tuple(c["name"] for c in fct_alerts["columns"]) == ALERT_COLUMN_NAMES


def test_golden_lifecycle_bodies() -> None:
    """Every delivery kind as Linear's Markdown and Slack's text, for review: what people read."""
    parts = []
    for (kind, messages), (_, [md]) in zip(every_message(), every_message(issue=True), strict=True):
        parts.append(f"===== {kind} =====\n{md.text}--- slack ---\n")
        parts += [m.text + "\n" for m in messages]
    check_golden("lifecycle_bodies.txt", "".join(parts))


def test_missing_day_without_held_alerts_does_not_say_zero_held() -> None:
    out = text_of(body_of([health_alert(0.0)]))
    assert "no rows loaded (expected 41,000 for a Sunday)" in out
    assert "held" not in out and "release --date" not in out


# --- usage concentration drill-down (fct_usage_alert_concentration + fct_usage_alert_top_users) --------


def concentration(uses: bool, top: tuple[TopUser, ...] = (), **kw: object) -> Concentration:
    base: dict[str, object] = dict(
        uses_drilldown=uses, users_moving_with_change=412, users_for_half_of_change=3, top_users_n=5,
        top_users_share_of_change=0.62, new_users=30, new_user_share_of_change=0.12, top_users=top,
    )  # fmt: skip
    base.update(kw)
    return Concentration(**base)  # type: ignore[arg-type]


TOP = (
    TopUser(rank=1, lt_id="lt_0123456789abcdef", delta=600_000.0, share_of_change=0.42, is_new_user=True),
    TopUser(rank=2, lt_id="lt_fedcba9876543210", delta=200_000.0, share_of_change=0.14, is_new_user=False),
    TopUser(rank=3, lt_id="short", delta=50_000.0, share_of_change=0.035, is_new_user=False),
    TopUser(rank=4, lt_id="lt_4444444444", delta=30_000.0, share_of_change=0.021, is_new_user=False),
)
TIER_DRIVER = drivers(("tier", "Free", 4_497_947.0, 3_068_455.0, 1.0))


def drivers_or_users_line(alert: Alert) -> str:
    [found] = [ln for ln in text_of(body_of([alert])).splitlines() if ln.startswith(("Drivers: ", "Users: "))]
    return found


def test_concentration_replaces_the_one_tier_drivers_for_free() -> None:
    free = dataclasses.replace(with_drivers(usage_alert("f"), TIER_DRIVER), concentration=concentration(True, TOP))
    assert drivers_or_users_line(free) == (
        "Users: 412 users moved with the change, 3 make half of it; top 5 users 62% of the change"
        " (the largest 2: lt_01234… +600,000 (42%, new); lt_fedcb… +200,000 (14%));"
        " new users (first seen recently): 30, 12% of the change"
    )
    assert "Free (tier)" not in text_of(body_of([free]))


def test_a_user_is_named_only_when_it_holds_a_tenth_of_the_change() -> None:
    """A DAU drop of 458 users: each absent user moves it by at most one (-0.90: active on 9 of 10 baseline days),
    so naming the 'largest' says nothing; one user with 10 % of a token change is worth a name."""
    absent = tuple(
        TopUser(rank=i, lt_id=f"u{i:08d}", delta=-0.9, share_of_change=0.002, is_new_user=False) for i in (1, 2, 3)
    )
    dau = dataclasses.replace(
        usage_alert("d", metric="dau", unit="count"),
        concentration=concentration(True, absent, top_users_share_of_change=0.01, users_for_half_of_change=393),
    )
    line_ = drivers_or_users_line(dau)
    assert "top 5 users 1% of the change;" in line_ and "u000000" not in line_ and "largest" not in line_
    one = (dataclasses.replace(TOP[1], share_of_change=0.10), *absent)
    tokens = dataclasses.replace(usage_alert("t"), concentration=concentration(True, one))
    assert "(the largest: lt_fedcb… +200,000 (10%));" in drivers_or_users_line(tokens)


def test_a_paying_segment_with_mixed_tiers_keeps_the_tier_drivers() -> None:
    """Below 95 % in one tier (the mart says uses_concentration_drilldown = false): tiers stay."""
    tiers = drivers(("tier", "Pro", 120.0, 80.0, 0.8), ("tier", "Lite", 40.0, 30.0, 0.2))
    mixed = concentration(False, TOP)
    paying = dataclasses.replace(with_drivers(usage_alert("p", scope="paying"), tiers), concentration=mixed)
    line_ = drivers_or_users_line(paying)
    assert line_.startswith("Drivers: Pro (tier)") and "Lite (tier)" in line_ and "Users:" not in line_
    one_tier = dataclasses.replace(paying, concentration=dataclasses.replace(mixed, uses_drilldown=True))
    assert drivers_or_users_line(one_tier).startswith("Users: 412 users moved with the change")


def test_concentration_without_top_users_or_shares_still_reads() -> None:
    bare = concentration(True, (), top_users_share_of_change=None, users_for_half_of_change=None, new_users=None)
    alert = dataclasses.replace(usage_alert("f"), concentration=bare)
    assert drivers_or_users_line(alert) == "Users: 412 users moved with the change"


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_lt_id_is_inert(name: str) -> None:
    hostile = (TopUser(rank=1, lt_id=name + "\n> Action: ignore", delta=1.0, share_of_change=1.0),)
    alert = dataclasses.replace(usage_alert("x"), concentration=concentration(True, hostile))
    messages = build_messages(digest([alert]))
    for text_ in all_mrkdwn(messages):
        assert "<" not in text_ and ">" not in text_, text_
    for text_ in all_mrkdwn(messages, plain_too=False):
        assert not re.search(r"&(?!amp;|lt;|gt;)", text_), text_
    assert not any(ln.startswith("Action: ignore") for ln in text_of(body_of([alert])).splitlines())


@pytest.mark.parametrize(
    ("quiet", "why"),
    [
        (dict(quiet_reason="reclassified"), "Why quiet: most of the change is users the weekly heavy rule moved"),
        (dict(quiet_reason="few_users"), "Why quiet: one or two users made most of the change: their accounts' event"),
        (dict(quiet_reason="not_significant"), "Why quiet: within what chance gives over the series tested that day"),
        (dict(quiet_reason="small_effect"), "Why quiet: too small a change to matter, whatever its z"),
        (dict(quiet_reason="calendar_event", calendar_event="Thanksgiving Day"), "Known event: Thanksgiving Day"),
        (dict(is_loud=True, quiet_reason=None), "Why quiet: below this channel's severity floor"),
        (dict(quiet_reason="<!channel> new"), "Why quiet: &lt;!channel&gt; new"),
    ],
)
def test_a_summary_says_why_each_incident_is_quiet(quiet: dict[str, object], why: str) -> None:
    """A Summary: message lists incidents that did not notify; each says its own reason (the mart's quiet_reason),
    not one reason for all: a reclassified CRITICAL is not 'below the bar of significance'."""
    alert = dataclasses.replace(usage_alert("q", severity="critical"), **{"is_loud": False, **quiet})  # type: ignore[arg-type]
    body = compose.summary([alert], DAY, COST_DAY)
    said = [m.text for m in render_body(body, Limits())]
    assert any(why in text.replace("*", "") for text in said), said
    assert "significance and size" not in text_of(body)


def test_a_summary_line_says_which_day_of_its_run_it_is() -> None:
    """Year 11's Free DAU shift was quiet on its first three days; a route with summary = true listed day 2 as a
    plain 'WARNING decrease', and day 4's loud post said 'day 4 in a row'."""
    alert = dataclasses.replace(usage_alert("q", severity="warning"), is_loud=False, quiet_reason="not_significant")
    said = text_of(compose.summary([dataclasses.replace(alert, run_days=2)], DAY, COST_DAY))
    assert "Free – Tokens · WARNING increase · day 2 in a row" in said.replace("*", ""), said
    assert "in a row" not in text_of(compose.summary([alert], DAY, COST_DAY))
