"""Neutral message bodies: what a message says, with no platform's markup in it.

A line is a tuple of `Span`s. A span is either template text written by this package
(trusted) or data (`data=True`: org names, scopes, actions ... already `sanitize.clean`ed
when the span was made, and escaped again by each renderer for its own syntax). `strong`
asks for emphasis where the platform has it.

Blocks: Header, Text (one or more lines), Fields (label/value pairs), Table, Divider,
Context; a `Section` groups the blocks of one incident so a renderer splitting a long
message into parts never cuts an incident in two (and knows which alerts each part carries).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from alerting import sanitize


@dataclass(frozen=True)
class Span:
    text: str
    data: bool = False
    strong: bool = False
    icon: bool = False  # text is a neutral icon name (critical, warning, notice, ok, repeat, ...)
    link: str | None = None  # a validated URL from configuration (never from data); text is its label


Line = tuple[Span, ...]


def t(text: str, strong: bool = False) -> Span:
    """Template text (trusted: written in this package)."""
    return Span(text, data=False, strong=strong)


def d(value: object, limit: int = sanitize.NAME_CAP, strong: bool = False) -> Span:
    """A data string: cleaned (one line, no control characters, capped) now; escaped by renderers."""
    return Span(sanitize.clean(value, limit), data=True, strong=strong)


def link(url: str, label: str) -> Span:
    """A link whose URL comes from validated configuration (alerting.report.report_url), never from data."""
    return Span(label, link=url)


def icon(name: str) -> Span:
    """A neutral icon; each renderer maps it (Slack: an emoji; text: a bracketed word or nothing)."""
    return Span(name, icon=True)


def line(*parts: Span | str) -> Line:
    """A line from spans; bare strings are template text."""
    return tuple(p if isinstance(p, Span) else t(p) for p in parts)


def join(lines: Iterable[Line], sep: str) -> Line:
    out: list[Span] = []
    for i, ln in enumerate(lines):
        if i:
            out.append(t(sep))
        out.extend(ln)
    return tuple(out)


def plain(ln: Line) -> str:
    """The line's characters without any markup (for tests, limits and logs)."""
    return "".join(s.text for s in ln if not s.icon).strip()


@dataclass(frozen=True)
class Header:
    text: Line


@dataclass(frozen=True)
class Text:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Fields:
    pairs: tuple[tuple[Line, Line], ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Line, ...], ...]


@dataclass(frozen=True)
class Divider:
    pass


@dataclass(frozen=True)
class Context:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Actions:
    """What a reader can do about an incident from the message (acknowledge, snooze, expected, false
    alarm): a platform with interactivity renders buttons (Slack: alerting/feedback_buttons.py), others nothing."""

    incident_id: str
    alert_ids: tuple[str, ...]


Block = Header | Text | Fields | Table | Divider | Context | Actions


@dataclass(frozen=True)
class Section:
    """The blocks of one incident (or one other unit that must stay together)."""

    blocks: tuple[Block, ...]
    alert_ids: tuple[str, ...] = ()
    incident_ids: tuple[str, ...] = ()
    summary: Line = ()  # one line for a notification / fallback text


@dataclass(frozen=True)
class MessageBody:
    """One message: a header, leading context blocks, then sections.

    `fallback_title` is the short plain summary used for notifications; alert_ids /
    incident_ids are everything the message carries (each rendered part carries its own).
    """

    header: Header
    intro: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = ()
    fallback_title: str = ""
    kind: str = "digest"  # digest / repeat / correction / withdrawal / resolved / data_health / all_clear
    extra_ids: tuple[str, ...] = field(default=())  # ids carried that are not alerts (e.g. all_clear:DAY)

    @property
    def alert_ids(self) -> tuple[str, ...]:
        return tuple(a for s in self.sections for a in s.alert_ids) + self.extra_ids

    @property
    def incident_ids(self) -> tuple[str, ...]:
        return tuple(i for s in self.sections for i in s.incident_ids)

    def blocks(self) -> Iterator[Block]:
        yield self.header
        yield from self.intro
        for s in self.sections:
            yield from s.blocks


def block_lines(block: Block) -> list[Line]:
    """Every line a block shows (Fields as 'label: value', Table rows joined), for tests and text output."""
    if isinstance(block, Header):
        return [block.text]
    if isinstance(block, Text | Context):
        return list(block.lines)
    if isinstance(block, Fields):
        return [(*label, t(": "), *value) for label, value in block.pairs]
    if isinstance(block, Table):
        return [line(" | ".join(block.columns)), *[join(row, " | ") for row in block.rows]]
    return []
