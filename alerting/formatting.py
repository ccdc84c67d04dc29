"""Adapter for the current runner: Digest -> compose -> Slack render -> model.Message.

The wording lives in `compose.py`, numbers in `values.py`, the Slack markup in
`render/slack.py`; this module only keeps `runner.py`'s imports working until the new
runner (lifecycle + transport) calls those layers directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from alerting.compose import all_clear_id, compose_all_clear, compose_digest
from alerting.model import Digest, Message
from alerting.render.slack import Limits, render

__all__ = ["Limits", "all_clear_id", "build_all_clear", "build_messages"]


def build_messages(digest: Digest, limits: Limits | None = None) -> list[Message]:
    """The Slack messages of one channel's digest; an empty digest gives none."""
    body = compose_digest(digest)
    if body is None:
        return []
    return [
        Message(channel=digest.channel, text=m.text, blocks=m.blocks, alert_ids=m.alert_ids)
        for m in render(body, limits)
    ]


def build_all_clear(
    channel: str,
    teams: Sequence[str],
    usage_date: dt.date,
    cost_date: dt.date,
    limits: Limits | None = None,
    usage_checked: bool = True,
) -> Message:
    [m] = render(compose_all_clear(teams, usage_date, cost_date, usage_checked), limits)
    return Message(channel=channel, text=m.text, blocks=m.blocks, alert_ids=m.alert_ids)
