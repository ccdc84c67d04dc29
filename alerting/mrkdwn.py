"""Slack mrkdwn safety: every string that comes from data goes through `escape` first.

Slack parses `<...>` as mentions (`<!channel>`, `<@U123>`) and links (`<http://x|label>`)
and `&` starts an entity. Escaping exactly these three characters (Slack's documented
rule) makes a hostile organisation name arrive as inert text.
"""

from __future__ import annotations

import re

_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")
_PLAIN_UNSAFE = re.compile(r"[<>&\x00-\x1f]")


def escape(value: object) -> str:
    """Escape `&`, `<`, `>` (in that order, so `&lt;` is never double-escaped wrongly)."""
    text = str(value)
    for raw, entity in _ENTITIES:
        text = text.replace(raw, entity)
    return text


def truncate(text: str, limit: int, marker: str = "…") -> str:
    """Cut escaped mrkdwn to at most `limit` characters without splitting an entity."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: max(limit - len(marker), 0)])
    return cut + marker


def plain_label(value: object, limit: int = 40) -> str:
    """A data string for plain_text fields (headers): control and markup characters removed."""
    return _PLAIN_UNSAFE.sub("", str(value)).strip()[:limit]
