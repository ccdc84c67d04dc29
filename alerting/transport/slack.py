"""Slack Web API through slack_sdk: chat.postMessage (threads) and files_upload_v2. Retried in the run: only what
cannot have arrived, a 429 (waiting `Retry-After` up to `max_wait_s`, within `budget_s`) and a refused connection.
An unclear answer after the request went out (a timeout, a reset, a 5xx, a body that is not Slack's JSON) is
resolved by looking the message up around the post time, by the delivery key in its metadata (an upload: by file
name in its thread): found is ok; not found, a failure sent again by the next run."""

from __future__ import annotations

import functools
import logging
import re
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from alerting.redact import TokenError, redact, validate_token
from alerting.transport.base import CHAT, PostResult, TransportConfigError

TOKEN_ENV = "SLACK_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
API_URL_ENV = "SLACK_API_URL"
EVENT_TYPE = "ltx_delivery"
LOOKUP_MARGIN_S = 600  # the look-up reads messages from this long before the post (clock skew)
_SLACK_ERROR = re.compile(r"^[a-z0-9_]+$")  # Slack's error codes; any other text is not Slack's answer
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
Message = Mapping[str, Any]
log = logging.getLogger(__name__)


def _never_sent(error: BaseException | None) -> bool:
    return isinstance(error, URLError) and isinstance(error.reason, ConnectionRefusedError | socket.gaierror)


def _unclear(exc: Exception) -> bool:
    """True when Slack may have taken the request: no answer, or an answer that is not Slack's."""
    if isinstance(exc, SlackApiError):
        status, error = exc.response.status_code, exc.response.get("error")
        return status >= 500 or (status == 200 and not (isinstance(error, str) and _SLACK_ERROR.match(error)))
    return isinstance(exc, OSError | HTTPException) and not _never_sent(exc)


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        method, error = str(exc.response.api_url).rsplit("/", 1)[-1], exc.response.get("error")
        return f"{method}: HTTP {exc.response.status_code}" + (f", error {error!r}" if error else "")
    return f"{type(exc).__name__}: {exc}"


class SlackTransport:
    name = "slack"
    capabilities = CHAT

    lookup_delays_s: tuple[float, ...] = (1.0, 4.0, 10.0)  # look-ups after an unclear answer: pauses before each
    max_wait_s = 30.0  # the longest Retry-After waited for
    budget_s = 120.0  # all waits of a transport (a run) together

    def __init__(self, token: str, base_url: str | None = None, *, timeout: int = 30) -> None:
        try:
            validate_token(token, TOKEN_ENV)
        except TokenError as exc:
            raise TransportConfigError(str(exc)) from None
        self.secrets = (token,)
        self.base_url = (base_url or "https://slack.com/api/").rstrip("/") + "/"
        self._channel_ids: dict[str, str] = {}
        self._client = WebClient(token=token, base_url=self.base_url, timeout=timeout, retry_handlers=[])

    def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]], thread_ts: str | None = None,
        broadcast: bool = False, *, delivery_key: str,
    ) -> PostResult:  # fmt: skip
        """chat.postMessage; with `thread_ts` a reply in that thread, shown in the channel too with `broadcast`;
        `delivery_key` in its metadata."""
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"delivery_key": delivery_key}}
        answer, error = self._send(
            lambda: self._client.chat_postMessage(
                channel=channel, text=text, blocks=list(blocks), metadata=metadata, unfurl_links=False,
                unfurl_media=False, thread_ts=thread_ts, reply_broadcast=(broadcast and bool(thread_ts)) or None,
            ),
            "Slack refused the message", channel, thread_ts, lambda m: m.get("metadata") == metadata,
        )  # fmt: skip
        if answer is None:
            return PostResult(ok=False, error=error)
        return PostResult(ok=True, ts=str(answer.get("ts") or ""), channel_id=str(answer.get("channel") or ""))

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> PostResult:
        """files_upload_v2 (getUploadURLExternal, the bytes, completeUploadExternal into the thread): needs
        the channel *id* (chat.postMessage returns it)."""

        def named(f: Message) -> bool:
            return bool(f.get("name", filename) == filename)

        answer, error = self._send(
            lambda: self._client.files_upload_v2(
                channel=channel_id, thread_ts=thread_ts, filename=filename, content=content, title=title
            ),
            "upload failed", channel_id, thread_ts, lambda m: any(named(f) for f in m.get("files") or []),
        )  # fmt: skip
        if answer is None:
            return PostResult(ok=False, error=error)
        file_id = next((f.get("id") for f in answer.get("files") or [answer.get("file") or {}] if named(f)), None)
        return PostResult(ok=True, ts=str(file_id or ""), channel_id=channel_id)

    def _send(
        self, send: Callable[[], SlackResponse], what: str, channel: str, thread_ts: str | None,
        match: Callable[[Message], bool],
    ) -> tuple[Message | None, str | None]:  # fmt: skip
        """send(): (Slack's answer, None); after an unclear answer the message `match` picks, looked up."""
        started = time.time()
        for attempt in range(4):
            try:
                return send().data, None  # type: ignore[return-value]
            except Exception as exc:  # any failure is reported, never raised
                wait = self._retry_wait(exc)
                if wait is None or attempt == 3:
                    error = f"{what} ({_describe(exc)})"
                    if not _unclear(exc):
                        return None, redact(error, self.secrets)
                    break
                self.budget_s -= wait
                time.sleep(wait)
        try:
            found = self._find(channel, thread_ts, started, match)
        except Exception as exc:  # whether it arrived is unknown
            return None, redact(f"unclear answer, {error}; the look-up failed ({_describe(exc)})", self.secrets)
        if found is None:
            return None, redact(f"unclear answer, {error}; not in the channel: sent again next run", self.secrets)
        return found, None

    def _retry_wait(self, exc: Exception) -> float | None:
        """Seconds before sending again what cannot have arrived: a 429 within the caps, a refused connection."""
        wait: float | None = 1.0 if _never_sent(exc) else None
        if isinstance(exc, SlackApiError) and exc.response.status_code == 429:
            try:
                wait = max(float(exc.response.headers.get("Retry-After", 1)), 0.0)
            except ValueError:  # an HTTP date or garbage: not waited for
                return None
        return wait if wait is not None and wait <= min(self.max_wait_s, self.budget_s) else None

    def _find(
        self, channel: str, thread_ts: str | None, since: float, match: Callable[[Message], bool]
    ) -> Message | None:
        """The message `match` picks in the channel (thread) since `since`, with its channel id; None: not there.
        conversations.replies of a thread, else conversations.history, with metadata, page by page."""
        channel_id, oldest = self._channel_id(channel), f"{since - LOOKUP_MARGIN_S:.6f}"
        lookup: Callable[..., SlackResponse] = self._client.conversations_history
        if thread_ts:
            lookup = functools.partial(self._client.conversations_replies, ts=thread_ts)
        for delay in self.lookup_delays_s:
            time.sleep(delay)
            pages = lookup(channel=channel_id, oldest=oldest, include_all_metadata=True)
            found = next((m for page in pages for m in page.get("messages") or [] if match(m)), None)
            if found is not None:
                return {**found, "channel": channel_id}
        return None

    def _channel_id(self, channel: str) -> str:
        """A channel id as given; a '#name' looked up (once) with conversations.list."""
        name = channel.removeprefix("#")
        if not _CHANNEL_ID.match(name) and name not in self._channel_ids:
            for page in self._client.conversations_list(types="public_channel,private_channel", limit=1000):
                self._channel_ids.update({str(c.get("name")): str(c.get("id")) for c in page.get("channels") or []})
        if not _CHANNEL_ID.match(name) and name not in self._channel_ids:
            raise LookupError(f"channel {channel} not found by conversations.list")
        return self._channel_ids.get(name, name)


def transport_from_env(env: Mapping[str, str]) -> SlackTransport:
    if not env.get(TOKEN_ENV):
        raise TransportConfigError(f"{TOKEN_ENV} is not set (use --dry-run to print the messages without Slack)")
    base_url = env.get(API_URL_ENV) or None
    if base_url and not base_url.startswith(("http://", "https://")):
        raise TransportConfigError(f"{API_URL_ENV} must be an http(s) URL")
    return SlackTransport(env[TOKEN_ENV], base_url)
