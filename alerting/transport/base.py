"""What every transport returns and the protocols the runner talks to: errors come back as results (redacted),
never raised."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from alerting.delivery_log import LogEntry
    from alerting.runner import PlannedMessage


class TransportConfigError(RuntimeError):
    """No token, or an unusable API URL."""


@dataclass(frozen=True)
class Capabilities:
    """What a destination supports. Both kinds have threads (a Slack thread, a Linear issue's comments) and
    neither edits a sent message: news is a new reply."""

    file_uploads: bool  # charts: uploaded into the thread, or skipped
    closing: bool  # an item closed when resolved and reopened when it recurs (an issue tracker)
    digests: bool  # a destination's incidents in one message, daily summaries; else one item per incident


CHAT = Capabilities(file_uploads=True, closing=False, digests=True)


@dataclass(frozen=True)
class PostResult:  # of every call of a transport
    ok: bool
    ts: str | None = None  # the message's (an upload: the file's) id; a thread's root when posted top level
    channel_id: str | None = None  # the channel's id as the platform returns it (uploads need it)
    error: str | None = None  # human-readable, already redacted


class Transport(Protocol):
    """A chat platform (`slack`; `stdout` for a dry run); `delivery_key` finds a message after an unclear answer."""

    name: str  # destination prefix in the delivery log: "<name>:<channel>"
    capabilities: Capabilities

    def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]], thread_ts: str | None = None,
        broadcast: bool = False, *, delivery_key: str,
    ) -> PostResult: ...  # fmt: skip

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> PostResult: ...


class IssueTransport(Protocol):
    """One item per incident (an issue tracker): `request` turns a planned message (with the log before this run,
    this run's rows so far and how long a resolved item may be reopened) into (the item's id, the call that sends
    it, what it is). Each call names the id it creates, so sending it again changes nothing."""

    name: str
    capabilities: Capabilities

    def request(
        self, m: PlannedMessage, log: Sequence[LogEntry], this_run: Sequence[LogEntry], reopen_window_days: int
    ) -> tuple[str, Callable[[], PostResult], str]: ...
