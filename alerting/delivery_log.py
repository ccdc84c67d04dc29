"""The delivery log: which alert reached which channel (exactly-once bookkeeping).

A table in the same warehouse (DuckDB `main_alerting.slack_delivery_log`, BigQuery
`<LTX_BQ_DATASET>_alerting.slack_delivery_log`), created if missing, one row per
(alert_id, channel). A row is written only after Slack answered ok for the message that
carried the alert; a run posts only alerts without a row, so a re-run posts nothing twice
and a failed post is simply retried by the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerting.warehouse import Backend

LOG_TABLE = "slack_delivery_log"

_COLUMNS = (
    ("alert_id", "string not null"),
    ("channel", "string not null"),
    ("alert_date", "date"),
    ("team", "string"),
    ("severity", "string"),
    ("slack_ts", "string"),
    ("run_id", "string"),
    ("delivered_at", "timestamp"),
)


@dataclass(frozen=True)
class Delivery:
    alert_id: str
    channel: str
    alert_date: dt.date | None
    team: str | None
    severity: str | None
    slack_ts: str | None
    run_id: str
    delivered_at: dt.datetime


class DeliveryLog:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.table = backend.table("alerting", LOG_TABLE)

    def ensure(self) -> None:
        """Create the schema / dataset and the table when missing (idempotent)."""
        self.backend.ensure_area("alerting")
        cols = ", ".join(f"{name} {ddl}" for name, ddl in _COLUMNS)
        # DuckDB enforces the key; BigQuery has no enforced keys (reads use distinct)
        key = ", primary key (alert_id, channel)" if self.backend.dialect == "duckdb" else ""
        self.backend.query(f"create table if not exists {self.table} ({cols}{key})")

    def delivered(self, alert_ids: Iterable[str]) -> set[tuple[str, str]]:
        """The (alert_id, channel) pairs already delivered, among `alert_ids`."""
        ids = sorted(set(alert_ids))
        if not ids:
            return set()
        rows = self.backend.query(
            f"select distinct alert_id, channel from {self.table} where {self.backend.in_list('alert_id', 'ids')}",  # noqa: S608
            {"ids": ids},
        )
        return {(str(r["alert_id"]), str(r["channel"])) for r in rows}

    def record(self, deliveries: Sequence[Delivery]) -> None:
        """Write the rows of one successfully posted message in one statement."""
        unique = {(d.alert_id, d.channel): d for d in deliveries}  # a duplicated mart row is logged once
        deliveries = list(unique.values())
        if not deliveries:
            return
        p = self.backend.param
        names = [name for name, _ in _COLUMNS]
        params: dict[str, object] = {}
        tuples = []
        for i, d in enumerate(deliveries):
            placeholders = []
            for name in names:
                key = f"{name}_{i}"
                params[key] = getattr(d, name)
                placeholders.append(p(key))
            tuples.append("(" + ", ".join(placeholders) + ")")
        conflict = " on conflict do nothing" if self.backend.dialect == "duckdb" else ""
        sql = f"insert into {self.table} ({', '.join(names)}) values {', '.join(tuples)}{conflict}"  # noqa: S608
        self.backend.query(sql, params)

    def rows(self) -> list[dict[str, object]]:
        """Everything in the log (for tests and audits)."""
        return self.backend.query(f"select * from {self.table} order by delivered_at, alert_id, channel")  # noqa: S608
