"""Parameterised reads of the marts the report and the charts draw from.

Only marts are read, by name, with values as query parameters; each optional mart
(fct_alert_chart_series, fct_gpu_cost_decomposition, fct_data_health, ...) may be absent on
an older build: its reader then returns nothing and the report says so.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from alerting.charts import Component, SeriesPoint
from alerting.model import as_date
from alerting.warehouse import Backend, WarehouseError

log = logging.getLogger(__name__)

ALERTS = "fct_alerts"
SERIES = "fct_alert_chart_series"
CATEGORY_COMPONENTS = "fct_alert_chart_cost_components"
DECOMPOSITION = "fct_gpu_cost_decomposition"
USAGE_DRIVERS = "fct_usage_alert_drivers"
COST_DRIVERS = "fct_gpu_cost_alert_drivers"
UTILISATION = "fct_gpu_cost_utilisation"
DATA_HEALTH = "fct_data_health"
API_BY_ORG = "fct_gpu_cost_api_by_organization"
API_BY_ENDPOINT = "fct_gpu_cost_api_by_endpoint_model"
STUDIO_BY_PROCESS = "fct_gpu_cost_studio_by_process"

# fct_alerts columns the report shows when the build has them (DESIGN.md §3.3 + the plan)
ALERT_COLUMNS = (
    "alert_id",
    "incident_id",
    "alert_date",
    "domain",
    "team",
    "scope",
    "metric",
    "rule",
    "threshold_kind",
    "baseline_kind",
    "unit",
    "current_value",
    "baseline_mean",
    "baseline_stddev",
    "baseline_stddev_kind",
    "baseline_points",
    "z_score",
    "robust_z_score",
    "pct_change",
    "threshold",
    "severity",
    "direction",
    "is_suppressed",
    "suppression_reason",
    "is_postable",
    "hold_reason",
    "is_baseline_valid",
    "has_insufficient_baseline",
    "is_low_variance",
    "has_baseline_outlier",
    "baseline_outlier_date",
    "is_incident_primary",
    "drivers_summary",
    "recommended_action",
)
REQUIRED = ("alert_id", "alert_date", "domain", "scope", "metric", "severity")


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def columns(backend: Backend, table: str) -> set[str]:
    try:
        return set(backend.columns("marts", table))
    except Exception as exc:  # a missing dataset on BigQuery, a closed file: the mart is "absent"
        log.warning("cannot list the columns of %s (%s): treated as absent", table, type(exc).__name__)
        return set()


def _select(backend: Backend, table: str, wanted: Sequence[str]) -> list[str]:
    present = columns(backend, table)
    return [c for c in wanted if c in present]


def held(row: Mapping[str, Any]) -> bool:
    """Held = not postable (hold_reason) or, on builds without is_postable, suppressed."""
    if row.get("is_postable") is not None:
        return not bool(row["is_postable"])
    return bool(row.get("is_suppressed"))


def hold_reason(row: Mapping[str, Any]) -> str | None:
    if not held(row):
        return None
    return row.get("hold_reason") or row.get("suppression_reason") or "held"


def read_alerts(backend: Backend, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """fct_alerts rows with start <= alert_date <= end (every column the build has of ALERT_COLUMNS)."""
    select = _select(backend, ALERTS, ALERT_COLUMNS)
    missing = [c for c in REQUIRED if c not in select]
    if missing:
        if not select:
            raise WarehouseError(f"{backend.table('marts', ALERTS)} not found: run dbt build first")
        raise WarehouseError(f"{ALERTS} lacks required column(s): {', '.join(missing)}")
    p = backend.param
    sql = (
        f"select {', '.join(select)} from {backend.table('marts', ALERTS)}"  # noqa: S608 - validated names
        f" where alert_date >= {p('start')} and alert_date <= {p('end')} order by alert_date, alert_id"
    )
    rows = backend.query(sql, {"start": start, "end": end})
    for r in rows:
        r["alert_date"] = as_date(r["alert_date"])
        if r.get("baseline_outlier_date") is not None:
            r["baseline_outlier_date"] = as_date(r["baseline_outlier_date"])
    return rows


def read_series(backend: Backend, alert_ids: Sequence[str]) -> dict[str, list[SeriesPoint]]:
    """fct_alert_chart_series points per alert ({} when the mart is not built)."""
    wanted = ("alert_id", "dt", "value", "is_baseline_point", "is_alert_day")
    select = _select(backend, SERIES, wanted)
    if not alert_ids or not {"alert_id", "dt", "value", "is_baseline_point", "is_alert_day"} <= set(select):
        return {}
    sql = (
        f"select {', '.join(select)} from {backend.table('marts', SERIES)}"  # noqa: S608
        f" where {backend.in_list('alert_id', 'alert_ids')} order by alert_id, dt"
    )
    out: dict[str, list[SeriesPoint]] = {}
    for r in backend.query(sql, {"alert_ids": list(alert_ids)}):
        out.setdefault(str(r["alert_id"]), []).append(
            SeriesPoint(
                dt=as_date(r["dt"]),
                value=_float(r["value"]),
                is_baseline_point=bool(r["is_baseline_point"]),
                is_alert_day=bool(r["is_alert_day"]),
            )
        )
    return out


def read_components(backend: Backend, alerts: Iterable[Mapping[str, Any]]) -> tuple[dict[str, list[Component]], str]:
    """The cost day's change split per cost alert, and the basis label.

    fct_gpu_cost_decomposition (volume / rate / idle / overhead / unused, its `total` rows)
    when it is built; else the category split of fct_alert_chart_cost_components.
    """
    cost = [a for a in alerts if a.get("domain") == "gpu_cost"]
    if not cost:
        return {}, ""
    decomposition = columns(backend, DECOMPOSITION)
    if {"dt", "vertical", "component", "contributor_type", "delta_usd"} <= decomposition:
        days = sorted({as_date(a["alert_date"]) for a in cost})
        p = backend.param
        sql = (
            f"select dt, vertical, component, delta_usd from {backend.table('marts', DECOMPOSITION)}"  # noqa: S608
            f" where contributor_type = {p('total')} and {backend.in_list('dt', 'days')}"
            " order by dt, vertical, component"
        )
        by_day: dict[tuple[dt.date, str], list[Component]] = {}
        for r in backend.query(sql, {"total": "total", "days": days}):
            by_day.setdefault((as_date(r["dt"]), str(r["vertical"])), []).append(
                Component(str(r["component"]), float(r["delta_usd"] or 0.0))
            )
        return {
            str(a["alert_id"]): by_day.get((as_date(a["alert_date"]), str(a["scope"])), []) for a in cost
        }, "7-day average"
    if not {"alert_id", "component", "delta_usd"} <= columns(backend, CATEGORY_COMPONENTS):
        return {}, ""
    sql = (
        f"select alert_id, component, delta_usd from {backend.table('marts', CATEGORY_COMPONENTS)}"  # noqa: S608
        f" where {backend.in_list('alert_id', 'alert_ids')} order by alert_id, component"
    )
    out: dict[str, list[Component]] = {}
    for r in backend.query(sql, {"alert_ids": [str(a["alert_id"]) for a in cost]}):
        out.setdefault(str(r["alert_id"]), []).append(Component(str(r["component"]), float(r["delta_usd"] or 0.0)))
    return out, "7-day average (by category)"


def read_drivers(backend: Backend, alert_ids: Sequence[str], per_alert: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Top contributors per alert from the usage and cost driver marts (those that exist)."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not alert_ids:
        return out
    for table in (USAGE_DRIVERS, COST_DRIVERS):
        present = columns(backend, table)
        base = "baseline_mean" if "baseline_mean" in present else "baseline_value"
        need = {"alert_id", "contributor_type", "contributor", "value", "delta", "share_of_delta", "contributor_rank"}
        if not need <= present or base not in present:
            continue
        unit = ", unit" if "unit" in present else ""
        sql = (
            "select alert_id, contributor_type, contributor, value, delta, share_of_delta, contributor_rank,"  # noqa: S608
            f" {base} as baseline{unit} from {backend.table('marts', table)}"
            f" where {backend.in_list('alert_id', 'alert_ids')} and contributor_rank <= {backend.param('per_alert')}"
            " order by alert_id, contributor_rank"
        )
        for r in backend.query(sql, {"alert_ids": list(alert_ids), "per_alert": per_alert}):
            out.setdefault(str(r["alert_id"]), []).append(r)
    return out


def read_cost_trend(backend: Backend, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    if not {"dt", "vertical", "cost_category", "cost"} <= columns(backend, UTILISATION):
        return []
    p = backend.param
    sql = (
        f"select dt, vertical, cost_category, cost from {backend.table('marts', UTILISATION)}"  # noqa: S608
        f" where dt >= {p('start')} and dt <= {p('end')} order by dt, vertical, cost_category"
    )
    rows = backend.query(sql, {"start": start, "end": end})
    for r in rows:
        r["dt"] = as_date(r["dt"])
    return rows


def read_week_drivers(backend: Backend, end: dt.date, top: int = 5) -> tuple[list[dict[str, Any]], str]:
    """The week's (end - 6 .. end) top cost drivers per vertical, and how they were measured.

    From the decomposition's contributor rows when built (delta vs the 7-day average, summed
    over the week); else the change of each organisation / endpoint / process's fully loaded
    cost against the previous week (the per-contributor analysis marts).
    """
    start = end - dt.timedelta(days=6)
    p = backend.param
    decomposition = columns(backend, DECOMPOSITION)
    if {"dt", "vertical", "component", "contributor_type", "contributor", "delta_usd"} <= decomposition:
        sql = (
            "select vertical, contributor_type, contributor, sum(delta_usd) as delta_usd"  # noqa: S608
            f" from {backend.table('marts', DECOMPOSITION)}"
            f" where dt >= {p('start')} and dt <= {p('end')} and contributor_type <> {p('total')}"
            " and contributor is not null group by vertical, contributor_type, contributor"
        )
        rows = backend.query(sql, {"start": start, "end": end, "total": "total"})
        return _top(rows, top), "sum of each contributor's daily change vs its 7-day average"
    sources = (
        ("api", "organization", API_BY_ORG, "organization_name"),
        ("api", "endpoint", API_BY_ENDPOINT, "endpoint"),
        ("studio", "process", STUDIO_BY_PROCESS, "process_name"),
    )
    rows: list[dict[str, Any]] = []
    prev_start = start - dt.timedelta(days=7)
    for vertical, kind, table, column in sources:
        if not {"dt", column, "inference_cost"} <= columns(backend, table):
            continue
        sql = (
            f"select {column} as contributor,"  # noqa: S608 - names are constants above
            f" sum(case when dt >= {p('start')} then inference_cost else 0 end) as week_cost,"
            f" sum(case when dt < {p('start')} then inference_cost else 0 end) as previous_week_cost"
            f" from {backend.table('marts', table)} where dt >= {p('prev_start')} and dt <= {p('end')}"
            f" group by {column}"
        )
        for r in backend.query(sql, {"start": start, "end": end, "prev_start": prev_start}):
            week, previous = float(r["week_cost"] or 0.0), float(r["previous_week_cost"] or 0.0)
            rows.append(
                {
                    "vertical": vertical,
                    "contributor_type": kind,
                    "contributor": r["contributor"],
                    "delta_usd": week - previous,
                    "week_cost": week,
                    "previous_week_cost": previous,
                }
            )
    return _top(rows, top), "customer inference cost (idle / overhead are infrastructure), this week vs the week before"


def _top(rows: Iterable[Mapping[str, Any]], top: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    by_vertical: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_vertical.setdefault(str(r["vertical"]), []).append(r)
    for vertical in sorted(by_vertical):
        ranked = sorted(
            by_vertical[vertical],
            key=lambda r: (-abs(float(r["delta_usd"] or 0.0)), str(r["contributor_type"]), str(r["contributor"])),
        )
        out += [dict(r) for r in ranked[:top]]
    return out


def read_data_health(backend: Backend, start: dt.date, end: dt.date) -> list[dict[str, Any]] | None:
    """fct_data_health rows of the window; None when the mart is not built."""
    present = columns(backend, DATA_HEALTH)
    if not {"dt", "source", "status"} <= present:
        return None
    count = "row_count" if "row_count" in present else ("rows" if "rows" in present else None)
    optional = [c for c in ("expected_rows", "completeness", "status_reason") if c in present]
    select = ["dt", "source", "status", *optional] + ([f"{count} as rows"] if count else [])
    p = backend.param
    sql = (
        f"select {', '.join(select)} from {backend.table('marts', DATA_HEALTH)}"  # noqa: S608
        f" where dt >= {p('start')} and dt <= {p('end')} order by dt desc, source"
    )
    rows = backend.query(sql, {"start": start, "end": end})
    for r in rows:
        r["dt"] = as_date(r["dt"])
        for c in ("rows", "expected_rows", "completeness", "status_reason"):
            r.setdefault(c, None)  # a build without the column shows a dash
    return rows


def latest_day(backend: Backend) -> dt.date | None:
    """The newest scored usage day (fct_usage_anomaly_scores), else the newest alert day."""
    for table, column in (("fct_usage_anomaly_scores", "dt"), (ALERTS, "alert_date")):
        if column in columns(backend, table):
            [row] = backend.query(f"select max({column}) as day from {backend.table('marts', table)}")  # noqa: S608
            if row.get("day") is not None:
                return as_date(row["day"])
    return None
