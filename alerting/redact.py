"""Keep secrets out of text and log records."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
# Slack tokens (bot, user, app, config, refresh): never printed even when we do not know them
_SLACK_TOKEN = re.compile(r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+")


def redact(text: object, secrets: Iterable[str] = ()) -> str:
    """`text` as a string with every known secret and anything shaped like a Slack token removed."""
    out = str(text)
    for secret in secrets:
        if secret:
            out = out.replace(secret, REDACTED)
    return _SLACK_TOKEN.sub(REDACTED, out)


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
