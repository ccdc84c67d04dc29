"""Feedback from Slack buttons: the click, the decision, and the `alert_feedback` table.

A `Click` is what Slack sends for a `block_actions` click (validated, nothing else needed);
its `feedback_id` is derived from Slack's click identity (action_ts, user, channel,
message ts, action_id), so a retried or replayed delivery of the same click is the same row.

`decide(click, alerts)` is pure: the incident's current `fct_alerts` rows -> a row to write,
or the reason to reject the click (unknown incident, every alert withdrawn).

`FeedbackStore` writes rows exactly once through the warehouse `Backend` (SQL values as
parameters): DuckDB `insert ... on conflict do nothing` on the primary key `feedback_id`,
BigQuery a `merge` that inserts when no row has that id. The table lives beside the delivery
log (`backend.table("alerting", "alert_feedback")`: DuckDB `main_alerting`, BigQuery
`<dataset>_alerting`).

Expiry: a snooze of N days holds matching alerts with `alert_date <= expires_on`, where
`expires_on = the incident's alert_date + N` (it covers the next N daily posts whatever the
domain's lag). "Snooze until resolved" is `action = 'snooze'` with `expires_on` null and the
note `until resolved`. Other actions hold nothing (`expires_on` null).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from alerting.feedback_buttons import FeedbackAction, action_for, alert_set_hash, parse_value
from alerting.lifecycle import NEVER_WITHDRAWN_FOR
from alerting.warehouse import Backend, WarehouseError

TABLE = "alert_feedback"
UNTIL_RESOLVED = "until resolved"
# a held alert is still "there" for these reasons (silenced, not withdrawn)
STILL_THERE = frozenset(NEVER_WITHDRAWN_FOR | {"snoozed"})
_USER = re.compile(r"^[UW][A-Z0-9]{2,30}$")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,30}$")
_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


class ClickError(ValueError):
    """The payload is not a click on one of our buttons of a posted message."""


@dataclass(frozen=True)
class Click:
    feedback_id: str
    action_id: str
    incident_id: str
    alert_hash: str
    user_id: str
    channel_id: str
    message_ts: str
    action_ts: str
    message_text: str = ""
    message_blocks: tuple[dict[str, Any], ...] = ()

    @property
    def action(self) -> FeedbackAction:
        return action_for(self.action_id)

    def to_json(self) -> dict[str, Any]:
        return {f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in fields(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Click:
        return click_from_parts(data)


def feedback_id(action_ts: str, user_id: str, channel_id: str, message_ts: str, action_id: str) -> str:
    key = "|".join(("v1", action_ts, user_id, channel_id, message_ts, action_id))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _checked(pattern: re.Pattern[str], value: object, what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ClickError(f"the click has no valid {what}")
    return value


def click_from_parts(data: Mapping[str, Any]) -> Click:
    """A Click from flat fields (the spool's JSON), every field validated again."""
    action_id = str(data.get("action_id", ""))
    action_for(action_id)
    incident_id, alert_hash = parse_value(f"v1:{data.get('incident_id')}:{data.get('alert_hash')}")
    user = _checked(_USER, data.get("user_id"), "user id")
    channel = _checked(_CHANNEL, data.get("channel_id"), "channel id")
    message_ts = _checked(_TS, data.get("message_ts"), "message ts")
    action_ts = _checked(_TS, data.get("action_ts"), "action ts")
    blocks = data.get("message_blocks") or ()
    return Click(
        feedback_id=feedback_id(action_ts, user, channel, message_ts, action_id),
        action_id=action_id,
        incident_id=incident_id,
        alert_hash=alert_hash,
        user_id=user,
        channel_id=channel,
        message_ts=message_ts,
        action_ts=action_ts,
        message_text=str(data.get("message_text") or ""),
        message_blocks=tuple(b for b in blocks if isinstance(b, dict)),
    )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def click_from_payload(body: Mapping[str, Any]) -> Click:
    """The Click of a `block_actions` payload; ClickError (a ValueError) when it is not one of ours."""
    actions = body.get("actions")
    if body.get("type") != "block_actions" or not isinstance(actions, list) or len(actions) != 1:
        raise ClickError("not a block_actions payload with one action")
    act = actions[0] if isinstance(actions[0], dict) else {}
    incident_id, alert_hash = parse_value(act.get("value"))
    message, container, user, channel = (_mapping(body.get(k)) for k in ("message", "container", "user", "channel"))
    return click_from_parts(
        {
            "action_id": act.get("action_id"),
            "incident_id": incident_id,
            "alert_hash": alert_hash,
            "user_id": user.get("id"),
            "channel_id": channel.get("id") or container.get("channel_id"),
            "message_ts": container.get("message_ts") or message.get("ts"),
            "action_ts": act.get("action_ts"),
            "message_text": message.get("text"),
            "message_blocks": message.get("blocks"),
        }
    )


# --- the decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentAlert:
    """The columns of one fct_alerts row that a click needs."""

    alert_id: str
    alert_date: dt.date
    is_postable: bool
    hold_reason: str | None
    is_incident_primary: bool


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


COLUMN_TYPES = {
    "feedback_id": "string",
    "incident_id": "string",
    "alert_id": "string",
    "alert_ids": "string",
    "action": "string",
    "action_id": "string",
    "user_id": "string",
    "channel_id": "string",
    "message_ts": "string",
    "alert_date": "date",
    "created_at": "timestamp",
    "expires_on": "date",
    "note": "string",
    "recorded_at": "timestamp",
}
COLUMNS = tuple(f.name for f in fields(FeedbackRow))
assert set(COLUMNS) == set(COLUMN_TYPES)


@dataclass(frozen=True)
class Decision:
    row: FeedbackRow | None
    reason: str | None  # why the click is rejected (row is None)


def _utc_naive(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


def decide(click: Click, alerts: Sequence[IncidentAlert], now: dt.datetime) -> Decision:
    """Accept the click for the incident's alerts still there, or say why not (nothing written)."""
    if not alerts:
        return Decision(None, f"incident {click.incident_id} is not in fct_alerts (unknown, or rebuilt away)")
    there = [a for a in alerts if a.is_postable or a.hold_reason in STILL_THERE]
    if not there:
        reasons = sorted({a.hold_reason or "held" for a in alerts})
        return Decision(None, f"incident {click.incident_id} was withdrawn ({', '.join(reasons)})")
    ids = sorted({a.alert_id for a in there})
    primary = next((a.alert_id for a in sorted(there, key=lambda a: a.alert_id) if a.is_incident_primary), ids[0])
    alert_date = max(a.alert_date for a in there)
    action = click.action
    notes = []
    if action.action == "snooze" and action.snooze_days is None:
        notes.append(UNTIL_RESOLVED)
    if alert_set_hash(ids) != click.alert_hash:
        notes.append(f"the incident's alerts changed since the post (posted set {click.alert_hash})")
    row = FeedbackRow(
        feedback_id=click.feedback_id,
        incident_id=click.incident_id,
        alert_id=primary,
        alert_ids=",".join(ids),
        action=action.action,
        action_id=click.action_id,
        user_id=click.user_id,
        channel_id=click.channel_id,
        message_ts=click.message_ts,
        alert_date=alert_date,
        created_at=_utc_naive(float(click.action_ts)),
        expires_on=alert_date + dt.timedelta(days=action.snooze_days) if action.snooze_days else None,
        note="; ".join(notes) or None,
        recorded_at=now,
    )
    return Decision(row, None)


# --- the table --------------------------------------------------------------------------------


def _ddl_type(dialect: str, generic: str) -> str:
    if dialect == "bigquery":
        return {"string": "STRING", "date": "DATE", "timestamp": "TIMESTAMP"}[generic]
    return {"string": "varchar", "date": "date", "timestamp": "timestamp"}[generic]


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


class FeedbackStore:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.table = backend.table("alerting", TABLE)
        self._ensured = False

    def ensure(self) -> None:
        if self._ensured:
            return
        b = self.backend
        notnull = {"feedback_id", "incident_id", "alert_id", "action", "user_id", "created_at"}
        cols = ", ".join(
            f"{n} {_ddl_type(b.dialect, COLUMN_TYPES[n])}" + (" not null" if n in notnull else "") for n in COLUMNS
        )
        key = ", primary key (feedback_id)" if b.dialect == "duckdb" else ""
        with b.session():
            b.ensure_area("alerting")
            b.query(f"create table if not exists {self.table} ({cols}{key})")
        self._ensured = True

    def incident_alerts(self, incident_id: str) -> list[IncidentAlert]:
        b = self.backend
        have = set(b.columns("marts", "fct_alerts"))
        if not {"alert_id", "alert_date", "incident_id"} <= have:
            raise WarehouseError("fct_alerts is missing or has no incident_id: run `dbt build` first")
        extra = [c for c in ("is_postable", "hold_reason", "is_incident_primary") if c in have]
        rows = b.query(
            f"select alert_id, alert_date{''.join(', ' + c for c in extra)}"  # noqa: S608
            f" from {b.table('marts', 'fct_alerts')} where incident_id = {b.param('incident')}",
            {"incident": incident_id},
        )
        return [
            IncidentAlert(
                alert_id=str(r["alert_id"]),
                alert_date=_as_date(r["alert_date"]),
                is_postable=r.get("is_postable") is not False,
                hold_reason=r.get("hold_reason"),
                is_incident_primary=bool(r.get("is_incident_primary")),
            )
            for r in rows
        ]

    def record(self, row: FeedbackRow) -> None:
        """Write the row unless a row with its feedback_id exists (one statement, idempotent)."""
        self.ensure()
        b, p = self.backend, self.backend.param
        params: dict[str, object] = {}
        values = []
        for name in COLUMNS:
            value = getattr(row, name)
            if value is None:
                values.append(f"cast(null as {_ddl_type(b.dialect, COLUMN_TYPES[name])})")
            else:
                params[name] = value
                values.append(p(name))
        names = ", ".join(COLUMNS)
        if b.dialect == "duckdb":
            sql = f"insert into {self.table} ({names}) values ({', '.join(values)}) on conflict do nothing"  # noqa: S608
        else:
            source = ", ".join(f"{v} as {n}" for v, n in zip(values, COLUMNS, strict=True))
            sql = (
                f"merge {self.table} t using (select {source}) s on t.feedback_id = s.feedback_id"  # noqa: S608
                f" when not matched then insert ({names}) values ({', '.join('s.' + n for n in COLUMNS)})"
            )
        b.query(sql, params)

    def rows(self) -> list[dict[str, Any]]:
        """Everything in the table (tests and audits); [] before the first write."""
        if not self.backend.columns("alerting", TABLE):
            return []
        return self.backend.query(f"select * from {self.table} order by created_at, feedback_id")  # noqa: S608
