"""Formatting: golden digests, the playbook's numbers, escaping, Slack's limits, odd data."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
from pathlib import Path

import pytest

from alerting.formatting import (
    Limits,
    build_all_clear,
    build_messages,
    format_change,
    format_value,
    format_z,
)
from alerting.model import Alert, Digest, Message
from alerting.mrkdwn import escape, truncate
from alerting.planning import plan_digests
from alerting.routing import parse_routing
from alerting.runner import render_dry_run
from tests.python.alerting_support import COST_DAY, DAY, cost_alert, drivers, usage_alert, with_drivers

GOLDEN = Path(__file__).parent / "golden" / "alerting"
UPDATE = os.environ.get("LTX_UPDATE_GOLDEN") == "1"
HOSTILE = ["<!channel>", "<@U1>", "A & B", "<https://evil|click>", "<!here|here>", "&lt;already&gt;"]


def digest(alerts: list[Alert], channel: str = "#ltx-usage-alerts") -> Digest:
    teams = tuple(sorted({a.team or "unassigned" for a in alerts}))
    return Digest(channel=channel, teams=teams, usage_date=DAY, cost_date=COST_DAY, alerts=tuple(alerts))


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
            scope="enterprise_contract",
            metric="dau",
            unit="count",
            current_value=15.0,
            baseline_mean=65.0,
            baseline_stddev=8.0,
            severity="critical",
            recommended_action="CRITICAL: investigate now; contact the account managers of the orgs below.",
        ),
        drivers(
            ("organization", "McCann_NY", 10.0, 40.0, 0.6),
            ("organization", "Acme Corp", 5.0, 25.0, 0.4),
        ),
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
    return [worked, enterprise, heavy, weekend]


def cost_alerts() -> list[Alert]:
    return [
        cost_alert("c-idle"),
        cost_alert(
            "c-fail",
            metric="failure_rate",
            unit="rate",
            current_value=0.25,
            baseline_mean=0.18,
            baseline_stddev=0.02,
            pct_change=(0.25 - 0.18) / 0.18,
            threshold=0.204,
            severity="warning",
            rule="failure_rate_above_threshold",
            drivers_summary="endpoint /v1/image: 61 failed of 200",
            recommended_action="Look at the failing endpoint.",
        ),
        cost_alert(
            "c-cpr",
            metric="cost_per_request",
            unit="usd_per_request",
            current_value=0.7345,
            baseline_mean=0.61,
            baseline_stddev=0.031,
            pct_change=(0.7345 - 0.61) / 0.61,
            threshold=0.70,
            severity="warning",
            rule="cost_per_request_above_threshold",
        ),
        cost_alert(
            "c-dod",
            metric="infra_cost",
            current_value=21_000.0,
            baseline_mean=15_000.0,
            baseline_stddev=None,
            pct_change=0.4,
            threshold=0.30,
            severity="notice",
            rule="day_over_day_jump",
            drivers_summary=None,
            recommended_action=None,
        ),
    ]


# --- the playbook's numbers ------------------------------------------------------------------


def test_worked_example_reproduces_the_playbook_lines() -> None:
    [message] = build_messages(digest([usage_alert("a1")]))
    section = message.blocks[3]["text"]["text"]  # type: ignore[index]
    assert "• *Free – Tokens* (increase)" in section
    assert "Current: 4,497,947 | Mean (μ): 3,068,455 | Std Dev (σ): 426,074" in section
    assert "Z-score: 3.36" in section
    assert "Change: +46.6% from mean" in section
    assert message.blocks[2]["text"]["text"] == ":warning: *WARNING ALERTS (1):*"  # type: ignore[index]
    assert "Current: 4,497,947" in message.text


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (4_497_947.0, "tokens", "4,497,947"),
        (3_068_455.2, "count", "3,068,455"),
        (73.9, "count", "73.90"),
        (65.0, "count", "65"),
        (15_600.0, "usd", "$15,600.00"),
        (16_234.505, "usd", "$16,234.51"),
        (-12.5, "usd", "-$12.50"),
        (0.7345, "usd_per_request", "$0.73"),
        (0.204, "rate", "20.4%"),
        (0.25, "rate", "25.0%"),
        (4.25, "ratio", "4.25"),
        (1234.5678, "something_new", "1,234.57"),
        (None, "usd", "n/a"),
        (float("nan"), "count", "n/a"),
        (float("inf"), "rate", "n/a"),
    ],
)
def test_format_value(value: float | None, unit: str, expected: str) -> None:
    assert format_value(value, unit) == expected


@pytest.mark.parametrize(
    ("z", "expected"), [(3.355034, "3.36"), (3.354999, "3.35"), (-2.281968, "-2.28"), (None, "n/a")]
)
def test_format_z_two_decimals(z: float | None, expected: str) -> None:
    assert format_z(z) == expected


@pytest.mark.parametrize(
    ("pct", "expected"),
    [(0.46586, "+46.6%"), (-0.1204, "-12.0%"), (0.0, "+0.0%"), (1.5, "+150.0%"), (None, "n/a")],
)
def test_format_change_is_a_signed_fraction(pct: float | None, expected: str) -> None:
    assert format_change(pct) == expected


# --- golden digests ----------------------------------------------------------------------------


def test_golden_product_digest() -> None:
    routing = parse_routing({"default_channel": "#ltx-monitoring", "channels": {"product": "#ltx-usage-alerts"}}, {})
    plan = plan_digests(product_alerts(), routing, DAY, COST_DAY)
    assert [a.alert_id for a in plan.suppressed] == ["a-ent-weekend"]
    [d] = plan.digests
    messages = build_messages(d)
    check_golden("product_digest.txt", rendered(messages))
    text = rendered(messages)
    # grouped CRITICAL, WARNING, NOTICE in that order; the suppressed alert nowhere
    assert text.index("CRITICAL ALERTS (1)") < text.index("WARNING ALERTS (1)") < text.index("NOTICE ALERTS (1)")
    assert "Enterprise Pilot" not in text
    assert "McCann_NY (organization): 10 vs μ 40 (-30, 60% of change)" in text


def test_golden_cost_digest() -> None:
    messages = build_messages(digest(cost_alerts(), channel="#ltx-api-cost-alerts"))
    check_golden("api_cost_digest.txt", rendered(messages))
    text = rendered(messages)
    assert "Current: $16,234.50 | Mean (μ): $14,000.00 | Std Dev (σ): $800.00" in text
    assert "Threshold: $15,600.00" in text
    assert "Current: 25.0% | Mean (μ): 18.0% | Std Dev (σ): 2.0%" in text
    assert "Threshold: 20.4%" in text
    assert "Current: $0.73 | Mean (μ): $0.61 | Std Dev (σ): $0.03" in text
    assert "Threshold: change above 30.0%" in text
    assert f"day {COST_DAY.isoformat()}" in text


def test_golden_hostile_digest() -> None:
    alerts = [
        with_drivers(
            usage_alert(
                "h1",
                scope="enterprise_contract",
                drivers_summary=" ; ".join(HOSTILE),
                recommended_action="Call <!channel> & <@U1>",
            ),
            drivers(*[("organization", name, 10.0, 5.0, 0.1) for name in HOSTILE]),
        ),
        usage_alert("h2", team="<!channel>", scope="<@U1>", metric="<https://evil|click>", severity="<!everyone>"),
    ]
    messages = build_messages(digest(alerts), Limits(drivers_shown=10))
    check_golden("hostile_digest.txt", rendered(messages))


# --- escaping -------------------------------------------------------------------------------


def all_mrkdwn(messages: list[Message]) -> list[str]:
    out = [m.text for m in messages]
    for m in messages:
        for block in m.blocks:
            text = block.get("text")
            if isinstance(text, dict):
                out.append(str(text["text"]))
            for el in block.get("elements", []):  # type: ignore[union-attr]
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
    for text in all_mrkdwn(messages):
        assert "<" not in text and ">" not in text, text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
    assert escape(name) in json.dumps([m.blocks for m in messages], ensure_ascii=False)


def test_escape_order_and_truncate_never_splits_an_entity() -> None:
    assert escape("<a & b>") == "&lt;a &amp; b&gt;"
    assert escape("&lt;") == "&amp;lt;"
    text = escape("ab<<<<<<<<")
    for limit in range(3, len(text)):
        cut = truncate(text, limit)
        assert len(cut) <= limit
        assert not re.search(r"&[a-z]*…$", cut.replace("&lt;", "")), cut


# --- Slack limits: split, truncate, never fail --------------------------------------------------------


def many_alerts(n: int) -> list[Alert]:
    severities = ["critical", "warning", "notice"]
    return [
        usage_alert(
            f"m{i:04d}", severity=severities[i % 3], scope=["free", "paying", "heavy"][i % 3], metric=f"metric_{i}"
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [1, 46, 47, 48, 130])
def test_large_digest_is_split_into_messages_within_limits(n: int) -> None:
    alerts = many_alerts(n)
    messages = build_messages(digest(alerts))
    ids = [a for m in messages for a in m.alert_ids]
    assert sorted(ids) == sorted(a.alert_id for a in alerts)  # every alert exactly once
    for m in messages:
        assert len(m.blocks) <= 50
        assert len(m.blocks[0]["text"]["text"]) <= 150  # type: ignore[index]
        assert all(len(t) <= 3000 for t in all_mrkdwn([m]))
    if len(messages) > 1:
        assert messages[0].blocks[0]["text"]["text"].endswith(f"(1/{len(messages)})")  # type: ignore[index]


def test_block_count_boundary() -> None:
    # header + context + 1 group title + 47 alerts = 50 blocks: one message; 48 alerts: two
    one = build_messages(digest([usage_alert(f"w{i:02d}") for i in range(47)]))
    two = build_messages(digest([usage_alert(f"w{i:02d}") for i in range(48)]))
    assert [len(m.blocks) for m in one] == [50]
    assert len(two) == 2 and len(two[0].blocks) == 50 and len(two[1].blocks) == 4
    assert two[1].blocks[2]["text"]["text"].endswith("(continued)")  # type: ignore[index]


def test_over_long_strings_are_truncated_not_fatal() -> None:
    huge = "<!channel> " * 2000
    alert = usage_alert("long", drivers_summary=huge, recommended_action=huge, team="t" * 500)
    [message] = build_messages(digest([alert]))
    section = message.blocks[3]["text"]["text"]  # type: ignore[index]
    assert len(section) <= 3000 and section.endswith("…")
    assert len(message.blocks[0]["text"]["text"]) <= 150  # type: ignore[index]
    assert len(message.text) <= 3000


def test_fallback_text_ends_with_n_more_line_when_cut() -> None:
    limits = Limits(text_chars=600)
    messages = build_messages(digest(many_alerts(10)), limits)
    [message] = messages
    assert len(message.text) <= 600
    shown = message.text.count("\n• ")
    assert 0 < shown < 10
    assert message.text.endswith(f"… and {10 - shown} more alert(s): see the message blocks")


def test_no_alerts_no_message_and_all_clear_is_separate() -> None:
    assert build_messages(digest([])) == []
    clear = build_all_clear("#ltx-usage-alerts", ["product"], DAY, COST_DAY)
    assert "all clear" in clear.blocks[0]["text"]["text"]  # type: ignore[index]
    assert clear.alert_ids == (f"all_clear:{DAY.isoformat()}",)


def test_random_alerts_never_fail_and_respect_limits() -> None:
    """Unseen data: random strings, None / nan / huge numbers, unknown units and severities."""
    rng = random.Random(1234)
    alphabet = "abc <>&|@!#*_~`\n\t\"'é漢🚨"

    def s(max_len: int = 60) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, max_len)))

    def num() -> float | None:
        return rng.choice([None, float("nan"), 0.0, -1e12, 1e15, rng.uniform(-1e6, 1e6), 1e-9])

    for i in range(80):
        alerts = []
        for j in range(rng.randint(0, 60)):
            base = usage_alert(f"r{i}-{j}")
            alerts.append(
                dataclasses.replace(
                    base,
                    team=rng.choice([None, "", s(20), "api"]),
                    scope=s(),
                    metric=s(),
                    unit=rng.choice([None, "usd", "rate", "ratio", "count", "tokens", s(5)]),
                    current_value=num(),
                    baseline_mean=num(),
                    baseline_stddev=num(),
                    z_score=num(),
                    pct_change=num(),
                    threshold=num(),
                    severity=rng.choice(["critical", "warning", "notice", "CRITICAL", s(8)]),
                    direction=rng.choice([None, "increase", s(8)]),
                    rule=rng.choice([None, "day_over_day_jump", s(10)]),
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
            for text in all_mrkdwn([m]):
                assert len(text) <= 3000
                assert "<" not in text and ">" not in text
            json.dumps(m.blocks)  # serialisable
