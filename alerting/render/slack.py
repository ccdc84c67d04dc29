"""MessageBody -> Slack messages (Block Kit + fallback text) within Slack's documented limits.

A long body is split between sections into parts "(1/3)", ..., each carrying the alert ids it shows (what
the delivery log records); a long section between lines. Data spans are escaped here (`sanitize.slack_mrkdwn`)."""

from __future__ import annotations

import contextlib
import html
from collections.abc import Sequence
from dataclasses import dataclass

from alerting import feedback_buttons, sanitize
from alerting.message import Line, MessageBody, Section, Span, marked_up

ICONS = {
    "critical": ":red_circle:",
    "warning": ":warning:",
    "notice": ":large_blue_circle:",
    "alert": ":rotating_light:",
    "digest": ":bar_chart:",
    "ok": ":white_check_mark:",
    "repeat": ":repeat:",
    "correction": ":pencil2:",
    "withdrawn": ":wastebasket:",
}
UNKNOWN_ICON = ":grey_question:"
Rendered = list[dict[str, object]]


@dataclass(frozen=True)
class Limits:  # Slack's documented limits; smaller ones (at least 4 blocks, 40 characters) test the splits
    header_chars: int = 150
    section_chars: int = 3000
    blocks_per_message: int = 50
    text_chars: int = 3000


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: Rendered
    alert_ids: tuple[str, ...]


def _span_mrkdwn(span: Span) -> str:
    if span.icon:
        return ICONS.get(span.text, UNKNOWN_ICON)
    if span.link:  # validated config URL (no |, <, >, spaces); the label is template text
        return f"<{span.link}|{html.escape(span.text, quote=False)}>"
    return sanitize.slack_mrkdwn(span.text) if span.data else html.escape(span.text, quote=False)


def mrkdwn(ln: Line) -> str:
    return marked_up(ln, _span_mrkdwn, "*")


def plain_text(ln: Line) -> str:
    return "".join(
        ICONS.get(s.text, UNKNOWN_ICON) if s.icon else sanitize.slack_plain(s.text) if s.data else s.text for s in ln
    )


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def render_section(section: Section, limits: Limits) -> Rendered:
    chunks = [""]  # the lines joined into texts of at most section_chars, cut only between lines
    for text in (sanitize.truncate_mrkdwn(mrkdwn(ln), limits.section_chars) for ln in section.lines):
        if chunks[-1] and len(chunks[-1]) + 1 + len(text) > limits.section_chars:
            chunks.append(text)
        else:
            chunks[-1] = f"{chunks[-1]}\n{text}" if chunks[-1] else text
    chunks = [c for c in chunks if c]
    if section.context:
        return [_context(chunk) for chunk in chunks]
    blocks = [_section(chunk) for chunk in chunks]
    if section.incident_id is not None:
        # an id no click could name (not a mart's md5): no buttons
        with contextlib.suppress(feedback_buttons.FeedbackValueError):
            blocks += feedback_buttons.actions_block(section.incident_id, section.alert_ids)
    return blocks


def _fallback(header: str, intro: Sequence[str], sections: Sequence[tuple[str, str]], limit: int) -> str:
    """Header, intro, then each section in full while it fits, else its first line; then '… and N more'."""
    text = sanitize.truncate_mrkdwn("\n".join([header, *intro]), limit)
    for i, (full, summary) in enumerate(sections):
        more = f"\n… and {len(sections) - i} more: see the message blocks"
        room = limit - (0 if i == len(sections) - 1 else len(more))
        fits = [c for c in (f"{text}\n{full}", f"{text}\n{summary}") if len(c) <= room]
        if not fits:
            return sanitize.truncate_mrkdwn(text, limit - len(more)) + more
        text = fits[0]
    return text


Part = list[tuple[Section, Rendered]]


def _parts(body: MessageBody, limits: Limits, room: int) -> list[Part]:
    """The sections rendered and packed into parts of at most `room` blocks (dividers included)."""
    parts: list[Part] = [[]]
    for section in body.sections:
        own = render_section(section, limits)
        if len(own) > room - 1:  # a section that cannot fit a message alone: cut, say so
            own = [*own[: room - 2], _section("… (cut: too long for one Slack message)")]
        if parts[-1] and sum(len(o) + 1 for _, o in parts[-1]) + len(own) > room:  # + a divider between sections
            parts.append([])
        parts[-1].append((section, own))
    return parts


def render(body: MessageBody, limits: Limits) -> list[SlackMessage]:
    intro = render_section(body.intro, limits) if body.intro else []
    intro_text = [mrkdwn(ln) for ln in body.intro.lines] if body.intro else []
    room = limits.blocks_per_message - 1 - len(intro)  # header + intro repeated in every part
    if room < 2:  # an intro too big to repeat: keep only the first intro block
        intro, room = intro[:1], limits.blocks_per_message - 2
    parts = _parts(body, limits, room)
    messages = []
    for index, part in enumerate(parts, start=1):
        suffix = f" ({index}/{len(parts)})" if len(parts) > 1 else ""
        header = sanitize.cap(plain_text(body.header), limits.header_chars - len(suffix)) + suffix
        blocks: Rendered = [{"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}}, *intro]
        for i, (_, own) in enumerate(part):
            blocks += [{"type": "divider"}, *own] if i else own
        lines = [[mrkdwn(ln) for ln in s.lines] for s, _ in part]
        texts = [("\n".join(x), x[0] if x else "") for x in lines]  # each section in full, and its headline
        title = sanitize.truncate_mrkdwn(mrkdwn(body.header), limits.header_chars) + suffix
        alert_ids = tuple(a for s, _ in part for a in s.alert_ids)
        text = _fallback(title, intro_text, texts, limits.text_chars)
        messages.append(SlackMessage(text, blocks, alert_ids))
    return messages


def marked(message: SlackMessage, note: str, limits: Limits, emoji: str = "") -> SlackMessage:
    """The message with a note on top: a context line led by `emoji` (when the block limit allows) and in the text."""
    blocks = message.blocks
    if blocks and len(blocks) < limits.blocks_per_message:
        blocks = [_context(f"{emoji} {note}".strip()), *blocks]
    return SlackMessage(sanitize.cap(f"{note}\n{message.text}", limits.text_chars), blocks, message.alert_ids)
