"""The one alert record: a row of `fct_alerts` (every contract column, in the mart's order) plus its
drivers, cost decomposition and concentration. Severity order and incident headline are decided here."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")

SEVERITY_ORDER: tuple[str, ...] = ("critical", "warning", "notice")
REQUEST_COMPONENTS = ("request_volume", "request_rate")  # decomposition rows that add up to the inference change


def severity_rank(severity: str | None) -> int:
    """Critical first; an unknown severity after notice (shown, never dropped)."""
    key = (severity or "").strip().lower()
    return SEVERITY_ORDER.index(key) if key in SEVERITY_ORDER else len(SEVERITY_ORDER)


def as_date(v: Any) -> dt.date | None:
    """DATE, TIMESTAMP (its date) or an ISO string as a date; None stays None."""
    if v is None or (isinstance(v, dt.date) and not isinstance(v, dt.datetime)):
        return v
    return v.date() if isinstance(v, dt.datetime) else dt.date.fromisoformat(str(v)[:10])


def _float(v: Any) -> float | None:
    return None if v is None or math.isnan(f := float(v)) else f


def _from_row(cls: type[T], row: Mapping[str, Any], **renamed: str) -> T:
    """`cls` from a mart row: each field from its column (or `renamed[field]`), typed by its annotation."""
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        column, kind = renamed.get(f.name, f.name), str(f.type)
        if column in row:  # _float and as_date keep None
            value = row[column]
            kwargs[f.name] = _float(value) if "float" in kind else as_date(value) if "date" in kind else value
    return cls(**kwargs)


@dataclass(frozen=True, kw_only=True)
class Driver:  # a row of fct_usage_alert_drivers / fct_gpu_cost_alert_drivers: one contributor to the change
    contributor_type: str
    contributor: str
    value: float | None
    baseline_value: float | None
    delta: float | None
    share_of_delta: float | None
    rank: int
    unit: str | None = None  # None: the alert's unit
    baseline_kind: str | None = None  # cost: previous_day / short_window_mean; None (usage): the alert's baseline
    driver_metric: str | None = None  # cost: failed_requests' baseline is the failures expected at the day's traffic
    breakdown_order: int = 0  # cost: GPU type / category, endpoint / process, model, organisation (usage: one)


@dataclass(frozen=True, kw_only=True)
class CostComponent:  # a row of fct_gpu_cost_decomposition: request_volume, request_rate, idle, overhead,
    # unused (or new), optionally by a contributor; `pct_change`: the component's own change (requests for volume);
    # infra_change against baseline_infra_cost (of baseline_kind): "the change" its shares are of
    component: str
    delta_usd: float | None
    share_of_change: float | None
    contributor_type: str | None = None
    contributor: str | None = None
    pct_change: float | None = None
    infra_change: float | None = None
    baseline_infra_cost: float | None = None
    baseline_kind: str | None = None
    baseline_cost: float | None = None  # the component's own baseline (request rows: the inference cost)
    of: str = "infrastructure cost"  # what infra_change is the change of (causes: an inference headline's own)


@dataclass(frozen=True)
class TopUser:  # a row of fct_usage_alert_top_users (rank 1 moved the change most)
    rank: int
    lt_id: str
    delta: float | None
    share_of_change: float | None
    is_new_user: bool | None = None


@dataclass(frozen=True)
class Concentration:  # a row of fct_usage_alert_concentration plus its top users; shares: fractions of the change
    uses_drilldown: bool
    users_moving_with_change: int | None = None
    users_for_half_of_change: int | None = None
    top_users_n: int | None = None
    top_users_share_of_change: float | None = None
    new_users: int | None = None
    new_user_share_of_change: float | None = None
    top_users: tuple[TopUser, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Alert:  # a row of fct_alerts (columns in the mart's order) plus its drivers / decomposition
    alert_id: str
    incident_id: str
    alert_date: dt.date
    domain: str
    team: str
    scope: str
    metric: str
    rule: str
    threshold_kind: str | None = None
    baseline_kind: str | None = None
    unit: str | None = None
    current_value: float | None = None
    baseline_mean: float | None = None
    baseline_stddev: float | None = None
    baseline_stddev_kind: str | None = None
    baseline_points: int | None = None
    z_score: float | None = None
    robust_z_score: float | None = None
    pct_change: float | None = None
    threshold: float | None = None
    severity: str
    direction: str
    is_suppressed: bool = False
    suppression_reason: str | None = None
    is_postable: bool = True
    hold_reason: str | None = None
    is_baseline_valid: bool | None = None
    has_insufficient_baseline: bool | None = None
    is_low_variance: bool | None = None
    has_baseline_outlier: bool | None = None
    baseline_outlier_date: dt.date | None = None
    is_incident_primary: bool = False
    drivers_summary: str | None = None
    recommended_action: str | None = None
    is_loud: bool = False  # the posting policy lets it notify the channel (top-level or broadcast)
    quiet_reason: str | None = None  # why it may not (held, calendar_event, below_severity, small_effect, ...)
    loud_reason: str | None = None  # which way a loud one passed (threshold, family_wise, large_effect, account_drop)
    calendar_event: str | None = None
    loud_p_value: float | None = None
    loud_family_size: int | None = None
    feedback_action: str | None = None  # what people said last from Slack (acknowledge, snooze, ...)
    run_days: int = 1  # which day of its series' run of consecutive alert days (in its direction) it is
    build_id: str | None = None  # the dbt invocation that built fct_alerts (== fct_data_health's)
    # not mart columns: joined from the drivers / decomposition / concentration marts
    drivers: tuple[Driver, ...] = ()
    decomposition: tuple[CostComponent, ...] = ()
    concentration: Concentration | None = None

    @property
    def series(self) -> tuple[str, str, str]:
        return (self.domain, self.scope, self.metric)

    @property
    def series_key(self) -> str:
        return "|".join((*self.series, self.rule))

    @property
    def thread_series(self) -> tuple[str, str, str, str]:  # a thread carries a series in one direction
        return (*self.series, self.direction)

    @property
    def robust_agrees(self) -> bool | None:  # |robust z| above the notice band, same sign as z; None: no robust z
        r = self.robust_z_score
        return None if r is None else abs(r) > 2.0 and (r > 0) == ((self.z_score or 0.0) > 0)


_NON_COLUMNS = ("drivers", "decomposition", "concentration")
# every fct_alerts column, in the mart's order: Alert's fields but those joined from other marts
ALERT_COLUMN_NAMES = tuple(f.name for f in dataclasses.fields(Alert) if f.name not in _NON_COLUMNS)


def alert_from_row(row: Mapping[str, Any]) -> Alert:
    return _from_row(Alert, row)


def _component(row: Mapping[str, Any]) -> CostComponent:
    """A fct_gpu_cost_decomposition row; contributor_type 'total' is the component itself. Volume's
    pct_change is the request count's change when the row has requests and baseline_requests."""
    part = _from_row(CostComponent, row)
    requests, baseline = _float(row.get("requests")), _float(row.get("baseline_requests"))
    if part.pct_change is None and requests is not None and baseline:
        part = dataclasses.replace(part, pct_change=requests / baseline - 1)
    if part.contributor_type in (None, "total"):
        part = dataclasses.replace(part, contributor_type=None, contributor=None)
    return part


def _attach(alerts: Iterable[Alert], name: str, values: Mapping[Any, Any], key: Callable[[Alert], Any]) -> list[Alert]:
    return [dataclasses.replace(a, **{name: values[key(a)]}) if key(a) in values else a for a in alerts]


def attach_decomposition(alerts: Iterable[Alert], rows: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """Cost alerts with the decomposition rows of their (cost day, vertical)."""
    by_key: dict[tuple[str, dt.date | None, str], list[CostComponent]] = {}
    for row in rows:
        by_key.setdefault(("gpu_cost", as_date(row["dt"]), str(row["vertical"])), []).append(_component(row))
    parts = {k: tuple(v) for k, v in by_key.items()}
    return _attach(alerts, "decomposition", parts, lambda a: (a.domain, a.alert_date, a.scope))


def attach_drivers(alerts: Iterable[Alert], rows: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """Alerts with their driver rows (either drivers mart: usage says baseline_mean, cost baseline_value), in
    contributor_rank order."""
    by_id: dict[str, list[Driver]] = {}
    for row in rows:
        baseline = "baseline_value" if "baseline_value" in row else "baseline_mean"
        driver = _from_row(Driver, row, rank="contributor_rank", baseline_value=baseline)
        by_id.setdefault(str(row["alert_id"]), []).append(driver)
    ranked = {k: tuple(sorted(v, key=lambda d: d.rank)) for k, v in by_id.items()}
    return _attach(alerts, "drivers", ranked, lambda a: a.alert_id)


def attach_concentration(
    alerts: Iterable[Alert], rows: Iterable[Mapping[str, Any]], user_rows: Iterable[Mapping[str, Any]]
) -> list[Alert]:
    """Usage alerts with their fct_usage_alert_concentration row and its top users (rank order)."""
    users: dict[str, list[TopUser]] = {}
    for row in user_rows:
        users.setdefault(str(row["alert_id"]), []).append(_from_row(TopUser, row, rank="user_rank"))
    by_id = {}
    for row in rows:
        key = str(row["alert_id"])
        top = tuple(sorted(users.get(key, ()), key=lambda u: (u.rank, u.lt_id)))
        base = _from_row(Concentration, row, uses_drilldown="uses_concentration_drilldown")
        by_id[key] = dataclasses.replace(base, uses_drilldown=bool(base.uses_drilldown), top_users=top)
    return _attach(alerts, "concentration", by_id, lambda a: a.alert_id)


def headline_key(a: Alert) -> tuple[bool, int, float, str]:
    """min() / sort key of an incident's headline: the mart's primary (one per incident), then, among a
    subset without it, the most severe, the largest |z|, the smallest id. The only headline rule."""
    z = abs(a.z_score) if a.z_score is not None and math.isfinite(a.z_score) else 0.0
    return (not a.is_incident_primary, severity_rank(a.severity), -z, a.alert_id)


@dataclass(frozen=True)
class Incident:  # alerts that share a cause: the primary (headline) alert and the other members
    incident_id: str
    primary: Alert
    members: tuple[Alert, ...] = ()  # the others, most severe first

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return (self.primary, *self.members)

    @property
    def alert_ids(self) -> tuple[str, ...]:
        return tuple(a.alert_id for a in self.alerts)

    @property
    def severity(self) -> str:
        return min((a.severity for a in self.alerts), key=lambda s: (severity_rank(s), s))

    @property
    def domain(self) -> str:
        return self.primary.domain

    @property
    def alert_date(self) -> dt.date:
        return self.primary.alert_date


def group_incidents(alerts: Iterable[Alert]) -> list[Incident]:
    """Group by incident_id, headline first (headline_key); most severe incident first, then domain,
    scope, metric, id (deterministic)."""
    groups: dict[str, list[Alert]] = {}
    for alert in sorted(alerts, key=headline_key):
        groups.setdefault(alert.incident_id, []).append(alert)
    incidents = [Incident(key, members[0], tuple(members[1:])) for key, members in groups.items()]
    return sorted(incidents, key=lambda i: (severity_rank(i.severity), i.severity, *i.primary.series, i.incident_id))
