"""What every transport returns; the protocol the runner talks to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class TransportConfigError(RuntimeError):
    """No token, or an unusable API URL."""


@dataclass(frozen=True)
class PostResult:
    ok: bool
    ts: str | None = None  # the message's id (Slack ts); a thread's root when posted top level
    channel_id: str | None = None  # the channel's id as the platform returns it (uploads need it)
    error: str | None = None  # human-readable, already redacted


@dataclass(frozen=True)
class UploadResult:
    ok: bool
    file_id: str | None = None
    error: str | None = None  # which step failed, redacted


class Transport(Protocol):
    name: str  # destination prefix in the delivery log: "<name>:<channel>"

    def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]],
        thread_ts: str | None = None,
        broadcast: bool = False,
    ) -> PostResult: ...

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> UploadResult: ...
