"""Is the usage day's data complete? (`fct_data_health`, grain dt, source) -> exit 3 when not.

Pure decision plus a thin reader. A day with no row for the source is `missing` (the mart
lists missing days up to the run date; an older mart that lacks the day says nothing
better). Without the mart at all the check is skipped with a warning: the data-health
gate is a dbt feature, and fixture marts of older builds must still run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from alerting.warehouse import Backend

HEALTH_TABLE = "fct_data_health"
READY = "complete"


@dataclass(frozen=True)
class Readiness:
    day: dt.date
    source: str
    status: str  # complete / incomplete / missing / unknown (no mart)
    reason: str | None = None
    completeness: float | None = None

    @property
    def ready(self) -> bool:
        return self.status in (READY, "unknown")

    def describe(self) -> str:
        text = f"{self.source} data for {self.day.isoformat()} is {self.status}"
        if self.completeness is not None:
            text += f" ({self.completeness * 100:.0f}% of the expected rows)"
        if self.reason:
            text += f": {self.reason}"
        return text


def decide(rows: Iterable[Mapping[str, Any]], day: dt.date, source: str = "usage") -> Readiness:
    """The status of (day, source) from fct_data_health rows; no row -> missing."""
    for row in rows:
        row_day = row.get("dt")
        if isinstance(row_day, dt.datetime):
            row_day = row_day.date()
        if row_day == day and str(row.get("source")) == source:
            completeness = row.get("completeness")
            return Readiness(
                day=day,
                source=source,
                status=str(row.get("status") or "missing"),
                reason=row.get("status_reason"),
                completeness=None if completeness is None else float(completeness),
            )
    return Readiness(day=day, source=source, status="missing", reason=f"no {HEALTH_TABLE} row for the day")


def read(backend: Backend, day: dt.date, source: str = "usage") -> Readiness:
    present = set(backend.columns("marts", HEALTH_TABLE))
    if not present:
        return Readiness(day=day, source=source, status="unknown", reason=f"{HEALTH_TABLE} not found")
    wanted = [c for c in ("dt", "source", "status", "status_reason", "completeness") if c in present]
    p = backend.param
    sql = (
        f"select {', '.join(wanted)} from {backend.table('marts', HEALTH_TABLE)}"  # noqa: S608 - validated names
        f" where dt = {p('day')} and source = {p('source')}"
    )
    return decide(backend.query(sql, {"day": day, "source": source}), day, source)
