"""Readers of the marts that explain alerts: cost decomposition and drivers, usage concentration.

`attach_causes` fills `decomposition` (fct_gpu_cost_decomposition, by cost day and vertical) and
`drivers` (fct_gpu_cost_alert_drivers) on cost alerts and `concentration`
(fct_usage_alert_concentration + fct_usage_alert_top_users) on usage alerts. A cost incident whose
primary is explained by counts (failed requests) gets no decomposition: its message names the
endpoint / model / organisation whose requests failed, not the day's cost noise.
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

DECOMPOSITION = "fct_gpu_cost_decomposition"
DECOMPOSITION_COLUMNS = (
    "dt", "vertical", "component", "contributor_type", "contributor", "delta_usd", "share_of_change", "requests",
    "baseline_requests",
)  # fmt: skip
COST_DRIVERS = "fct_gpu_cost_alert_drivers"
COST_DRIVER_COLUMNS = (
    "alert_id", "contributor_type", "contributor", "value", "baseline_value", "delta", "share_of_delta",
    "contributor_rank", "unit",
)  # fmt: skip
CONCENTRATION = "fct_usage_alert_concentration"
CONCENTRATION_COLUMNS = (
    "alert_id", "uses_concentration_drilldown", "users_moving_with_change", "users_for_half_of_change",
    "top_users_n", "top_users_share_of_change", "new_users", "new_user_share_of_change", "dominant_tier",
    "dominant_tier_share",
)  # fmt: skip
TOP_USERS = "fct_usage_alert_top_users"
TOP_USER_COLUMNS = ("alert_id", "user_rank", "lt_id", "delta", "share_of_change", "is_new_user")


def _rows(backend: Backend, table: str, columns: Sequence[str], key: str, keys: Sequence[Any]) -> list[dict[str, Any]]:
    """The rows of a marts table whose `key` is in `keys` (a parameter); none when the table is not built."""
    if not keys or not backend.columns("marts", table):
        return []
    sql = (
        f"select {', '.join(columns)} from {backend.table('marts', table)}"  # noqa: S608 - constant names
        f" where {backend.in_list(key, 'keys')}"
    )
    return backend.query(sql, {"keys": list(keys)})


def attach_causes(backend: Backend, alerts: Sequence[Alert]) -> list[Alert]:
    usage = [a.alert_id for a in alerts if a.domain == "usage"]
    rows = _rows(backend, CONCENTRATION, CONCENTRATION_COLUMNS, "alert_id", usage)
    users = _rows(backend, TOP_USERS, TOP_USER_COLUMNS, "alert_id", usage) if rows else []
    out = attach_concentration(alerts, concentrations_by_id(rows, users))
    cost = [a for a in out if a.domain == "gpu_cost"]
    if not cost:
        return out
    out = attach_drivers(out, _rows(backend, COST_DRIVERS, COST_DRIVER_COLUMNS, "alert_id", [a.alert_id for a in cost]))
    days = sorted({a.alert_date for a in cost})
    decomposed = attach_decomposition(out, _rows(backend, DECOMPOSITION, DECOMPOSITION_COLUMNS, "dt", days))
    not_cost = {  # incidents whose headline is explained by counts (failed requests), not by cost
        inc.incident_id
        for inc in group_incidents(out)
        if inc.domain == "gpu_cost" and any(x.unit and x.unit != "usd" for x in inc.primary.drivers)
    }
    return [a if a.incident_id in not_cost else b for a, b in zip(out, decomposed, strict=True)]
