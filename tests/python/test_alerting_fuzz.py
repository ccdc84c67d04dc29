"""Property-based fuzzing (hypothesis): hostile data in every data field, through every body and renderer.

Asserts for every rendered message: no live `<` (no mention, no link), no line break that
came from data (each rendered line is one composed line), the action line present in every
incident section, and Slack's limits kept (50 blocks, 3,000-character sections, 150-character
headers, capped fallback text).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerting.compose import (
    compose_all_clear,
    compose_correction,
    compose_data_health,
    compose_digest,
    compose_repeat,
    compose_resolved,
    compose_withdrawal,
)
from alerting.message import MessageBody, Text, plain
from alerting.model import Alert, CostComponent, DeliveryState, Digest, Driver, group_incidents
from alerting.render import slack, text
from tests.python.alerting_support import COST_DAY, DAY, cost_alert, usage_alert
from tests.python.test_alerting_messages import MarkdownRenderer

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
                incident_id=draw(st.one_of(st.none(), st.sampled_from(["i1", "i2"]), TEXT)),
                team=draw(st.one_of(st.none(), TEXT)),
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
                direction=draw(st.one_of(st.none(), TEXT)),
                hold_reason=draw(st.one_of(st.none(), TEXT)),
                has_baseline_outlier=draw(st.one_of(st.none(), st.booleans())),
                has_insufficient_baseline=draw(st.one_of(st.none(), st.booleans())),
                is_low_variance=draw(st.one_of(st.none(), st.booleans())),
                drivers_summary=draw(st.one_of(st.none(), TEXT)),
                recommended_action=draw(st.one_of(st.none(), TEXT)),
                drivers=contributors,
                decomposition=components,
            )
        )
    return out


def bodies(items: list[Alert], words: list[str]) -> list[MessageBody]:
    first = items[0]
    was = DeliveryState(first.alert_id, words[0], words[1], first.z_score, first.current_value, DAY, words[2], words[3])
    health = dataclasses.replace(first, domain="data_health", scope=words[0], unit=None)
    digest = Digest("#x", tuple(words), DAY, COST_DAY, tuple(items), held=tuple(items[:3]))
    out = [
        compose_repeat(group_incidents(items)[0], [was, was]),
        compose_correction(first, was),
        compose_withdrawal(was, words[4]),
        compose_resolved(was, DAY + dt.timedelta(days=1), first.z_score, first.current_value, 3),
        compose_data_health(health, len(items)),
        compose_all_clear(words, DAY, COST_DAY, usage_checked=False),
    ]
    body = compose_digest(digest)
    assert body is not None
    return [body, *out]


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
    for block in body.blocks():
        for ln in getattr(block, "lines", ()) or ((block.text,) if hasattr(block, "text") else ()):
            for span in ln:
                if span.data:
                    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in span.text), span


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(items=alerts(), words=st.lists(TEXT, min_size=5, max_size=5))
def test_hostile_data_through_every_body_and_renderer(items: list[Alert], words: list[str]) -> None:
    for body in bodies(items, words):
        no_break_from_data(body)
        messages = slack.render(body, SLACK_LIMITS)
        assert messages
        assert sorted(a for m in messages for a in m.alert_ids) == sorted(body.alert_ids)
        for m in messages:
            assert len(m.blocks) <= SLACK_LIMITS.blocks_per_message
            assert m.blocks[0]["type"] == "header"
            assert len(m.blocks[0]["text"]["text"]) <= SLACK_LIMITS.header_chars  # type: ignore[index]
            assert len(m.text) <= SLACK_LIMITS.text_chars
            for t in slack_texts(m):
                assert "<" not in t and ">" not in t  # no live mention, link or quote marker
                assert len(t) <= SLACK_LIMITS.section_chars
        # each rendered Slack line is one composed line: data adds no line break
        for section in body.sections:
            for block in section.blocks:
                if isinstance(block, Text):
                    rendered = slack.render_block(block, SLACK_LIMITS)
                    lines = [ln for b in rendered for ln in b["text"]["text"].split("\n")]  # type: ignore[index]
                    assert len(lines) == len(block.lines)
                    if body.kind in ("digest", "repeat", "correction", "data_health"):
                        assert lines[-1].startswith("*Action:* ")
        markdown = MarkdownRenderer().render(body)
        assert not re.search(r"(?<!\\)<", markdown)  # the Markdown double escapes every data <
        plain_out = text.render(body)
        assert plain(body.header.text)[:20] in plain_out
        composed = sum(len(getattr(b, "lines", ())) for b in body.blocks()) + 1  # + header
        assert plain_out.count("\n") <= composed + 2 + len(body.sections) + 1
