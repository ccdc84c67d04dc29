"""Dry-run transport: prints what would be posted (text + Block Kit JSON), posts nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from alerting.transport.base import CHAT, PostResult


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
