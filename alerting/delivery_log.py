"""The delivery log: what reached which destination, keyed on destination (not on Slack).

Table `alert_delivery_log` in the same warehouse (DuckDB `main_alerting`, BigQuery
`<LTX_BQ_DATASET>_alerting`), created if missing; one row per delivered thing:

* `post` / `data_health`: an alert in a top-level message (its thread's root);
* `repeat`: an alert in a reply in the thread of an earlier post (the series is still out);
* `broadcast`: the same, for news in that thread (a new series, a higher severity): the reply
  is also shown in the channel;
* `summary`: a quiet-only alert listed in the channel's daily `Summary:` message;
* `pipeline_health`: a daily build stopped by stale sources or failing tests (one per day and cause);
* `correction` / `withdrawal`: a reply after a rebuild changed / removed a delivered alert;
* `resolved`: a reply closing a series in a thread (back in its band for N complete days);
* `chart`: an incident's chart uploaded into its thread;
* `all_clear`: a day's all-clear message.

`delivery_key` identifies the thing within a destination (an alert id, `chart|<incident>`,
`<alert>|correction|<n>`, ...): two runs planning the same delivery compute the same key.
A row is written only after the platform answered ok.

Claims (`alert_delivery_claims`): before posting, a run inserts one row per key with the
warehouse's own clock and then reads the claims back; the earliest unexpired claim wins (ties:
the smaller run id). A second run at the same moment sees the first one's claim and skips; a
crashed run's claims expire after `claim_ttl_s` so its deliveries are retried. Needed on
BigQuery (no locks, no enforced keys); used on DuckDB too (two processes may interleave now
that the file is held only per operation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from alerting.warehouse import Backend

LOG_TABLE = "alert_delivery_log"
CLAIMS_TABLE = "alert_delivery_claims"
DEFAULT_CLAIM_TTL_S = 900
KINDS = (
    "post", "data_health", "repeat", "broadcast", "summary", "correction", "withdrawal", "resolved", "chart",
    "all_clear", "pipeline_health",
)  # fmt: skip
OPENING_KINDS = frozenset({"post", "data_health"})  # top-level: the message is a thread root
ALERT_KINDS = frozenset({"post", "data_health", "repeat", "broadcast"})  # the alert itself was delivered in a thread
LOUD_KINDS = frozenset({"post", "data_health", "broadcast", "all_clear", "pipeline_health"})  # notified the channel

_TYPES = {str: "string", dt.date: "date", float: "double", dt.datetime: "timestamp"}


@dataclass(frozen=True)
class LogEntry:
    delivery_key: str
    destination: str  # "<transport>:<channel>", e.g. "slack:#ltx-usage-alerts"
    kind: str
    alert_id: str | None
    incident_id: str | None
    alert_date: dt.date | None
    series_key: str | None  # domain|scope|metric|rule
    severity: str | None
    direction: str | None
    z_score: float | None
    current_value: float | None
    team: str | None
    channel_id: str | None  # what the platform returned (uploads need the id)
    message_ts: str | None
    thread_ts: str | None  # the thread's root (== message_ts for a top-level message)
    run_id: str
    delivered_at: dt.datetime

    @property
    def root_ts(self) -> str | None:
        return self.thread_ts or self.message_ts


_COLUMN_TYPES: dict[str, str] = {
    "delivery_key": "string",
    "destination": "string",
    "kind": "string",
    "alert_id": "string",
    "incident_id": "string",
    "alert_date": "date",
    "series_key": "string",
    "severity": "string",
    "direction": "string",
    "z_score": "double",
    "current_value": "double",
    "team": "string",
    "channel_id": "string",
    "message_ts": "string",
    "thread_ts": "string",
    "run_id": "string",
    "delivered_at": "timestamp",
}
COLUMNS = tuple(f.name for f in fields(LogEntry))
assert set(COLUMNS) == set(_COLUMN_TYPES)


def all_clear_key(usage_date: dt.date) -> str:
    """The delivery-log key of a day's all-clear message (so it is posted once too)."""
    return f"all_clear:{usage_date.isoformat()}"


def _ddl_type(dialect: str, generic: str) -> str:
    if dialect == "bigquery":
        return {"string": "STRING", "date": "DATE", "double": "FLOAT64", "timestamp": "TIMESTAMP"}[generic]
    return {"string": "varchar", "date": "date", "double": "double", "timestamp": "timestamp"}[generic]


class DeliveryLog:
    def __init__(self, backend: Backend, claim_ttl_s: int = DEFAULT_CLAIM_TTL_S) -> None:
        self.backend = backend
        self.table = backend.table("alerting", LOG_TABLE)
        self.claims = backend.table("alerting", CLAIMS_TABLE)
        self.claim_ttl_s = int(claim_ttl_s)

    # --- schema ---------------------------------------------------------------------------

    def ensure(self) -> None:
        """Create the tables when missing (idempotent)."""
        b = self.backend
        with b.session():
            b.ensure_area("alerting")
            notnull = {"delivery_key", "destination", "kind", "run_id"}
            cols = ", ".join(
                f"{name} {_ddl_type(b.dialect, _COLUMN_TYPES[name])}" + (" not null" if name in notnull else "")
                for name in COLUMNS
            )
            key = ", primary key (destination, delivery_key)" if b.dialect == "duckdb" else ""
            b.query(f"create table if not exists {self.table} ({cols}{key})")
            ts = "timestamptz" if b.dialect == "duckdb" else "TIMESTAMP"
            s = _ddl_type(b.dialect, "string")
            b.query(
                f"create table if not exists {self.claims}"
                f" (destination {s} not null, delivery_key {s} not null, run_id {s} not null, claimed_at {ts} not null)"
            )
            # claims only matter while a run is in flight: drop those older than a day (and the TTL)
            b.query(
                f"delete from {self.claims} where claimed_at < {self._now_minus_ttl()}",  # noqa: S608
                {"ttl": max(self.claim_ttl_s, 86_400)},
            )

    # --- reading --------------------------------------------------------------------------

    def exists(self) -> bool:
        return bool(self.backend.columns("alerting", LOG_TABLE))

    def entries(self, since: dt.date) -> list[LogEntry]:
        """Every row with alert_date >= since (the lifecycle's look-back), oldest delivery first."""
        if not self.exists():
            return []
        rows = self.backend.query(
            f"select {', '.join(COLUMNS)} from {self.table}"  # noqa: S608
            f" where alert_date >= {self.backend.param('since')} order by delivered_at, delivery_key",
            {"since": since},
        )
        return [_entry(r) for r in rows]

    def delivered_keys(self, destination: str, keys: Iterable[str]) -> set[str]:
        ids = sorted(set(keys))
        if not ids:
            return set()
        p = self.backend.param
        rows = self.backend.query(
            f"select distinct delivery_key from {self.table}"  # noqa: S608
            f" where destination = {p('dest')} and {self.backend.in_list('delivery_key', 'keys')}",
            {"dest": destination, "keys": ids},
        )
        return {str(r["delivery_key"]) for r in rows}

    def rows(self) -> list[dict[str, object]]:
        """Everything in the log (for tests and audits)."""
        return self.backend.query(f"select * from {self.table} order by delivered_at, destination, delivery_key")  # noqa: S608

    # --- writing --------------------------------------------------------------------------

    def record(self, entries: Sequence[LogEntry]) -> None:
        """Write the rows of one successfully delivered message in one statement."""
        unique = {(e.destination, e.delivery_key): e for e in entries}
        entries = list(unique.values())
        if not entries:
            return
        p = self.backend.param
        params: dict[str, object] = {}
        tuples = []
        for i, e in enumerate(entries):
            placeholders = []
            for name in COLUMNS:
                key = f"{name}_{i}"
                value = getattr(e, name)
                if value is None:
                    placeholders.append(f"cast(null as {_ddl_type(self.backend.dialect, _COLUMN_TYPES[name])})")
                    continue
                params[key] = value
                placeholders.append(p(key))
            tuples.append("(" + ", ".join(placeholders) + ")")
        conflict = " on conflict do nothing" if self.backend.dialect == "duckdb" else ""
        sql = f"insert into {self.table} ({', '.join(COLUMNS)}) values {', '.join(tuples)}{conflict}"  # noqa: S608
        self.backend.query(sql, params)

    # --- claims ---------------------------------------------------------------------------

    def _now_minus_ttl(self) -> str:
        if self.backend.dialect == "bigquery":
            return f"timestamp_sub(current_timestamp(), interval {self.backend.param('ttl')} second)"
        return f"current_timestamp - to_seconds({self.backend.param('ttl')})"

    def claim(self, destination: str, keys: Sequence[str], run_id: str) -> bool:
        """Claim every key for this run; True when this run holds all of them (then post)."""
        keys = sorted(set(keys))
        if not keys:
            return True
        b, p = self.backend, self.backend.param
        with b.session():
            values = ", ".join(
                f"({p('dest')}, {p(f'k{i}')}, {p('run')}, current_timestamp{'()' if b.dialect == 'bigquery' else ''})"
                for i in range(len(keys))
            )
            params: dict[str, object] = {"dest": destination, "run": run_id}
            params.update({f"k{i}": k for i, k in enumerate(keys)})
            insert = f"insert into {self.claims} (destination, delivery_key, run_id, claimed_at) values {values}"  # noqa: S608
            b.query(insert, params)
            rows = b.query(
                f"select delivery_key, run_id, claimed_at from {self.claims}"  # noqa: S608
                f" where destination = {p('dest')} and {b.in_list('delivery_key', 'keys')}"
                f" and claimed_at >= {self._now_minus_ttl()}",
                {"dest": destination, "keys": keys, "ttl": self.claim_ttl_s},
            )
        winner: dict[str, tuple[object, str]] = {}
        for r in rows:
            cand = (r["claimed_at"], str(r["run_id"]))
            current = winner.get(str(r["delivery_key"]))
            if current is None or cand < current:
                winner[str(r["delivery_key"])] = cand
        return all(k in winner and winner[k][1] == run_id for k in keys)

    def release(self, destination: str, keys: Sequence[str], run_id: str) -> None:
        """Drop this run's claims (a failed post: the next run may retry at once)."""
        keys = sorted(set(keys))
        if not keys:
            return
        p = self.backend.param
        self.backend.query(
            f"delete from {self.claims} where destination = {p('dest')} and run_id = {p('run')}"  # noqa: S608
            f" and {self.backend.in_list('delivery_key', 'keys')}",
            {"dest": destination, "run": run_id, "keys": keys},
        )

    def claims_rows(self) -> list[dict[str, object]]:
        return self.backend.query(f"select * from {self.claims} order by claimed_at")  # noqa: S608


def _entry(row: dict[str, object]) -> LogEntry:
    values = {name: row.get(name) for name in COLUMNS}
    for name in ("z_score", "current_value"):
        if values[name] is not None:
            values[name] = float(values[name])  # type: ignore[arg-type]
    if isinstance(values["alert_date"], dt.datetime):
        values["alert_date"] = values["alert_date"].date()
    stamp = values["delivered_at"]
    if isinstance(stamp, dt.datetime) and stamp.tzinfo is not None:  # BigQuery answers in UTC, aware
        values["delivered_at"] = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return LogEntry(**values)  # type: ignore[arg-type]
