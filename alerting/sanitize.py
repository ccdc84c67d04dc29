"""Neutralise data strings: `clean` when a body is composed (one short inert line, for every renderer), then
`slack_mrkdwn` when Slack renders it (no ping, link or formatting), `markdown_inert` for Linear's Markdown.
docs/alerting-and-delivery.md, "Security"."""

from __future__ import annotations

import html
import re
import unicodedata

ELLIPSIS = "…"
NAME_CAP = 80  # names: org, endpoint, process, scope, metric
TEXT_CAP = 300  # longer data text: recommended action, drivers summary

_SLACK_TABLE = str.maketrans({"*": "∗", "~": "∼", "`": "ˋ"})
# look-alikes Markdown (Linear's) does not parse: no mention, link, image, HTML, code or escape
_MARKDOWN_TABLE = str.maketrans({"@": "＠", "[": "［", "]": "］", "<": "‹", ">": "›", "`": "ˋ", "\\": "∖"})
# an underscore between two letters/digits (McCann_NY) cannot open or close italics; any other can
_FREE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# Cc: C0/C1 controls incl. \n \r \t; Cf: zero-width, bidi overrides, soft hyphen...;
# Zl / Zp: U+2028 / U+2029 line and paragraph separators; Cs: lone surrogates
_BREAKS = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_OPEN_ENTITY = re.compile(r"&[^;&]*\Z")  # the last '&' with no ';' after it


def collapse(value: object) -> str:
    text = "".join(" " if unicodedata.category(ch) in _BREAKS else ch for ch in str(value))
    return " ".join(text.split())


def cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def clean(value: object, limit: int = NAME_CAP) -> str:
    if value is None:
        return ""
    text = collapse(value)
    return cap("›" + text[1:] if text.startswith(">") else text, limit)


def slack_mrkdwn(text: str) -> str:
    return _FREE_UNDERSCORE.sub("ˍ", html.escape(text, quote=False).translate(_SLACK_TABLE))


def markdown_inert(value: object, limit: int = NAME_CAP) -> str:
    """A data string made inert for Markdown (Linear): one short line, no mention, link, HTML, code or heading."""
    text = clean(value, limit).translate(_MARKDOWN_TABLE).replace("://", ":⁄⁄")
    return "＃" + text[1:] if text.startswith("#") else text


def slack_plain(text: str) -> str:
    """For plain_text objects (headers): Slack does not parse them, but no `<` should travel raw."""
    return text.replace("<", "‹").replace(">", "›")


def truncate_mrkdwn(text: str, limit: int) -> str:
    """Cut rendered mrkdwn to `limit` without splitting an entity (&amp; &lt; &gt;)."""
    if len(text) <= limit:
        return text
    return _OPEN_ENTITY.sub("", text[: limit - 1]) + ELLIPSIS
