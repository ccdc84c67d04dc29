"""Property-based fuzzing (hypothesis): hostile data in every data field, through what the runner sends.

Every delivery kind is composed (compose.py) from hostile alerts and lifecycle objects and rendered as
the runner does (`runner.render_body`: Slack, and Markdown for Linear). Asserted: no live `<` (no mention,
no link), no line break that came from data (each rendered line is one composed line), the action line
closing every incident section that has one, Slack's limits kept (50 blocks, 3,000-character sections,
150-character headers, capped fallback text), and every alert carried by exactly one message.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from types import SimpleNamespace as NS

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting import compose
from alerting.compose import Digest
from alerting.lifecycle import IncidentPlan
from alerting.message import MessageBody
from alerting.model import Alert, CostComponent, Driver, group_incidents
from alerting.render import slack
from alerting.render.slack import SlackMessage
from alerting.runner import render_body
from tests.python.alerting_support import COST_DAY, DAY, cost_alert, usage_alert

HOSTILE = st.sampled_from(
    ["<!channel>", "<@U123>", "<https://evil.example|click here>", "*bold*", "_it_", "~s~", "`code`", "```x```",
     "\nAction: ignore this", "> quoted", "&lt;", "&", "\u202e\u200b", "\r\n\r\n", "\x00\x1b[31m", "\u2028\u2029"]
)  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=6000),
    st.lists(st.one_of(HOSTILE, st.text(max_size=8)), max_size=12).map("".join),
)
NUM = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**62), 2**62).map(float))
SLACK_LIMITS = slack.Limits()


@st.composite
def alerts(draw: st.DrawFn) -> list[Alert]:
    out = []
    for i in range(draw(st.integers(1, 30))):
        base = usage_alert(f"u{i}") if draw(st.booleans()) else cost_alert(f"c{i}")
        contributors = tuple(
            Driver(
                contributor_type=draw(TEXT),
                contributor=draw(TEXT),
                value=draw(NUM),
                baseline_value=draw(NUM),
                delta=draw(NUM),
                share_of_delta=draw(NUM),
                rank=j,
                unit=draw(st.one_of(st.none(), TEXT)),
            )
            for j in range(draw(st.integers(0, 4)))
        )
        components = tuple(
            CostComponent(
                component=draw(st.one_of(st.sampled_from(["idle", "request_volume", "request_rate"]), TEXT)),
                delta_usd=draw(NUM),
                share_of_change=draw(NUM),
                contributor_type=draw(st.one_of(st.none(), TEXT)),
                contributor=draw(st.one_of(st.none(), TEXT)),
                pct_change=draw(NUM),
            )
            for _ in range(draw(st.integers(0, 4)))
        )
        out.append(
            dataclasses.replace(
                base,
                incident_id=draw(st.one_of(st.sampled_from(["i1", "i2"]), TEXT)),  # not-null columns stay set
                team=draw(TEXT),
                scope=draw(TEXT),
                metric=draw(TEXT),
                rule=draw(TEXT),
                threshold_kind=draw(st.one_of(st.none(), st.sampled_from(["z", "absolute", "ratio"]), TEXT)),
                baseline_kind=draw(st.one_of(st.none(), st.sampled_from(["same_weekday", "previous_day"]), TEXT)),
                unit=draw(st.one_of(st.none(), st.sampled_from(["usd", "ratio", "fraction"]), TEXT)),
                current_value=draw(NUM),
                baseline_mean=draw(NUM),
                baseline_stddev=draw(NUM),
                z_score=draw(NUM),
                robust_z_score=draw(NUM),
                pct_change=draw(NUM),
                threshold=draw(NUM),
                severity=draw(st.one_of(st.sampled_from(["critical", "warning", "notice"]), TEXT)),
                direction=draw(TEXT),
                hold_reason=draw(st.one_of(st.none(), TEXT)),
                has_baseline_outlier=draw(st.one_of(st.none(), st.booleans())),
                has_insufficient_baseline=draw(st.one_of(st.none(), st.booleans())),
                is_low_variance=draw(st.one_of(st.none(), st.booleans())),
                drivers_summary=draw(st.one_of(st.none(), TEXT)),
                recommended_action=draw(st.one_of(st.none(), TEXT)),
                run_days=draw(st.integers(1, 400)),
                drivers=contributors,
                decomposition=components,
            )
        )
    return out


def bodies(items: list[Alert], words: list[str]) -> list[tuple[str, MessageBody | None]]:
    """(kind, the body the runner composes) for every delivery kind, lifecycle objects built from the fuzzed data."""
    first = items[0]
    said = NS(alert_id=first.alert_id, alert_date=DAY, series_key="|".join(words[:4]), severity=words[0],
              direction=words[1], z_score=first.z_score, current_value=first.current_value, kind=words[2])  # fmt: skip
    health = dataclasses.replace(first, domain="data_health", scope=words[0], unit=None)
    trend = tuple((DAY, a.z_score) for a in items[:5])
    plans = [IncidentPlan(i.incident_id, i.primary, i.members, trend) for i in group_incidents(items)]
    resolution = NS(series=(NS(series=tuple(words[:3]), last_alert_date=DAY, quiet_days=3),), alert_date=DAY)
    failure = NS(resource_type=words[3], name=words[4], status="fail", rows=len(items))
    return [
        ("digest", compose.digest(Digest("#x", tuple(words), DAY, COST_DAY, tuple(items), tuple(items[:3])))),
        ("digest", compose.digest(Digest("#x", tuple(words), DAY, COST_DAY, (health,), tuple(items)))),
        ("repeat", compose.repeats(plans)),
        ("summary", compose.summary(items, DAY, COST_DAY)),
        ("correction", compose.correction(NS(alert=said, was=said), first)),
        ("withdrawal", compose.withdrawal(NS(was=said, reason=words[4]))),
        ("resolved", compose.resolved(resolution)),
        ("pipeline_health", compose.pipeline_health(DAY, [NS(source=words[0], last_loaded_day=None)], [failure])),
        ("all_clear", compose.all_clear(words, DAY, COST_DAY)),
    ]


def slack_texts(message: slack.SlackMessage) -> list[str]:
    out = [message.text]
    for block in message.blocks:
        obj = block.get("text")
        if isinstance(obj, dict):
            out.append(str(obj["text"]))
        for el in [*block.get("elements", []), *block.get("fields", [])]:  # type: ignore[misc]
            out.append(str(el["text"]))
    return out


def no_break_from_data(body: MessageBody) -> None:
    """Every data span is one line: no control, format or separator character survives cleaning."""
    for ln in body.lines():
        for span in ln:
            if span.data:
                assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in span.text), span


def check_lines(kind: str, body: MessageBody) -> None:
    """Each rendered Slack line is one composed line (data adds no break); incident sections end in the action."""
    for section in body.sections:
        rendered = [b for b in slack.render_section(section, SLACK_LIMITS) if b["type"] == "section"]
        lines = [ln for b in rendered for ln in b["text"]["text"].split("\n")]  # type: ignore[index]
        assert len(lines) == len(section.lines)
        if kind in ("digest", "repeat", "correction", "pipeline_health"):
            assert lines[-1].startswith("*Action:* ")


def check_slack(messages: list[SlackMessage]) -> None:
    assert messages
    for m in messages:
        assert len(m.blocks) <= SLACK_LIMITS.blocks_per_message
        assert m.blocks[0]["type"] == "header"
        assert len(m.blocks[0]["text"]["text"]) <= SLACK_LIMITS.header_chars  # type: ignore[index]
        assert len(m.text) <= SLACK_LIMITS.text_chars
        for t in slack_texts(m):
            assert "<" not in t and ">" not in t  # no live mention, link or quote marker
            assert len(t) <= SLACK_LIMITS.section_chars


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(items=alerts(), words=st.lists(TEXT, min_size=5, max_size=5))
def test_hostile_data_through_every_message_kind(items: list[Alert], words: list[str]) -> None:
    for kind, body in bodies(items, words):
        assert body is not None
        messages = render_body(body, SLACK_LIMITS)
        check_slack(messages if kind in ("digest", "repeat", "summary") else messages[:1])  # a reply: one message
        no_break_from_data(body)
        check_lines(kind, body)
        if kind in ("digest", "repeat", "summary"):  # every alert in exactly one message
            assert sorted(a for m in messages for a in m.alert_ids) == sorted(body.alert_ids)
        [markdown] = render_body(body, SLACK_LIMITS, issue=True)
        assert "<" not in markdown.text and markdown.text.startswith("### ")  # data's < arrives as ‹
