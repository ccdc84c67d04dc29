"""Neutralise data strings (org names, scopes, actions, ...) before any renderer sees them.

Two steps, kept apart:
* `clean(value, cap)` — renderer-independent, applied when a message body is composed:
  control and format characters (C0/C1, zero-width, bidi overrides, line/paragraph
  separators) and every newline/tab become one space, runs of spaces collapse, a leading
  `>` (a quote in Slack / Markdown) becomes `›`, and the string is capped at `cap`
  characters ending "…". After this a data string is one short line.
* `slack_mrkdwn(text)` — for Slack only, at render time: `&`, `<`, `>` become entities
  (Slack's own rule: no `<!channel>`, `<@U..>` or `<http..|label>` can survive), and the
  formatting characters `* ~ \\`` and any `_` not between two letters become look-alikes
  that Slack does not parse (∗ ∼ ˋ ˍ), so data can neither format, ping, link nor forge a line.
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"
NAME_CAP = 80  # names: org, endpoint, process, scope, metric
TEXT_CAP = 300  # longer data text: recommended action, drivers summary

_SLACK_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_SLACK_LOOKALIKES = {"*": "∗", "~": "∼", "`": "ˋ"}
# an underscore between two letters/digits (McCann_NY) cannot open or close italics; any other can
_FREE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
_SLACK_TABLE = str.maketrans(_SLACK_LOOKALIKES)


def _is_break_or_control(ch: str) -> bool:
    # Cc: C0/C1 controls incl. \n \r \t; Cf: zero-width, bidi overrides, soft hyphen...;
    # Zl / Zp: U+2028 / U+2029 line and paragraph separators; Cs: lone surrogates
    return unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs")


def collapse(value: object) -> str:
    """Control / format characters and line breaks -> one space; whitespace runs -> one space."""
    text = "".join(" " if _is_break_or_control(ch) else ch for ch in str(value))
    return " ".join(text.split())


def cap(text: str, limit: int) -> str:
    """At most `limit` characters; a cut string ends with '…'."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def clean(value: object, limit: int = NAME_CAP) -> str:
    """One inert, short line from any data value (None -> '')."""
    if value is None:
        return ""
    text = collapse(value)
    if text.startswith(">"):
        text = "›" + text[1:]
    return cap(text, limit)


def slack_entities(text: str) -> str:
    """&, <, > as Slack entities (in that order, so `&lt;` in data shows as typed)."""
    for raw, entity in _SLACK_ENTITIES:
        text = text.replace(raw, entity)
    return text


def slack_mrkdwn(text: str) -> str:
    """Make an already-cleaned data string inert in Slack mrkdwn (entities + look-alikes)."""
    text = slack_entities(text)
    return _FREE_UNDERSCORE.sub("ˍ", text.translate(_SLACK_TABLE))


def slack_plain(text: str) -> str:
    """For plain_text objects (headers): Slack does not parse them, but no `<` should travel raw."""
    return text.replace("<", "‹").replace(">", "›")


def truncate_mrkdwn(text: str, limit: int) -> str:
    """Cut rendered mrkdwn to `limit` without splitting an entity (&amp; &lt; &gt;)."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS
