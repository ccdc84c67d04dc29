"""Keep secrets out of text and log records; validate a token before anything uses it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from itertools import groupby

log = logging.getLogger(__name__)
REDACTED = "[redacted]"
FRAGMENT = 8
SLACK_PREFIXES = ("xoxb-", "xoxp-", "xoxa-", "xoxe-", "xoxo-", "xoxr-", "xoxs-", "xapp-")
_KEY_SHAPES = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|lin_(?:api|oauth)_[A-Za-z0-9_-]+")


class TokenError(ValueError):
    """The token cannot be used; the message never contains any part of it."""


def validate_token(token: str | None, name: str = "SLACK_BOT_TOKEN", prefixes: tuple[str, ...] = SLACK_PREFIXES) -> str:
    """The token; refuse an unset one or one with anything but printable ASCII (no whitespace, no control or
    non-ASCII characters: an HTTP header cannot carry them); log a warning when it starts with none of
    `prefixes` (none given: no check). TokenError names the variable and the problem, never a character of it."""
    if not token:
        raise TokenError(f"{name} is not set")
    bad = sum(not 33 <= ord(ch) <= 126 for ch in token)
    if bad:
        raise TokenError(
            f"{name} contains whitespace, control or non-ASCII characters ({bad} of {len(token)}):"
            " check how it was pasted or exported (a trailing newline?)"
        )
    if prefixes and not token.startswith(prefixes):
        log.warning("%s does not start with %s: using it anyway", name, " / ".join(prefixes))
    return token


def _cover(text: str, secret: str, covered: list[bool]) -> None:
    """Mark in `covered` every character of `text` inside a FRAGMENT-long piece of `secret` (or all of a short one)."""
    width = min(len(secret), FRAGMENT)
    windows = {secret[i : i + width] for i in range(len(secret) - width + 1)}
    for i in range(len(text) - width + 1):
        if text[i : i + width] in windows:
            covered[i : i + width] = [True] * width


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret, every 8+ character fragment of one, and Slack/Linear key shapes replaced."""
    out = str(text)
    covered = [False] * len(out)
    for secret in filter(None, secrets):  # its escaped spelling too: `\\n` written out by a repr
        for form in {secret, secret.encode("unicode_escape").decode("ascii")}:
            _cover(out, form, covered)
    runs = groupby(zip(covered, out, strict=True), key=lambda pair: pair[0])
    out = "".join(REDACTED if hidden else "".join(ch for _, ch in run) for hidden, run in runs)
    return _KEY_SHAPES.sub(REDACTED, out)


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.secrets)
        record.args = None
        if record.exc_info:  # rendered now, redacted, so no formatter prints the raw exception
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info), self.secrets)
            record.exc_info = None
        return True


def install(secrets: Iterable[str] = (), replace: bool = False) -> None:
    """Redact on the root logger and its handlers; `replace`: instead of the filters installed before."""
    flt, root = RedactingFilter(secrets), logging.getLogger()
    for filterer in [root, *root.handlers]:
        if replace:
            filterer.filters[:] = [f for f in filterer.filters if not isinstance(f, RedactingFilter)]
        filterer.addFilter(flt)
