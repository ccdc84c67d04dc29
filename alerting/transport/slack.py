"""Slack Web API through slack_sdk: chat.postMessage (threads) and files_upload_v2.

In the run only what cannot have arrived is retried: HTTP 429 (waiting `Retry-After` when it is
at most `max_wait_s` and within the transport's `retry_budget_s`, else a failure the next run
retries) and a refused connection. An unclear answer after the request went out (a timeout, a
reset, a 5xx, a body that is not Slack's JSON) is resolved by looking the message up: every post
carries Slack message metadata (`ltx_delivery`, its delivery key), found again with
`conversations.history` (`conversations.replies` in a thread) around the post time; an upload is
found in its thread by file name. Found is ok; not found is a failure, posted again next run.
Error texts are redacted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.client import HTTPException
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from alerting.redact import TokenError, redact, validate_token
from alerting.transport.base import CHAT, PostResult, TransportConfigError, UploadResult

TOKEN_ENV = "SLACK_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
API_URL_ENV = "SLACK_API_URL"
EVENT_TYPE = "ltx_delivery"
LOOKUP_MARGIN_S = 600  # the look-up reads messages from this long before the post (clock skew)
_SLACK_ERROR = re.compile(r"^[a-z0-9_]+$")  # Slack's error codes; any other text is not Slack's answer
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")


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
        error = exc.response.get("error")
        return f"HTTP {exc.response.status_code}" + (f", error {error!r}" if error else "")
    return f"{type(exc).__name__}: {exc}"


class _Retries(RetryHandler):
    """429 within the wait caps, and a connection refused before anything was sent; nothing else."""

    def __init__(self, max_wait_s: float, budget_s: float) -> None:
        super().__init__(max_retry_count=3)
        self.max_wait_s, self.budget_s = max_wait_s, budget_s

    def _wait(self, response: HttpResponse | None, error: Exception | None) -> float | None:
        if response is not None and response.status_code == 429:
            values = {k.lower(): v for k, v in response.headers.items()}.get("retry-after") or ["1"]
            try:
                return max(float(values[0]), 0.0)
            except ValueError:  # an HTTP date or garbage: not waited for
                return None
        return 1.0 if _never_sent(error) else None

    def _can_retry(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:  # fmt: skip
        wait = self._wait(response, error)
        return wait is not None and wait <= min(self.max_wait_s, self.budget_s)

    def prepare_for_next_attempt(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:  # fmt: skip
        wait = self._wait(response, error) or 0.0
        self.budget_s -= wait
        time.sleep(wait)
        state.next_attempt_requested = True
        state.increment_current_attempt()


class SlackTransport:
    name = "slack"
    capabilities = CHAT

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        *,
        timeout: int = 30,
        max_wait_s: float = 30.0,
        retry_budget_s: float = 120.0,
        lookup_delays_s: Sequence[float] = (1.0, 4.0),
    ) -> None:
        try:
            validate_token(token, TOKEN_ENV)
        except TokenError as exc:
            raise TransportConfigError(str(exc)) from None
        self.secrets = (token,)
        self.base_url = (base_url or "https://slack.com/api/").rstrip("/") + "/"
        self.lookup_delays_s = tuple(lookup_delays_s)
        self._channel_ids: dict[str, str] = {}
        retries = _Retries(max_wait_s, retry_budget_s)
        self._client = WebClient(token=token, base_url=self.base_url, timeout=timeout, retry_handlers=[retries])

    def __repr__(self) -> str:
        return f"SlackTransport(base_url={self.base_url!r}, token={'[redacted]'!r})"

    def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]],
        thread_ts: str | None = None,
        broadcast: bool = False,
        *,
        delivery_key: str | None = None,
    ) -> PostResult:
        """chat.postMessage; with `thread_ts` a reply in that thread, shown in the channel too with `broadcast`.

        `delivery_key` (default: a digest of the message) goes into the message's metadata.
        """
        key = delivery_key or hashlib.sha256(json.dumps([thread_ts, text, list(blocks)]).encode()).hexdigest()[:32]
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "blocks": list(blocks)}
        kwargs["metadata"] = {"event_type": EVENT_TYPE, "event_payload": {"delivery_key": key}}
        if thread_ts:
            kwargs.update(thread_ts=thread_ts, reply_broadcast=broadcast or None)
        started = time.time()
        try:
            response = self._client.chat_postMessage(**kwargs, unfurl_links=False, unfurl_media=False)
        except Exception as exc:  # any failure is reported, never raised
            if not _unclear(exc):
                return PostResult(ok=False, error=redact(f"Slack refused the message ({_describe(exc)})", self.secrets))

            def carries_key(m: Mapping[str, Any]) -> bool:
                meta = m.get("metadata") or {}
                return (
                    meta.get("event_type") == EVENT_TYPE
                    and (meta.get("event_payload") or {}).get("delivery_key") == key
                )

            found, error = self._resolve(channel, thread_ts, started, carries_key, f"unclear answer ({_describe(exc)})")
            return (
                PostResult(ok=False, error=error)
                if found is None
                else PostResult(ok=True, ts=found[0], channel_id=found[1])
            )
        return PostResult(ok=True, ts=str(response.get("ts") or ""), channel_id=str(response.get("channel") or ""))

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> UploadResult:
        """files_upload_v2: getUploadURLExternal -> POST the bytes -> completeUploadExternal (into the thread).

        Needs the channel *id* (chat.postMessage returns it), not a '#name'.
        """
        started = time.time()
        try:
            response = self._client.files_upload_v2(
                channel=channel_id, thread_ts=thread_ts, filename=filename, content=content, title=title
            )
        except Exception as exc:  # the upload step raises its own errors (HTTP status of the upload URL)
            api_url = getattr(getattr(exc, "response", None), "api_url", "") or ""
            error = f"{str(api_url).rsplit('/', 1)[-1] or 'upload'} failed ({_describe(exc)})"
            if not _unclear(exc):
                return UploadResult(ok=False, error=redact(error, self.secrets))
            found, error = self._resolve(
                channel_id,
                thread_ts,
                started,
                lambda m: any(f.get("name") == filename for f in m.get("files") or []),
                error,
            )
            return UploadResult(ok=False, error=error) if found is None else UploadResult(ok=True, file_id=found[0])
        file = response.get("file") or {}
        return UploadResult(ok=True, file_id=str(file.get("id") or "") if isinstance(file, dict) else None)

    def _resolve(
        self, channel: str, thread_ts: str | None, since: float, match: Callable[[Mapping[str, Any]], bool], error: str
    ) -> tuple[tuple[str, str] | None, str]:
        """Look for the message `match` picks, posted since `since`: ((ts, channel id), "") or (None, the error)."""
        try:
            channel_id = self._channel_id(channel)
            for delay in self.lookup_delays_s:
                time.sleep(delay)
                found = next((m for m in self._messages(channel_id, thread_ts, since) if match(m)), None)
                if found is not None:
                    return (str(found.get("ts") or ""), channel_id), ""
        except Exception as exc:  # the look-up failed: whether it arrived is unknown
            return None, redact(f"{error}; the look-up failed ({_describe(exc)}): posted again next run", self.secrets)
        return None, redact(f"{error}; not in the channel: posted again next run", self.secrets)

    def _messages(self, channel_id: str, thread_ts: str | None, since: float) -> Iterator[Mapping[str, Any]]:
        args: dict[str, Any] = dict(
            channel=channel_id, oldest=f"{since - LOOKUP_MARGIN_S:.6f}", include_all_metadata=True, limit=200
        )
        pages = (
            self._client.conversations_replies(ts=thread_ts, **args)
            if thread_ts
            else self._client.conversations_history(**args)
        )
        for page in pages:
            yield from page.get("messages") or []

    def _channel_id(self, channel: str) -> str:
        """A channel id as given, a '#name' (or name) looked up once with conversations.list."""
        name = channel.removeprefix("#")
        if _CHANNEL_ID.match(name) or name in self._channel_ids:
            return self._channel_ids.get(name, name)
        pages = self._client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=1000
        )
        for page in pages:
            self._channel_ids.update({str(c.get("name")): str(c.get("id")) for c in page.get("channels") or []})
        if name not in self._channel_ids:
            raise LookupError(f"channel {channel} not found by conversations.list")
        return self._channel_ids[name]


def transport_from_env(env: Mapping[str, str] | None = None) -> SlackTransport:
    env = os.environ if env is None else env
    base_url = env.get(API_URL_ENV) or None
    if base_url and not base_url.startswith(("http://", "https://")):
        raise TransportConfigError(f"{API_URL_ENV} must be an http(s) URL")
    return SlackTransport(env.get(TOKEN_ENV, ""), base_url)
