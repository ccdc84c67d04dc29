"""Slack Web API through slack_sdk: chat.postMessage (threads) and files_upload_v2.

Retries: HTTP 429 (Retry-After honoured) and connection errors, by slack_sdk's handlers.
HTTP 5xx and `{"ok": false}` are failures, not retried here: a 5xx may have posted, and
the next run retries whatever the delivery log does not hold. Every error text is
redacted (the token never appears in a result or a log line).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from alerting.redact import redact
from alerting.transport.base import CHAT, PostResult, TransportConfigError, UploadResult

TOKEN_ENV = "SLACK_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
API_URL_ENV = "SLACK_API_URL"


def _api_error(exc: SlackApiError) -> str:
    resp = exc.response
    status = getattr(resp, "status_code", None)
    data = getattr(resp, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return f"HTTP {status}" + (f", error {error!r}" if error else "")


class SlackTransport:
    name = "slack"
    capabilities = CHAT

    def __init__(
        self,
        token: str,
        base_url: str | None = None,
        *,
        timeout: int = 30,
        rate_limit_retries: int = 3,
        connection_retries: int = 2,
    ) -> None:
        if not token or not token.strip():
            raise TransportConfigError(f"{TOKEN_ENV} is empty")
        self._secrets = (token, token.strip())
        self.base_url = base_url or "https://slack.com/api/"
        if not self.base_url.endswith("/"):
            self.base_url += "/"
        self._client = WebClient(
            token=token,
            base_url=self.base_url,
            timeout=timeout,
            retry_handlers=[
                RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
                ConnectionErrorRetryHandler(max_retry_count=connection_retries),
            ],
        )

    def __repr__(self) -> str:
        return f"SlackTransport(base_url={self.base_url!r}, token={'[redacted]'!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]],
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> PostResult:
        """chat.postMessage; with `thread_ts` a reply in that thread, shown in the channel too with `broadcast`."""
        kwargs: dict[str, Any] = {"channel": channel, "text": text, "blocks": list(blocks)}
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
            if broadcast:
                kwargs["reply_broadcast"] = True
        try:
            response = self._client.chat_postMessage(**kwargs, unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            return PostResult(ok=False, error=redact(f"Slack refused the message ({_api_error(exc)})", self._secrets))
        except Exception as exc:  # any transport failure is reported, never raised
            return PostResult(ok=False, error=redact(f"{type(exc).__name__}: {exc}", self._secrets))
        if not response.get("ok"):
            return PostResult(
                ok=False, error=redact(f"Slack answered ok=false: {response.get('error')}", self._secrets)
            )
        return PostResult(ok=True, ts=str(response.get("ts") or ""), channel_id=str(response.get("channel") or ""))

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> UploadResult:
        """files_upload_v2: getUploadURLExternal -> POST the bytes -> completeUploadExternal (into the thread).

        Needs the channel *id* (chat.postMessage returns it), not a '#name'.
        """
        try:
            response = self._client.files_upload_v2(
                channel=channel_id, thread_ts=thread_ts, filename=filename, content=content, title=title
            )
        except SlackApiError as exc:
            method = str(getattr(exc.response, "api_url", "") or "").rsplit("/", 1)[-1] or "files_upload_v2"
            return UploadResult(ok=False, error=redact(f"{method} failed ({_api_error(exc)})", self._secrets))
        except Exception as exc:  # the upload step raises its own errors (HTTP status of the upload URL)
            return UploadResult(ok=False, error=redact(f"upload failed: {type(exc).__name__}: {exc}", self._secrets))
        if not response.get("ok"):
            return UploadResult(
                ok=False, error=redact(f"upload answered ok=false: {response.get('error')}", self._secrets)
            )
        file = response.get("file") or {}
        return UploadResult(ok=True, file_id=str(file.get("id") or "") if isinstance(file, dict) else None)


def transport_from_env(env: Mapping[str, str] | None = None) -> SlackTransport:
    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV, "")
    if not token.strip():
        raise TransportConfigError(f"{TOKEN_ENV} is not set (use --dry-run to print the messages without Slack)")
    base_url = env.get(API_URL_ENV) or None
    if base_url and not base_url.startswith(("http://", "https://")):
        raise TransportConfigError(f"{API_URL_ENV} must be an http(s) URL")
    return SlackTransport(token, base_url)
