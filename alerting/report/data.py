"""Reads of the marts the report draws from (names constants, values parameters); a mart not built reads None."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from alerting.charts import SeriesPoint
from alerting.model import as_date
from alerting.warehouse import ALERTS_TABLE, Backend

SERIES = "fct_alert_chart_series"
USAGE_DRIVERS = "fct_usage_alert_drivers"
UTILISATION = "fct_gpu_cost_utilisation"
DECOMPOSITION = "fct_gpu_cost_decomposition"
DATA_HEALTH = "fct_data_health"
FEEDBACK = "fct_alert_feedback_weekly"
Rows = list[dict[str, Any]]
FEEDBACK_COUNTS = ("loud_incidents", "acknowledged", "snoozed", "expected", "false_alarms", "no_answer")


def read(backend: Backend, table: str, need: Sequence[str], where: str, params: dict[str, Any]) -> Rows | None:
    """The `need` columns of the matching rows; None when the mart is not built."""
    if not set(need) <= set(backend.columns("marts", table)):
        return None
    rows = backend.query(f"select {', '.join(need)} from {backend.table('marts', table)} where {where}", params)  # noqa: S608
    for r in rows:
        r.update({c: as_date(r[c]) for c in ("dt", "alert_week") if c in r})
    return rows


def between(backend: Backend, column: str, start: dt.date, end: dt.date) -> tuple[str, dict[str, Any]]:
    return f"{column} >= {backend.param('start')} and {column} <= {backend.param('end')}", {"start": start, "end": end}


def of_alerts(backend: Backend, table: str, need: Sequence[str], alert_ids: Sequence[str]) -> Rows:
    """The rows of these alerts ([] when the mart is not built)."""
    where, params = backend.in_list("alert_id", "ids"), {"ids": list(alert_ids)}
    return (read(backend, table, ("alert_id", *need), where, params) if alert_ids else None) or []


def read_series(backend: Backend, alert_ids: Sequence[str]) -> dict[str, list[SeriesPoint]]:
    """fct_alert_chart_series points per alert."""
    out: dict[str, list[SeriesPoint]] = {}
    for r in of_alerts(backend, SERIES, ("dt", "value", "is_baseline_point", "is_alert_day"), alert_ids):
        value = None if r["value"] is None else float(r["value"])
        point = SeriesPoint(r["dt"], value, bool(r["is_baseline_point"]), bool(r["is_alert_day"]))
        out.setdefault(str(r["alert_id"]), []).append(point)
    return out


def read_usage_drivers(backend: Backend, alert_ids: Sequence[str]) -> Rows:
    need = ("contributor_type", "contributor", "value", "baseline_mean", "delta", "share_of_delta", "contributor_rank")
    return of_alerts(backend, USAGE_DRIVERS, need, alert_ids)


def read_week_drivers(backend: Backend, end: dt.date, top: int = 5) -> Rows:
    """The week's (end - 6 .. end) top `top` cost contributors per vertical: the sum of their daily change
    against the 7-day average (fct_gpu_cost_decomposition's contributor rows)."""
    if "contributor" not in backend.columns("marts", DECOMPOSITION):
        return []
    where, params = between(backend, "dt", end - dt.timedelta(days=6), end)
    sql = (
        "select vertical, contributor_type, contributor, sum(delta_usd) as delta_usd"  # noqa: S608 - a constant name
        f" from {backend.table('marts', DECOMPOSITION)} where {where} and contributor_type <> {backend.param('total')}"
        " and contributor is not null group by vertical, contributor_type, contributor"
    )
    rows = backend.query(sql, {**params, "total": "total"})
    rows.sort(key=lambda r: (r["vertical"], -abs(r["delta_usd"] or 0), r["contributor_type"], r["contributor"]))
    return [r for _, ranked in groupby(rows, key=lambda r: r["vertical"]) for r in list(ranked)[:top]]


def read_cost_trend(backend: Backend, start: dt.date, end: dt.date) -> Rows:
    cols = ("dt", "vertical", "cost_category", "cost")
    return read(backend, UTILISATION, cols, *between(backend, "dt", start, end)) or []


def read_data_health(backend: Backend, start: dt.date, end: dt.date) -> Rows | None:
    """fct_data_health rows of the window, newest first; None when the mart is not built."""
    cols = ("dt", "source", "status", "row_count", "expected_rows", "completeness", "status_reason")
    rows = read(backend, DATA_HEALTH, cols, *between(backend, "dt", start, end))
    return None if rows is None else sorted(rows, key=lambda r: (-r["dt"].toordinal(), r["source"]))


def read_feedback(backend: Backend, start: dt.date, end: dt.date) -> Rows | None:
    """fct_alert_feedback_weekly over the weeks start .. end (None without the mart), summed per team and rule and
    for all, with the precision from people: 1 - false alarms / answered incidents (None when nobody answered)."""
    rows = read(backend, FEEDBACK, ("team", "rule", *FEEDBACK_COUNTS), *between(backend, "alert_week", start, end))
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows or []:
        for key in ((str(r["team"]), str(r["rule"])), ("all teams", "all rules")):
            t = totals.setdefault(key, {"team": key[0], "rule": key[1], **dict.fromkeys(FEEDBACK_COUNTS, 0)})
            t.update({c: t[c] + int(r[c] or 0) for c in FEEDBACK_COUNTS})
    for t in totals.values():
        answered = t["loud_incidents"] - t["no_answer"]
        t["precision"] = 1 - t["false_alarms"] / answered if answered else None
    order = sorted(totals.values(), key=lambda t: (t["team"] == "all teams", t["team"], t["rule"]))
    return None if rows is None else order


def latest_day(backend: Backend) -> dt.date | None:
    """The newest scored usage day (fct_usage_anomaly_scores), else the newest alert day."""
    for table, column in (("fct_usage_anomaly_scores", "dt"), (ALERTS_TABLE, "alert_date")):
        if column in backend.columns("marts", table):
            [row] = backend.query(f"select max({column}) as day from {backend.table('marts', table)}")  # noqa: S608
            if row.get("day") is not None:
                return as_date(row["day"])
    return None
