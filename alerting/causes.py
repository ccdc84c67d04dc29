"""Readers of the marts that explain alerts: drivers, cost decomposition, usage concentration.

The headline's driver measure (fct_gpu_cost_alert_drivers.driver_metric, decided per metric in the mart) says what
explains a cost incident. Failed requests: no decomposition, the endpoint / model / organisation whose requests failed,
not the day's cost noise. Inference cost: the decomposition's request components alone (volume, cost per request) as
shares of the inference change, not of the infrastructure total whose idle and unused moved beside it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from alerting.model import (
    REQUEST_COMPONENTS,
    Alert,
    CostComponent,
    as_date,
    attach_concentration,
    attach_decomposition,
    attach_drivers,
    group_incidents,
)
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
    measure = {i.incident_id: {x.driver_metric for x in i.primary.drivers} for i in group_incidents(out)}
    explained = []
    for a, b in zip(out, decomposed, strict=True):
        drivers = measure.get(a.incident_id, set())
        if "failed_requests" in drivers:
            explained.append(a)
        elif drivers == {"inference_cost"}:
            explained.append(dataclasses.replace(b, decomposition=inference_view(b.decomposition)))
        else:
            explained.append(b)
    return explained


def inference_view(parts: Sequence[CostComponent]) -> tuple[CostComponent, ...]:
    """The request components and their contributors, as shares of the inference change they add up to."""
    kept = [c for c in parts if c.component in REQUEST_COMPONENTS]
    totals = [c for c in kept if c.contributor is None]
    change = sum(c.delta_usd or 0.0 for c in totals)
    base = next((c.baseline_cost for c in totals if c.baseline_cost is not None), None)
    return tuple(
        dataclasses.replace(
            c, share_of_change=c.delta_usd / change if change and c.delta_usd is not None else None,
            infra_change=change, baseline_infra_cost=base, of="inference cost",
        )
        for c in kept
    )  # fmt: skip
