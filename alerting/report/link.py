"""The report's public address for Slack messages: `LTX_REPORT_BASE_URL` + `<date>/index.html`."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

BASE_URL_ENV = "LTX_REPORT_BASE_URL"
_SAFE_PATH = re.compile(r"^[A-Za-z0-9._~/%-]*$")  # no spaces, quotes, <, >, |, mrkdwn specials


class ReportUrlError(ValueError):
    """LTX_REPORT_BASE_URL is set but is not a plain http(s) URL."""


def report_url(day: dt.date, env: Mapping[str, str] | None = None) -> str | None:
    """The page of `day` under LTX_REPORT_BASE_URL (the folder of the `<YYYY-MM-DD>/` report folders), or None
    when unset. The base must be http(s) with a host and no credentials, query, fragment or character that
    Slack's `<url|text>` link syntax would read, so the link can be embedded safely."""
    base = ((os.environ if env is None else env).get(BASE_URL_ENV) or "").strip()
    if not base:
        return None
    parts = urlsplit(base)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ReportUrlError(f"{BASE_URL_ENV} must be an http(s) URL with a host")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ReportUrlError(f"{BASE_URL_ENV} must not carry credentials, a query or a fragment")
    if not _SAFE_PATH.match(parts.path) or not re.match(r"^[A-Za-z0-9.-]+(:\d{1,5})?$", parts.netloc):
        raise ReportUrlError(f"{BASE_URL_ENV} holds characters a Slack link cannot carry")
    return f"{base.rstrip('/')}/{day.isoformat()}/index.html"
