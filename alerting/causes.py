"""Readers of the marts that explain alerts: drivers, cost decomposition, usage concentration.

A cost incident whose primary is explained by counts (failed requests) gets no decomposition: its message
names the endpoint / model / organisation whose requests failed, not the day's cost noise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerting.model import Alert, as_date, attach_concentration, attach_decomposition, attach_drivers, group_incidents
from alerting.warehouse import Backend

Rows = list[dict[str, Any]]


def read(backend: Backend, table: str, where: str, params: dict[str, Any], need: Sequence[str] = ()) -> Rows | None:
    """The matching rows of a mart (its `need` columns, else all); None when it is not built."""
    columns = backend.columns("marts", table)
    if not columns or not set(need) <= set(columns):
        return None
    rows = backend.query(f"select {', '.join(need) or '*'} from {backend.table('marts', table)} where {where}", params)  # noqa: S608
    return [{**r, "dt": as_date(r["dt"])} if "dt" in r else r for r in rows]


def read_in(backend: Backend, table: str, key: str, keys: Sequence[Any], need: Sequence[str] = ()) -> Rows:
    """The rows of a mart whose `key` is in `keys` (a parameter); none without keys or the mart."""
    return (read(backend, table, backend.in_list(key, "keys"), {"keys": list(keys)}, need) if keys else None) or []


def attach_causes(backend: Backend, alerts: Sequence[Alert]) -> list[Alert]:
    usage = [a.alert_id for a in alerts if a.domain == "usage"]
    out = attach_drivers(alerts, read_in(backend, "fct_usage_alert_drivers", "alert_id", usage))
    rows = read_in(backend, "fct_usage_alert_concentration", "alert_id", usage)
    users = read_in(backend, "fct_usage_alert_top_users", "alert_id", usage) if rows else []
    out = attach_concentration(out, rows, users)
    cost = [a for a in out if a.domain == "gpu_cost"]
    out = attach_drivers(out, read_in(backend, "fct_gpu_cost_alert_drivers", "alert_id", [a.alert_id for a in cost]))
    days = sorted({a.alert_date for a in cost})
    decomposed = attach_decomposition(out, read_in(backend, "fct_gpu_cost_decomposition", "dt", days))
    not_cost = {  # incidents whose headline is explained by counts (failed requests), not by cost
        inc.incident_id
        for inc in group_incidents(out)
        if inc.domain == "gpu_cost" and any(x.unit and x.unit != "usd" for x in inc.primary.drivers)
    }
    return [a if a.incident_id in not_cost else b for a, b in zip(out, decomposed, strict=True)]
