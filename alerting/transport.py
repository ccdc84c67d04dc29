"""Post messages with slack_sdk `chat.postMessage`; errors come back redacted, never raised."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from alerting.model import Message
from alerting.redact import redact

TOKEN_ENV = "SLACK_BOT_TOKEN"  # noqa: S105 - the variable's name, not a secret
API_URL_ENV = "SLACK_API_URL"


class TransportConfigError(RuntimeError):
    """No token, or an unusable API URL."""


@dataclass(frozen=True)
class PostResult:
    ok: bool
    ts: str | None = None
    error: str | None = None  # human-readable, already redacted


class SlackTransport:
    """chat.postMessage with Slack's retry handlers: 429 (honours Retry-After) and connection errors.

    HTTP 5xx and `{"ok": false}` answers are failures (not retried here: a 5xx may have
    posted, and the next run retries what the delivery log does not hold).
    """

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

    def post(self, message: Message) -> PostResult:
        try:
            response = self._client.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks,
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as exc:
            resp = exc.response
            status = getattr(resp, "status_code", None)
            data = getattr(resp, "data", None)
            error = data.get("error") if isinstance(data, dict) else None
            detail = f"HTTP {status}" + (f", error {error!r}" if error else "")
            return PostResult(ok=False, error=redact(f"Slack refused the message ({detail})", self._secrets))
        except Exception as exc:  # any transport failure is reported, never raised
            return PostResult(ok=False, error=redact(f"{type(exc).__name__}: {exc}", self._secrets))
        if not response.get("ok"):
            error = redact(f"Slack answered ok=false: {response.get('error')}", self._secrets)
            return PostResult(ok=False, error=error)
        return PostResult(ok=True, ts=str(response.get("ts") or ""))


def transport_from_env(env: Mapping[str, str] | None = None) -> SlackTransport:
    env = os.environ if env is None else env
    token = env.get(TOKEN_ENV, "")
    if not token.strip():
        raise TransportConfigError(f"{TOKEN_ENV} is not set (use --dry-run to print the messages without Slack)")
    base_url = env.get(API_URL_ENV) or None
    if base_url and not base_url.startswith(("http://", "https://")):
        raise TransportConfigError(f"{API_URL_ENV} must be an http(s) URL")
    return SlackTransport(token, base_url)
