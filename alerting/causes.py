"""Thin readers for the marts that explain alerts: cost decomposition and cost alert drivers.

`attach_causes` reads `fct_gpu_cost_decomposition` (by cost day and vertical) and
`fct_gpu_cost_alert_drivers` (by alert_id) when they exist and returns the alerts with
`decomposition` / `drivers` filled (usage drivers keep coming from the runner's reader).
A missing mart is not an error: the message falls back to drivers / drivers_summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerting.model import Alert, attach_decomposition, attach_drivers
from alerting.warehouse import Backend

DECOMPOSITION = "fct_gpu_cost_decomposition"
COST_DRIVERS = "fct_gpu_cost_alert_drivers"
DECOMPOSITION_COLUMNS = (
    "dt", "vertical", "component", "contributor_type", "contributor", "delta_usd", "share_of_change", "requests",
    "baseline_requests",
)  # fmt: skip
COST_DRIVER_COLUMNS = (
    "alert_id", "contributor_type", "contributor", "value", "baseline_value", "delta", "share_of_delta",
    "contributor_rank", "unit",
)  # fmt: skip


def _select(backend: Backend, table: str, wanted: Sequence[str]) -> list[str] | None:
    present = set(backend.columns("marts", table))
    if not present:
        return None
    return [c for c in wanted if c in present]


def attach_causes(backend: Backend, alerts: Sequence[Alert]) -> list[Alert]:
    cost = [a for a in alerts if a.domain == "gpu_cost"]
    if not cost:
        return list(alerts)
    out = list(alerts)
    cols = _select(backend, DECOMPOSITION, DECOMPOSITION_COLUMNS)
    if cols:
        days = sorted({a.alert_date for a in cost})
        sql = (
            f"select {', '.join(cols)} from {backend.table('marts', DECOMPOSITION)}"  # noqa: S608 - validated names
            f" where {backend.in_list('dt', 'days')}"
        )
        out = attach_decomposition(out, backend.query(sql, {"days": days}))
    cols = _select(backend, COST_DRIVERS, COST_DRIVER_COLUMNS)
    if cols and "alert_id" in cols:
        sql = (
            f"select {', '.join(cols)} from {backend.table('marts', COST_DRIVERS)}"  # noqa: S608
            f" where {backend.in_list('alert_id', 'ids')}"
        )
        out = attach_drivers(out, backend.query(sql, {"ids": [a.alert_id for a in cost]}))
    return out
