"""Readers of the marts that explain alerts: drivers, cost decomposition, usage concentration.

A cost incident whose primary is explained by counts (failed requests) gets no decomposition: its message
names the endpoint / model / organisation whose requests failed, not the day's cost noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerting.model import (
    Alert,
    attach_concentration,
    attach_decomposition,
    attach_drivers,
    concentrations_by_id,
    group_incidents,
)
from alerting.warehouse import Backend


def _rows(backend: Backend, table: str, key: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows of a marts table whose `key` is in `keys` (a parameter); none when the table is not built."""
    if not keys or not backend.columns("marts", table):
        return []
    sql = f"select * from {backend.table('marts', table)} where {backend.in_list(key, 'keys')}"  # noqa: S608
    return backend.query(sql, {"keys": list(keys)})


def attach_causes(backend: Backend, alerts: Sequence[Alert]) -> list[Alert]:
    usage = [a.alert_id for a in alerts if a.domain == "usage"]
    out = attach_drivers(alerts, _rows(backend, "fct_usage_alert_drivers", "alert_id", usage))
    rows = _rows(backend, "fct_usage_alert_concentration", "alert_id", usage)
    users = _rows(backend, "fct_usage_alert_top_users", "alert_id", usage) if rows else []
    out = attach_concentration(out, concentrations_by_id(rows, users))
    cost = [a for a in out if a.domain == "gpu_cost"]
    if not cost:
        return out
    out = attach_drivers(out, _rows(backend, "fct_gpu_cost_alert_drivers", "alert_id", [a.alert_id for a in cost]))
    days = sorted({a.alert_date for a in cost})
    decomposed = attach_decomposition(out, _rows(backend, "fct_gpu_cost_decomposition", "dt", days))
    not_cost = {  # incidents whose headline is explained by counts (failed requests), not by cost
        inc.incident_id
        for inc in group_incidents(out)
        if inc.domain == "gpu_cost" and any(x.unit and x.unit != "usd" for x in inc.primary.drivers)
    }
    return [a if a.incident_id in not_cost else b for a, b in zip(out, decomposed, strict=True)]
