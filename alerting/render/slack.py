"""MessageBody -> Slack messages (Block Kit + notification/fallback text) within Slack's limits.

Limits kept (defaults are Slack's documented ones): at most 50 blocks per message, 3,000
characters per section text, 150 per header, 10 fields per section; the fallback text is
capped too. A body too long for one message is split between incident sections into parts
whose headers end "(1/3)", "(2/3)" ...; each part carries the alert ids it shows, so the
delivery log records what each Slack message holds. A section text over 3,000 characters
is split at line boundaries (a line itself is short: data fields are capped), so an
alert's numbers and action line are never cut off.

Data spans are escaped here (`sanitize.slack_mrkdwn`); template spans pass as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from alerting import feedback_buttons, sanitize
from alerting.message import (
    Actions,
    Block,
    Context,
    Divider,
    Fields,
    Header,
    Line,
    MessageBody,
    Section,
    Span,
    Table,
    Text,
    join,
)

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


@dataclass(frozen=True)
class Limits:
    """Slack's documented limits (defaults); smaller values are handy in tests."""

    header_chars: int = 150
    section_chars: int = 3000
    blocks_per_message: int = 50
    text_chars: int = 3000
    fields_per_section: int = 10

    def __post_init__(self) -> None:
        if self.blocks_per_message < 4:
            raise ValueError("blocks_per_message must be >= 4 (header, context, one section, one more)")
        if min(self.header_chars, self.section_chars, self.text_chars) < 40:
            raise ValueError("character limits below 40 cannot hold a message")


@dataclass(frozen=True)
class SlackMessage:
    text: str
    blocks: list[dict[str, object]] = field(default_factory=list)
    alert_ids: tuple[str, ...] = ()
    incident_ids: tuple[str, ...] = ()


def _span_mrkdwn(span: Span) -> str:
    if span.icon:
        return ICONS.get(span.text, UNKNOWN_ICON)
    if span.link:  # validated config URL (no |, <, >, spaces); the label is template text
        return f"<{span.link}|{sanitize.slack_entities(span.text)}>"
    # template text may use mrkdwn (`code`), but &, <, > are escaped like Slack asks for all text
    return sanitize.slack_mrkdwn(span.text) if span.data else sanitize.slack_entities(span.text)


def mrkdwn(ln: Line) -> str:
    """A line as mrkdwn: data escaped; each run of strong spans wrapped once in *...* (spaces outside)."""
    out = []
    run: list[Span] = []
    for span in [*ln, Span("", strong=False)]:  # a sentinel flushes the last run
        if span.strong and not span.icon:
            run.append(span)
            continue
        if run:
            text = "".join(_span_mrkdwn(s) for s in run)
            core = text.strip()
            if core:
                lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
                text = f"{lead}*{core}*{trail}"
            out.append(text)
            run = []
        out.append(_span_mrkdwn(span))
    return "".join(out)


def plain_text(ln: Line) -> str:
    out = []
    for span in ln:
        if span.icon:
            out.append(ICONS.get(span.text, UNKNOWN_ICON))
        else:
            out.append(sanitize.slack_plain(span.text) if span.data else span.text)
    return "".join(out)


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _split_lines(texts: Sequence[str], limit: int) -> list[str]:
    """Join lines into chunks of at most `limit` characters, breaking only between lines."""
    chunks: list[str] = []
    current = ""
    for text in texts:
        text = sanitize.truncate_mrkdwn(text, limit)
        candidate = f"{current}\n{text}" if current else text
        if current and len(candidate) > limit:
            chunks.append(current)
            candidate = text
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def render_block(block: Block, limits: Limits) -> list[dict[str, object]]:
    if isinstance(block, Actions):
        try:
            return feedback_buttons.actions_block(block.incident_id, block.alert_ids, "slack:")
        except feedback_buttons.FeedbackValueError:  # an id no click could name (not a mart's md5): no buttons
            return []
    if isinstance(block, Header):
        text = sanitize.cap(plain_text(block.text), limits.header_chars)
        return [{"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}]
    if isinstance(block, Text):
        return [_section(chunk) for chunk in _split_lines([mrkdwn(ln) for ln in block.lines], limits.section_chars)]
    if isinstance(block, Context):
        return [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": chunk}]}
            for chunk in _split_lines([mrkdwn(ln) for ln in block.lines], limits.section_chars)
        ]
    if isinstance(block, Fields):
        out: list[dict[str, object]] = []
        pairs = list(block.pairs)
        for i in range(0, len(pairs), limits.fields_per_section):
            fields = [
                {"type": "mrkdwn", "text": sanitize.truncate_mrkdwn(f"*{mrkdwn(label)}*\n{mrkdwn(value)}", 2000)}
                for label, value in pairs[i : i + limits.fields_per_section]
            ]
            out.append({"type": "section", "fields": fields})
        return out
    if isinstance(block, Table):
        head = " | ".join(f"*{c}*" for c in block.columns)
        rows = [mrkdwn(join(row, " | ")) for row in block.rows]
        return [_section(chunk) for chunk in _split_lines([head, *rows], limits.section_chars)]
    if isinstance(block, Divider):
        return [{"type": "divider"}]
    return []


def _fallback(header: str, intro: Sequence[str], sections: Sequence[tuple[str, str]], limit: int) -> str:
    """Header, intro, then each section in full while it fits, else its one-line summary; then '… and N more'.

    `sections` are (full mrkdwn, summary); the text is cut only between sections.
    """
    text = sanitize.truncate_mrkdwn("\n".join([header, *intro]), limit)
    for i, (full, summary) in enumerate(sections):
        more = f"\n… and {len(sections) - i} more: see the message blocks"
        last = i == len(sections) - 1
        for candidate in (f"{text}\n{full}", f"{text}\n{summary}"):
            if len(candidate) + (0 if last else len(more)) <= limit:
                text = candidate
                break
        else:
            return sanitize.truncate_mrkdwn(text, limit - len(more)) + more
    return text


def _with_part(header: Header, part: int, parts: int, limits: Limits) -> dict[str, object]:
    text = plain_text(header.text)
    suffix = f" ({part}/{parts})" if parts > 1 else ""
    text = sanitize.cap(text, limits.header_chars - len(suffix)) + suffix
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def render(body: MessageBody, limits: Limits | None = None) -> list[SlackMessage]:
    """The Slack messages for one body: parts of whole sections, each within the limits."""
    limits = limits or Limits()
    intro_blocks = [b for block in body.intro for b in render_block(block, limits)]
    intro_text = [mrkdwn(ln) for block in body.intro if isinstance(block, Text | Context) for ln in block.lines]
    room = limits.blocks_per_message - 1 - len(intro_blocks)  # header + intro repeated in every part
    if room < 2:  # an intro too big to repeat: keep only the first intro block
        intro_blocks = intro_blocks[:1]
        room = limits.blocks_per_message - 2

    rendered: list[tuple[Section, list[dict[str, object]]]] = []
    for section in body.sections:
        own = [b for block in section.blocks for b in render_block(block, limits)]
        if len(own) > room - 1:  # a section that cannot fit a message alone: cut, say so
            own = [*own[: room - 2], _section("… (cut: too long for one Slack message)")]
        rendered.append((section, own))

    parts: list[list[tuple[Section, list[dict[str, object]]]]] = []
    current: list[tuple[Section, list[dict[str, object]]]] = []
    used = 0
    for section, own in rendered:
        need = len(own) + (1 if current else 0)  # a divider between sections
        if current and used + need > room:
            parts.append(current)
            current, used, need = [], 0, len(own)
        current.append((section, own))
        used += need
    if current or not parts:
        parts.append(current)

    messages = []
    for index, part in enumerate(parts, start=1):
        header = _with_part(body.header, index, len(parts), limits)
        blocks: list[dict[str, object]] = [header, *intro_blocks]
        for i, (_, section_blocks) in enumerate(part):
            if i:
                blocks.append({"type": "divider"})
            blocks.extend(section_blocks)
        texts = [
            (
                "\n".join(mrkdwn(ln) for block in s.blocks if isinstance(block, Text) for ln in block.lines),
                mrkdwn(s.summary),
            )
            for s, _ in part
        ]
        suffix = f" ({index}/{len(parts)})" if len(parts) > 1 else ""
        title = sanitize.truncate_mrkdwn(mrkdwn(body.header.text), limits.header_chars) + suffix
        text = _fallback(title, intro_text, texts, limits.text_chars)
        alert_ids = tuple(a for s, _ in part for a in s.alert_ids)
        if index == 1:
            alert_ids += body.extra_ids
        messages.append(
            SlackMessage(
                text=text,
                blocks=blocks,
                alert_ids=alert_ids,
                incident_ids=tuple(i for s, _ in part for i in s.incident_ids),
            )
        )
    return messages
