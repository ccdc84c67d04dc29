"""Thin readers for the marts that explain alerts: cost decomposition, cost drivers, usage concentration.

`attach_causes` reads `fct_gpu_cost_decomposition` (by cost day and vertical) and
`fct_gpu_cost_alert_drivers` (by alert_id) for cost alerts, and
`fct_usage_alert_concentration` / `fct_usage_alert_top_users` (by alert_id) for usage alerts,
when they exist, and returns the alerts with `decomposition` / `drivers` / `concentration`
filled (usage drivers keep coming from the runner's reader). A missing mart is not an error:
the message falls back to drivers / drivers_summary.

The decomposition splits a change of *cost* (USD). An incident whose primary alert is explained
by something else (its drivers count failed requests: a failure spike) gets none, so its message
names the endpoint / model / organisation whose requests failed, not the day's cost noise.
"""

from __future__ import annotations

from collections.abc import Sequence

from alerting.model import (
    Alert,
    Concentration,
    attach_concentration,
    attach_decomposition,
    attach_drivers,
    concentrations_by_id,
)
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
CONCENTRATION = "fct_usage_alert_concentration"
TOP_USERS = "fct_usage_alert_top_users"
CONCENTRATION_COLUMNS = (
    "alert_id", "uses_concentration_drilldown", "users_moving_with_change", "users_for_half_of_change",
    "top_users_n", "top_users_share_of_change", "new_users", "new_user_share_of_change", "dominant_tier",
    "dominant_tier_share",
)  # fmt: skip
TOP_USER_COLUMNS = ("alert_id", "user_rank", "lt_id", "delta", "share_of_change", "is_new_user")


def _select(backend: Backend, table: str, wanted: Sequence[str]) -> list[str] | None:
    present = set(backend.columns("marts", table))
    if not present:
        return None
    return [c for c in wanted if c in present]


def _by_alert_id(
    backend: Backend, table: str, wanted: Sequence[str], ids: Sequence[str]
) -> list[dict[str, object]] | None:
    """The rows of `table` for these alert ids (a parameterised IN list); None when the mart is absent."""
    cols = _select(backend, table, wanted)
    if not cols or "alert_id" not in cols:
        return None
    sql = (
        f"select {', '.join(cols)} from {backend.table('marts', table)}"  # noqa: S608 - validated names
        f" where {backend.in_list('alert_id', 'ids')}"
    )
    return backend.query(sql, {"ids": list(ids)})


def read_concentration(backend: Backend, ids: Sequence[str]) -> dict[str, Concentration]:
    """alert_id -> the concentration drill-down of those usage alerts ({} without the mart)."""
    if not ids:
        return {}
    rows = _by_alert_id(backend, CONCENTRATION, CONCENTRATION_COLUMNS, ids)
    if not rows:
        return {}
    return concentrations_by_id(rows, _by_alert_id(backend, TOP_USERS, TOP_USER_COLUMNS, ids) or [])


def attach_usage_concentration(backend: Backend, alerts: Sequence[Alert]) -> list[Alert]:
    """Usage alerts with their concentration drill-down (fct_usage_alert_concentration + top users)."""
    by_id = read_concentration(backend, [a.alert_id for a in alerts if a.domain == "usage"])
    return attach_concentration(alerts, by_id) if by_id else list(alerts)


def attach_causes(backend: Backend, alerts: Sequence[Alert]) -> list[Alert]:
    out = attach_usage_concentration(backend, alerts)
    cost = [a for a in out if a.domain == "gpu_cost"]
    if not cost:
        return out
    rows = _by_alert_id(backend, COST_DRIVERS, COST_DRIVER_COLUMNS, [a.alert_id for a in cost])
    if rows is not None:
        out = attach_drivers(out, rows)
    cols = _select(backend, DECOMPOSITION, DECOMPOSITION_COLUMNS)
    if cols:
        days = sorted({a.alert_date for a in cost})
        sql = (
            f"select {', '.join(cols)} from {backend.table('marts', DECOMPOSITION)}"  # noqa: S608 - validated names
            f" where {backend.in_list('dt', 'days')}"
        )
        decomposed = attach_decomposition(out, backend.query(sql, {"days": days}))
        not_cost = not_cost_incidents(out)
        out = [a if a.incident_key in not_cost else b for a, b in zip(out, decomposed, strict=True)]
    return out


def not_cost_incidents(alerts: Sequence[Alert]) -> set[str]:
    """Incident keys of cost alerts whose primary is explained by counts (failed requests), not by cost."""
    return {
        a.incident_key
        for a in alerts
        if a.domain == "gpu_cost" and a.is_incident_primary and any(d.unit and d.unit != "usd" for d in a.drivers)
    }
