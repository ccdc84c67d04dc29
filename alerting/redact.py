"""Keep secrets out of text and log records; validate the Slack token before anything uses it.

Redaction removes the whole token *and any fragment of it* of `FRAGMENT` (8) or more
characters, also in its escaped forms (`\\n` written out by a repr) and each whitespace-
separated piece: an HTTP library that prints `b'Bearer xoxb-12\\nSECRET...'` or a server
echoing half the token back leaks nothing. Anything shaped like a Slack token is removed
too, even when we do not know it, and so is anything shaped like a Linear API key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

REDACTED = "[redacted]"
FRAGMENT = 8
# Slack tokens (bot, user, app, config, refresh): never printed even when we do not know them
_SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")
# Linear personal API keys and OAuth tokens, likewise
_LINEAR_KEY = re.compile(r"lin_(?:api|oauth)_[A-Za-z0-9_-]+")
_TOKEN_SHAPE = re.compile(r"^xox[abposer]-[A-Za-z0-9-]+$|^xapp-[A-Za-z0-9-]+$")


class TokenError(ValueError):
    """The token cannot be used; the message never contains any part of it."""


@dataclass(frozen=True)
class TokenCheck:
    token: str
    warnings: tuple[str, ...] = ()


def validate_token(token: str | None, name: str = "SLACK_BOT_TOKEN") -> TokenCheck:
    """Refuse an empty token or one with whitespace / control characters; warn on an unusual shape.

    Raises TokenError (exit 2 at the CLI); the message names the variable and the problem,
    never a character of the token.
    """
    if token is None or token == "":
        raise TokenError(f"{name} is not set")
    bad = [ch for ch in token if ch.isspace() or ord(ch) < 32 or ord(ch) == 127 or not ch.isprintable()]
    if bad:
        kinds = sorted({"whitespace" if ch.isspace() else "control" for ch in bad})
        raise TokenError(
            f"{name} contains {' and '.join(kinds)} characters ({len(bad)} of {len(token)}): "
            "check how it was pasted or exported (a trailing newline?)"
        )
    warnings = []
    if not _TOKEN_SHAPE.match(token):
        warnings.append(f"{name} does not look like a Slack token (expected xoxb-…): using it anyway")
    return TokenCheck(token=token, warnings=tuple(warnings))


def _forms(secret: str) -> list[str]:
    """The secret, its stripped and escaped spellings, and its whitespace/control-separated pieces."""
    forms = {secret, secret.strip(), secret.encode("unicode_escape").decode("ascii", "replace")}
    # pieces between whitespace / control characters, when long enough to be a fragment
    forms.update(p for p in re.split(r"[\s\x00-\x1f\x7f]+", secret) if len(p) >= FRAGMENT)
    return [f for f in forms if f]


def _cover(text: str, secret: str, covered: list[bool]) -> None:
    if len(secret) < FRAGMENT:
        start = text.find(secret)
        while start != -1:
            for i in range(start, start + len(secret)):
                covered[i] = True
            start = text.find(secret, start + 1)
        return
    windows = {secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}
    for i in range(len(text) - FRAGMENT + 1):
        if text[i : i + FRAGMENT] in windows:
            for j in range(i, i + FRAGMENT):
                covered[j] = True


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret, every 8+ character fragment of one, and Slack/Linear key shapes replaced."""
    out = str(text)
    forms = [f for s in secrets if s for f in _forms(s)]
    if forms:
        covered = [False] * len(out)
        for form in forms:
            _cover(out, form, covered)
        if any(covered):
            pieces: list[str] = []
            i = 0
            while i < len(out):
                if covered[i]:
                    while i < len(out) and covered[i]:
                        i += 1
                    pieces.append(REDACTED)
                else:
                    pieces.append(out[i])
                    i += 1
            out = "".join(pieces)
    return _LINEAR_KEY.sub(REDACTED, _SLACK_TOKEN.sub(REDACTED, out))


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message with secrets redacted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message, self.secrets)
        record.args = None
        if record.exc_info:
            # render the traceback now, redacted, so no formatter prints the raw exception
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


def install(secrets: Iterable[str] = (), logger: logging.Logger | None = None) -> RedactingFilter:
    """Attach the filter to every handler of `logger` (default: root) and to the logger itself."""
    target = logger or logging.getLogger()
    flt = RedactingFilter(secrets)
    target.addFilter(flt)
    for handler in target.handlers:
        handler.addFilter(flt)
    return flt
