"""Neutral message bodies: what a message says, with no platform's markup in it.

A line is a tuple of `Span`s: template text, or data (cleaned when made, escaped again by each renderer).
A `Section` holds one incident's lines: a renderer that splits a long message never cuts an incident in two."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from alerting import sanitize


@dataclass(frozen=True)
class Span:
    text: str
    data: bool = False
    strong: bool = False
    icon: bool = False  # text is a neutral icon name (critical, warning, notice, ok, repeat, ...)
    link: str | None = None  # a validated URL from configuration (never from data); text is its label


Line = tuple[Span, ...]
t = Span  # template text: t("Action: ", strong=True)


def d(value: object, limit: int = sanitize.NAME_CAP, strong: bool = False) -> Span:
    """A data string: one clean, capped line now; escaped by each renderer."""
    return Span(sanitize.clean(value, limit), data=True, strong=strong)


def icon(name: str) -> Span:
    return Span(name, icon=True)


def line(*parts: Span | str) -> Line:
    return tuple(p if isinstance(p, Span) else t(p) for p in parts)


def marked_up(ln: Line, span_text: Callable[[Span], str], mark: str) -> str:
    """The spans rendered in order, each run of strong spans wrapped once in `mark` (spaces outside)."""
    out = []
    for strong, run in groupby(ln, key=lambda s: s.strong and not s.icon):
        text = "".join(span_text(s) for s in run)
        core = text.strip()
        if strong and core:
            start = text.index(core)
            text = f"{text[:start]}{mark}{core}{mark}{text[start + len(core) :]}"
        out.append(text)
    return "".join(out)


def plain(ln: Line) -> str:
    return "".join(s.text for s in ln if not s.icon).strip()


@dataclass(frozen=True)
class Section:
    lines: tuple[Line, ...]
    alert_ids: tuple[str, ...] = ()
    incident_id: str | None = None  # feedback buttons under the lines, where the platform has them
    context: bool = False  # small print (an intro's counts), where the platform has it


@dataclass(frozen=True)
class MessageBody:
    header: Line
    intro: Section | None = None  # repeated on top of every part of a split message
    sections: tuple[Section, ...] = ()

    @property
    def alert_ids(self) -> tuple[str, ...]:
        return tuple(a for s in self.sections for a in s.alert_ids)

    def lines(self) -> list[Line]:
        intro = self.intro.lines if self.intro else ()
        return [self.header, *intro, *(ln for s in self.sections for ln in s.lines)]
