"""The feedback buttons under an incident's Slack post, and what a click on one means (issue 23).

A button's `value` is `v1:<incident_id>:<hash>`: the service reads the incident's alerts back from `fct_alerts`,
and the 12-hex `alert_set_hash` of the ids the message showed says whether that set changed since the post.
`action_id` is `ltx_feedback_<key>`; `block_id` is `ltx_feedback:<hash of the incident id>`, so the service can
replace exactly that block."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

ACTION_ID_PREFIX = "ltx_feedback_"
BLOCK_ID_PREFIX = "ltx_feedback:"
VALUE_VERSION = "v1"
HASH_CHARS = 12
_INCIDENT = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
_HASH = re.compile(rf"^[0-9a-f]{{{HASH_CHARS}}}$")


class FeedbackValueError(ValueError):
    """A button value or action id that this module did not make."""


@dataclass(frozen=True)
class FeedbackAction:
    key: str  # action_id suffix
    label: str  # the button text
    action: str  # alert_feedback.action
    snooze_days: int | None  # days of a snooze; None: not a timed snooze
    done: str  # the context line after the click: "<done> by <@U…>"
    style: str | None = None


ACTIONS: tuple[FeedbackAction, ...] = (
    FeedbackAction("acknowledge", "Acknowledge", "acknowledge", None, "Acknowledged", "primary"),
    FeedbackAction("snooze_1d", "Snooze 1 day", "snooze", 1, "Snoozed 1 day"),
    FeedbackAction("snooze_7d", "Snooze 7 days", "snooze", 7, "Snoozed 7 days"),
    FeedbackAction("snooze_resolved", "Snooze until resolved", "snooze", None, "Snoozed until resolved"),
    FeedbackAction("expected", "Expected", "expected", None, "Marked expected"),
    FeedbackAction("false_alarm", "False alarm", "false_alarm", None, "Marked a false alarm", "danger"),
)


def alert_set_hash(alert_ids: Iterable[str]) -> str:
    joined = "\n".join(sorted(set(alert_ids)))
    return hashlib.sha256(joined.encode()).hexdigest()[:HASH_CHARS]


def block_id(incident_id: str) -> str:
    return BLOCK_ID_PREFIX + hashlib.sha256(incident_id.encode()).hexdigest()[:16]


def button_value(incident_id: str, alert_ids: Iterable[str]) -> str:
    """At most 4 + 128 + 12 characters: within Slack's 2,000 for a button value."""
    if not _INCIDENT.match(incident_id):
        raise FeedbackValueError(f"incident id {incident_id[:40]!r} is not 1-128 characters of [A-Za-z0-9_.-]")
    return f"{VALUE_VERSION}:{incident_id}:{alert_set_hash(alert_ids)}"


def parse_value(value: object) -> tuple[str, str]:
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 3 or parts[0] != VALUE_VERSION or not _INCIDENT.match(parts[1]) or not _HASH.match(parts[2]):
        raise FeedbackValueError("the button value is not an ltx feedback reference")
    return parts[1], parts[2]


def action_for(action_id: object) -> FeedbackAction:
    for a in ACTIONS:
        if action_id == ACTION_ID_PREFIX + a.key:
            return a
    raise FeedbackValueError("unknown feedback action_id")


def actions_block(incident_id: str, alert_ids: Iterable[str]) -> list[dict[str, object]]:
    value = button_value(incident_id, alert_ids)
    elements = [
        {
            "type": "button",
            "action_id": ACTION_ID_PREFIX + a.key,
            "text": {"type": "plain_text", "text": a.label, "emoji": False},
            "value": value,
            **({"style": a.style} if a.style else {}),
        }
        for a in ACTIONS
    ]
    return [{"type": "actions", "block_id": block_id(incident_id), "elements": elements}]
