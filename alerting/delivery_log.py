"""The delivery log (`alert_delivery_log`, in the marts' warehouse): one row per thing delivered to a destination,
written only after the platform answered ok; `delivery_key` names the thing within its destination (an alert id,
`chart|<incident>`, ...), the same in any run that plans it. Claims (`alert_delivery_claims`): a run inserts one row
per key (the warehouse's clock, its host and pid) before posting and reads them back; the earliest live claim wins
(ties: the smaller run id). A claim lives for `claim_ttl_s` unless its holder is on this host and its pid is gone.
Needed on BigQuery (no locks, no enforced keys), used on DuckDB too; docs/delivery.md states the guarantees."""

from __future__ import annotations

import datetime as dt
import errno
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, get_args, get_type_hints

from alerting.warehouse import Backend

LOG_TABLE = "alert_delivery_log"
CLAIMS_TABLE = "alert_delivery_claims"
OPENING_KINDS = frozenset({"post", "data_health"})  # top-level: the message is a thread root
ALERT_KINDS = frozenset({"post", "data_health", "repeat", "broadcast"})  # the alert itself was delivered in a thread
ANNOUNCING_KINDS = frozenset({"post", "data_health", "broadcast"})  # ... in a message that notified the channel

_DDL = {
    "duckdb": {"string": "varchar", "date": "date", "double": "double", "timestamp": "timestamp", "int": "bigint"},
    "bigquery": {"string": "STRING", "date": "DATE", "double": "FLOAT64", "timestamp": "TIMESTAMP", "int": "INT64"},
}


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


COLUMNS = tuple(f.name for f in fields(LogEntry))
_GENERIC = {str: "string", dt.date: "date", float: "double", dt.datetime: "timestamp"}
_COLUMN_TYPES = {
    name: _GENERIC[next(t for t in (*get_args(hint), hint) if t in _GENERIC)]
    for name, hint in get_type_hints(LogEntry).items()
}


class DeliveryLog:
    def __init__(
        self, backend: Backend, claim_ttl_s: int = 900, host: str | None = None, pid: int | None = None
    ) -> None:
        self.backend = backend
        self.table = backend.table("alerting", LOG_TABLE)
        self.claims = backend.table("alerting", CLAIMS_TABLE)
        self.claim_ttl_s = int(claim_ttl_s)
        self.host = host or socket.gethostname()
        self.pid = os.getpid() if pid is None else pid

    def ensure(self) -> None:
        """Create the tables when missing (idempotent); drop claims older than a day."""
        b, ddl = self.backend, _DDL[self.backend.dialect]
        with b.session():
            b.ensure_area("alerting")
            notnull = {"delivery_key", "destination", "kind", "run_id"}
            cols = ", ".join(
                f"{name} {ddl[_COLUMN_TYPES[name]]}" + (" not null" if name in notnull else "") for name in COLUMNS
            )
            key = ", primary key (destination, delivery_key)" if b.dialect == "duckdb" else ""
            b.query(f"create table if not exists {self.table} ({cols}{key})")
            s, ts = ddl["string"], "timestamptz" if b.dialect == "duckdb" else "TIMESTAMP"
            b.query(
                f"create table if not exists {self.claims} (destination {s} not null, delivery_key {s} not null,"
                f" run_id {s} not null, claimed_at {ts} not null, host {s} not null, pid {ddl['int']} not null)"
            )
            b.query(
                f"delete from {self.claims} where claimed_at < {self._now_minus_ttl()}",  # noqa: S608
                {"ttl": max(self.claim_ttl_s, 86_400)},
            )

    def entries(self, since: dt.date) -> list[LogEntry]:
        """Every row with alert_date >= since (the lifecycle's look-back) and the rest of their threads (a thread
        is read whole: what its opening post announced may be older), oldest delivery first."""
        if not self.backend.columns("alerting", LOG_TABLE):
            return []
        recent = f"alert_date >= {self.backend.param('since')}"
        rows = self.backend.query(
            f"select {', '.join(COLUMNS)} from {self.table} where {recent} or thread_ts in"  # noqa: S608
            f" (select thread_ts from {self.table} where {recent}) order by delivered_at, delivery_key",
            {"since": since},
        )
        return [_entry(r) for r in rows]

    def delivered_keys(self, destination: str, keys: Sequence[str]) -> set[str]:
        if not (ids := sorted(set(keys))):
            return set()
        rows = self.backend.query(
            f"select distinct delivery_key from {self.table}"  # noqa: S608
            f" where destination = {self.backend.param('dest')} and {self.backend.in_list('delivery_key', 'keys')}",
            {"dest": destination, "keys": ids},
        )
        return {str(r["delivery_key"]) for r in rows}

    def record(self, entries: Sequence[LogEntry]) -> None:  # one delivered message's rows, one statement
        unique = list({(e.destination, e.delivery_key): e for e in entries}.values())
        if not unique:
            return
        ddl, params, tuples = _DDL[self.backend.dialect], {}, []
        for i, e in enumerate(unique):
            params.update({f"{n}_{i}": getattr(e, n) for n in COLUMNS if getattr(e, n) is not None})
            tuples.append(", ".join(
                self.backend.param(f"{n}_{i}") if f"{n}_{i}" in params else f"cast(null as {ddl[_COLUMN_TYPES[n]]})"
                for n in COLUMNS
            ))  # fmt: skip
        conflict = " on conflict do nothing" if self.backend.dialect == "duckdb" else ""
        sql = f"insert into {self.table} ({', '.join(COLUMNS)}) values ({'), ('.join(tuples)}){conflict}"  # noqa: S608
        self.backend.query(sql, params)

    def _now_minus_ttl(self) -> str:
        if self.backend.dialect == "bigquery":
            return f"timestamp_sub(current_timestamp(), interval {self.backend.param('ttl')} second)"
        return f"current_timestamp - to_seconds({self.backend.param('ttl')})"

    def claim(self, destination: str, keys: Sequence[str], run_id: str) -> bool:
        """Claim every key for this run: True when it holds all of them (then post); False only when
        another run's live claim holds one (that run posts it; this run must not report success)."""
        if not (keys := sorted(set(keys))):
            return True
        b, p = self.backend, self.backend.param
        now = "current_timestamp()" if b.dialect == "bigquery" else "current_timestamp"
        params: dict[str, object] = {"dest": destination, "run": run_id, "host": self.host, "pid": self.pid}
        params.update({f"k{i}": k for i, k in enumerate(keys)})
        values = ", ".join(
            f"({p('dest')}, {p(f'k{i}')}, {p('run')}, {now}, {p('host')}, {p('pid')})" for i in range(len(keys))
        )
        with b.session():
            b.query(
                f"insert into {self.claims} (destination, delivery_key, run_id, claimed_at, host, pid)"  # noqa: S608
                f" values {values}",
                params,
            )
            rows = b.query(
                f"select delivery_key, run_id, claimed_at, host, pid from {self.claims}"  # noqa: S608
                f" where destination = {p('dest')} and {b.in_list('delivery_key', 'keys')}"
                f" and claimed_at >= {self._now_minus_ttl()}",
                {"dest": destination, "keys": keys, "ttl": self.claim_ttl_s},
            )
            dead = sorted({str(r["run_id"]) for r in rows if self._dead(r)})
            if dead:  # a crashed run on this host: its claims go, its deliveries are ours now
                b.query(
                    f"delete from {self.claims} where {b.in_list('run_id', 'dead')}",  # noqa: S608
                    {"dead": dead},
                )
        live = [
            (r["claimed_at"], str(r["run_id"]), str(r["delivery_key"])) for r in rows if str(r["run_id"]) not in dead
        ]
        won = all(min((c for c in live if c[2] == k), default=(0, "", k))[1] == run_id for k in keys)
        if not won:  # a losing claim must not outlive the winner's (a failed post is retried at once)
            self.release(destination, keys, run_id)
        return won

    def orphaned_keys(self) -> list[str]:
        """Keys claimed by a run that is gone (its process on this host, or its lease ended) and never
        delivered: what a failed run left; the next run catches its day up (docs/delivery.md)."""
        rows = self.backend.query(
            f"select c.delivery_key, c.claimed_at < {self._now_minus_ttl()} as expired, c.host, c.pid"  # noqa: S608
            f" from {self.claims} as c left join {self.table} as d"
            f" on d.destination = c.destination and d.delivery_key = c.delivery_key where d.delivery_key is null",
            {"ttl": self.claim_ttl_s},
        )
        return sorted({str(r["delivery_key"]) for r in rows if r["expired"] or self._dead(r)})

    def _dead(self, row: dict[str, Any]) -> bool:
        """Held on this host by a process that is gone (another host's claim lives until its lease ends)."""
        if row["host"] != self.host or int(row["pid"]) == self.pid:
            return False
        try:
            os.kill(int(row["pid"]), 0)
        except OSError as exc:  # ESRCH: no such process; EPERM: another user's, alive
            return exc.errno == errno.ESRCH
        return False

    def release(self, destination: str, keys: Sequence[str], run_id: str) -> None:
        """Drop this run's claims (a failed post: the next run may retry at once)."""
        if not (keys := sorted(set(keys))):
            return
        p = self.backend.param
        self.backend.query(
            f"delete from {self.claims} where destination = {p('dest')} and run_id = {p('run')}"  # noqa: S608
            f" and {self.backend.in_list('delivery_key', 'keys')}",
            {"dest": destination, "run": run_id, "keys": keys},
        )


def _entry(row: dict[str, object]) -> LogEntry:
    values = {name: row.get(name) for name in COLUMNS}
    stamp = values["delivered_at"]
    if isinstance(stamp, dt.datetime) and stamp.tzinfo is not None:  # BigQuery answers in UTC, aware
        values["delivered_at"] = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return LogEntry(**values)  # type: ignore[arg-type]
