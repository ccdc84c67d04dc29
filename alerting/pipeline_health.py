"""Post why a daily build stopped to the `data` team's channel, once per run date and set of failed nodes.

`make daily` runs it when its `dbt build` fails: the failed tests and models of dbt's run_results.json, with
failing row counts, and the stale sources with their last loaded day (the freshness test's stored failures).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alerting.model import as_date
from alerting.warehouse import Backend

FRESHNESS_TEST, PIPELINE_TEAM, FAILED = "assert_sources_fresh_for_run_date", "data", frozenset({"fail", "error"})
# what dbt writes as a relation name: "db"."schema"."name" or `project`.`dataset`.`name`, nothing else
_RELATION = re.compile(r'^(?:(?:"[A-Za-z0-9_.-]+"|`[A-Za-z0-9_.-]+`)\.){1,2}(?:"[A-Za-z0-9_]+"|`[A-Za-z0-9_]+`)$')


class RunResultsError(ValueError):
    """run_results.json is missing or not dbt's."""


@dataclass(frozen=True)
class Failure:
    name: str  # of the test, model or seed
    resource_type: str
    status: str  # fail / error
    rows: int | None  # failing rows of a test
    relation_name: str | None  # its stored failures


@dataclass(frozen=True)
class StaleSource:
    source: str
    last_loaded_day: dt.date | None


def read_failures(path: Path) -> list[Failure]:
    """The failed nodes of a dbt run, sorted by name (skipped nodes are consequences, not causes)."""
    try:
        results = json.loads(path.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunResultsError(f"cannot read dbt's run results {path}: {type(exc).__name__}") from None
    out = []
    for r in results:
        if not isinstance(r, dict) or r.get("status") not in FAILED:
            continue
        unique_id, rows, relation = str(r.get("unique_id") or ""), r.get("failures"), r.get("relation_name")
        parts = unique_id.split(".")
        rows = rows if isinstance(rows, int) and not isinstance(rows, bool) else None
        relation = relation if isinstance(relation, str) else None
        out.append(Failure(parts[2] if len(parts) > 2 else unique_id, parts[0], str(r["status"]), rows, relation))
    return sorted(out, key=lambda f: (f.name, f.status))


def stale_sources(backend: Backend, failures: Sequence[Failure]) -> list[StaleSource]:
    relation = next((f.relation_name for f in failures if f.name == FRESHNESS_TEST and f.relation_name), None)
    if relation is None or not _RELATION.match(relation):
        return []
    rows = backend.query(f"select source, last_loaded_day from {relation} order by source")  # noqa: S608
    return [StaleSource(str(r["source"]), as_date(r["last_loaded_day"])) for r in rows]


def cause_key(run_date: dt.date, failures: Sequence[Failure]) -> str:
    """One message per run date and cause: the same failed nodes again are the same cause."""
    names = "|".join(sorted({f"{f.resource_type}.{f.name}.{f.status}" for f in failures}))
    return f"pipeline|{run_date.isoformat()}|{hashlib.sha256(names.encode()).hexdigest()[:16]}"
