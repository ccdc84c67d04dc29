"""Feedback from Slack buttons: the click, the decision on it, and the `alert_feedback` table (beside the
delivery log). A click's `feedback_id` derives from Slack's click identity (action_ts, user, channel, message ts,
action_id): a retried or replayed delivery of the same click is the same row, written once. A snooze of N days
holds alerts with `alert_date <= expires_on` (the incident's alert_date + N); "until resolved" has no expiry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from alerting.feedback_buttons import ACTION_ID_PREFIX, FeedbackAction, action_for, alert_set_hash, parse_value
from alerting.lifecycle import NEVER_WITHDRAWN_FOR
from alerting.model import Alert, alert_from_row
from alerting.warehouse import Backend

TABLE = "alert_feedback"
_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


@dataclass(frozen=True)
class Click:
    feedback_id: str
    action: FeedbackAction
    incident_id: str
    alert_hash: str
    user_id: str
    channel_id: str
    message_ts: str
    action_ts: str
    message_text: str
    message_blocks: tuple[dict[str, Any], ...]


def _checked(pattern: re.Pattern[str], value: object, what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValueError(f"the click has no valid {what}")
    return value


def _get(body: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def click_from_payload(body: Mapping[str, Any]) -> Click:
    """The Click of a `block_actions` payload; a ValueError when it is not one of ours."""
    actions = body.get("actions")
    if body.get("type") != "block_actions" or not isinstance(actions, list) or len(actions) != 1:
        raise ValueError("not a block_actions payload with one action")
    act = actions[0] if isinstance(actions[0], dict) else {}
    action_id = str(act.get("action_id"))
    incident_id, alert_hash = parse_value(act.get("value"))
    message, container = _get(body, "message"), _get(body, "container")
    user = _checked(_USER, _get(body, "user").get("id"), "user id")
    channel = _checked(_CHANNEL, _get(body, "channel").get("id") or container.get("channel_id"), "channel id")
    message_ts = _checked(_TS, container.get("message_ts") or message.get("ts"), "message ts")
    action_ts = _checked(_TS, act.get("action_ts"), "action ts")
    key = "|".join(("v1", action_ts, user, channel, message_ts, action_id))
    blocks = message.get("blocks")
    return Click(
        feedback_id=hashlib.sha256(key.encode()).hexdigest()[:32],
        action=action_for(action_id),
        incident_id=incident_id,
        alert_hash=alert_hash,
        user_id=user,
        channel_id=channel,
        message_ts=message_ts,
        action_ts=action_ts,
        message_text=str(message.get("text") or ""),
        message_blocks=tuple(b for b in blocks if isinstance(b, dict)) if isinstance(blocks, list) else (),
    )


@dataclass(frozen=True)
class FeedbackRow:
    feedback_id: str
    incident_id: str
    alert_id: str
    alert_ids: str  # the incident's alert ids when clicked, sorted, comma-separated
    action: str
    action_id: str
    user_id: str
    channel_id: str
    message_ts: str
    alert_date: dt.date
    created_at: dt.datetime  # the click (Slack's action_ts), UTC
    expires_on: dt.date | None
    note: str | None
    recorded_at: dt.datetime  # when the service wrote the row, UTC


_GENERIC = {"str": "string", "dt.date": "date", "dt.datetime": "timestamp"}
COLUMN_TYPES = {f.name: _GENERIC[str(f.type).removesuffix(" | None")] for f in fields(FeedbackRow)}
COLUMNS = tuple(COLUMN_TYPES)
_NOT_NULL = {"feedback_id", "incident_id", "alert_id", "action", "user_id", "created_at"}


def decide(click: Click, alerts: Sequence[Alert], now: dt.datetime) -> FeedbackRow | str:
    """The row accepting the click for the incident's alerts still there, or why not (nothing written)."""
    if not alerts:
        return f"incident {click.incident_id} is not in fct_alerts (unknown, or rebuilt away)"
    still = (a for a in alerts if a.is_postable or a.hold_reason in NEVER_WITHDRAWN_FOR)  # held, yet not withdrawn
    there = sorted(still, key=lambda a: a.alert_id)
    if not there:
        reasons = sorted({a.hold_reason or "held" for a in alerts})
        return f"incident {click.incident_id} was withdrawn ({', '.join(reasons)})"
    ids = sorted({a.alert_id for a in there})
    alert_date = max(a.alert_date for a in there)
    days = click.action.snooze_days
    notes = ["until resolved"] if click.action.action == "snooze" and days is None else []
    if alert_set_hash(ids) != click.alert_hash:
        notes.append(f"the incident's alerts changed since the post (posted set {click.alert_hash})")
    return FeedbackRow(
        feedback_id=click.feedback_id,
        incident_id=click.incident_id,
        alert_id=next((a.alert_id for a in there if a.is_incident_primary), ids[0]),
        alert_ids=",".join(ids),
        action=click.action.action,
        action_id=ACTION_ID_PREFIX + click.action.key,  # the id clicked (action_for matched it)
        user_id=click.user_id,
        channel_id=click.channel_id,
        message_ts=click.message_ts,
        alert_date=alert_date,
        created_at=dt.datetime.fromtimestamp(float(click.action_ts), dt.UTC).replace(tzinfo=None),
        expires_on=alert_date + dt.timedelta(days=days) if days else None,
        note="; ".join(notes) or None,
        recorded_at=now,
    )


class FeedbackStore:
    def __init__(self, backend: Backend) -> None:
        self.backend, self.table, self._ensured = backend, backend.table("alerting", TABLE), False

    def ensure(self) -> None:
        if self._ensured:
            return
        cols = ", ".join(f"{n} {t}" + (" not null" if n in _NOT_NULL else "") for n, t in COLUMN_TYPES.items())
        with self.backend.session():
            self.backend.ensure_area("alerting")
            self.backend.query(f"create table if not exists {self.table} ({cols})")
        self._ensured = True

    def incident_alerts(self, incident_id: str) -> list[Alert]:
        b = self.backend
        sql = f"select * from {b.table('marts', 'fct_alerts')} where incident_id = {b.param('incident')}"  # noqa: S608
        return [alert_from_row(r) for r in b.query(sql, {"incident": incident_id})]

    def record(self, row: FeedbackRow) -> None:
        """Write the row unless its feedback_id is there: one `merge`, the same SQL on DuckDB and BigQuery."""
        self.ensure()
        params = {n: getattr(row, n) for n in COLUMNS if getattr(row, n) is not None}
        values = (self.backend.param(n) if n in params else f"cast(null as {COLUMN_TYPES[n]})" for n in COLUMNS)
        source = ", ".join(f"{v} as {n}" for v, n in zip(values, COLUMNS, strict=True))
        sql = (
            f"merge into {self.table} t using (select {source}) s on t.feedback_id = s.feedback_id"  # noqa: S608
            f" when not matched then insert ({', '.join(COLUMNS)}) values ({', '.join('s.' + n for n in COLUMNS)})"
        )
        self.backend.query(sql, params)
