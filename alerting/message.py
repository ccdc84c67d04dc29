"""Neutral message bodies: what a message says, with no platform's markup in it.

A line is a tuple of `Span`s: template text written by this package, or data (`data=True`:
cleaned by `sanitize.clean` when made, escaped again by each renderer for its own syntax).
A `Section` groups the blocks of one incident, so a renderer that splits a long message
never cuts an incident in two and knows which alerts each part carries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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
    return Span(text, strong=strong)


def d(value: object, limit: int = sanitize.NAME_CAP, strong: bool = False) -> Span:
    """A data string: one clean, capped line now; escaped by each renderer."""
    return Span(sanitize.clean(value, limit), data=True, strong=strong)


def link(url: str, label: str) -> Span:
    return Span(label, link=url)


def icon(name: str) -> Span:
    return Span(name, icon=True)


def line(*parts: Span | str) -> Line:
    """A line from spans; bare strings are template text."""
    return tuple(p if isinstance(p, Span) else t(p) for p in parts)


def plain(ln: Line) -> str:
    """The line's characters without markup or icons."""
    return "".join(s.text for s in ln if not s.icon).strip()


@dataclass(frozen=True)
class Header:
    text: Line


@dataclass(frozen=True)
class Text:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Context:
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Actions:
    """What a reader can do about an incident (acknowledge, snooze, ...): buttons where the platform has them."""

    incident_id: str
    alert_ids: tuple[str, ...]


Block = Header | Text | Context | Actions


@dataclass(frozen=True)
class Section:
    blocks: tuple[Block, ...]
    alert_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class MessageBody:
    header: Header
    intro: tuple[Block, ...] = ()
    sections: tuple[Section, ...] = ()

    @property
    def alert_ids(self) -> tuple[str, ...]:
        return tuple(a for s in self.sections for a in s.alert_ids)

    def blocks(self) -> Iterator[Block]:
        yield self.header
        yield from self.intro
        for s in self.sections:
            yield from s.blocks


def block_lines(block: Block) -> tuple[Line, ...]:
    if isinstance(block, Header):
        return (block.text,)
    return () if isinstance(block, Actions) else block.lines
