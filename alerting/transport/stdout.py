"""Dry-run transports: print what would be posted (Slack: text + Block Kit JSON; Linear: each issue call)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from alerting.transport.base import CHAT, PostResult
from alerting.transport.linear import ISSUES


class StdoutTransport:
    name = "slack"  # it stands in for Slack: same destinations as a real run
    capabilities = CHAT

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.count = 0

    def post(
        self, channel: str, text: str, blocks: Sequence[dict[str, Any]], thread_ts: str | None = None,
        broadcast: bool = False, *, delivery_key: str,
    ) -> PostResult:  # fmt: skip
        self.count += 1
        where = f"reply in thread {thread_ts}" if thread_ts else "new message"
        if thread_ts and broadcast:
            where += ", also sent to the channel"
        payload = json.dumps({"channel": channel, "blocks": list(blocks)}, indent=2, ensure_ascii=False)
        self.out.write(f"===== {channel} · {where} =====\n--- text ---\n{text}\n--- Block Kit JSON ---\n{payload}\n")
        return PostResult(ok=True, ts=f"dry-run.{self.count:06d}", channel_id=channel)

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> PostResult:
        self.out.write(f"===== {channel_id} · chart {filename!r} ({len(content)} bytes) in thread {thread_ts} =====\n")
        return PostResult(ok=True, ts="dry-run", channel_id=channel_id)


class LinearPrinter:
    name = "linear"
    capabilities = ISSUES

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _print(self, head: str, body: str, ts: str) -> PostResult:
        self.out.write(f"===== {head} =====\n{body.rstrip()}\n")
        return PostResult(ok=True, ts=ts)

    def open(self, team_id: str, issue_id: str, title: str, body: str, priority: int) -> PostResult:
        head = f"linear:{team_id} · new issue {issue_id} · priority {priority}"
        return self._print(head, f"{title}\n---\n{body}", issue_id)

    def comment(self, issue_id: str, body: str, comment_id: str) -> PostResult:
        return self._print(f"linear issue {issue_id} · comment", body, comment_id)

    def move(self, issue_id: str, team_id: str, close: bool, body: str, comment_id: str) -> PostResult:
        move = "close (completed)" if close else "reopen"
        return self._print(f"linear issue {issue_id} · {move} with a comment", body, comment_id)
