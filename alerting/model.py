"""Platform-neutral alert model: what the warehouse says, before any wording or markup.

`Alert` is one row of `fct_alerts` (every column of the PLAN/DESIGN §3.3 contract, in the
mart's order) plus its structured drivers and, for cost, its decomposition rows. The list
of mart columns is derived from this dataclass (`ALERT_COLUMNS`), never re-typed.
`Incident` groups the alerts that share a cause; `DeliveryState` is what the delivery log
remembers of a posted alert (the lifecycle bodies compare it with today's alert).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SEVERITY_ORDER: tuple[str, ...] = ("critical", "warning", "notice")


def severity_rank(severity: str | None) -> int:
    """Sort key: critical first, unknown severities after notice (shown, never dropped)."""
    key = (severity or "").strip().lower()
    return SEVERITY_ORDER.index(key) if key in SEVERITY_ORDER else len(SEVERITY_ORDER)


@dataclass(frozen=True, kw_only=True)
class Driver:
    """One contributor to an alert's change: a row of fct_usage_alert_drivers / fct_gpu_cost_alert_drivers."""

    contributor_type: str
    contributor: str
    value: float | None
    baseline_value: float | None
    delta: float | None
    share_of_delta: float | None
    rank: int
    unit: str | None = None  # None: the alert's unit


@dataclass(frozen=True, kw_only=True)
class CostComponent:
    """One row of fct_gpu_cost_decomposition for the incident's vertical and cost day.

    component: request_volume (requests x baseline cost per request), request_rate (cost per
    request), idle, overhead, unused, or anything new (rendered by its name). A row with a
    contributor (endpoint / model / organization / process / gpu_type) details its component.
    `pct_change` is the component's own relative change when the mart has it (for
    request_volume: the request count's change, so a message can say "requests flat (+0.3%)").
    """

    component: str
    delta_usd: float | None
    share_of_change: float | None
    contributor_type: str | None = None
    contributor: str | None = None
    pct_change: float | None = None


@dataclass(frozen=True)
class TopUser:
    """One row of fct_usage_alert_top_users: a user who moved the alert's change (rank 1 = most)."""

    rank: int
    lt_id: str
    delta: float | None
    share_of_change: float | None
    is_new_user: bool | None = None


@dataclass(frozen=True)
class Concentration:
    """One row of fct_usage_alert_concentration (per usage z-score alert) plus its top users.

    `uses_drilldown` (the mart's uses_concentration_drilldown): the message shows this instead
    of the tier drivers (always for free; for a segment where one tier holds >= 95 % of the
    value). Shares are fractions of the segment's change.
    """

    uses_drilldown: bool
    users_moving_with_change: int | None = None
    users_for_half_of_change: int | None = None
    top_users_n: int | None = None
    top_users_share_of_change: float | None = None
    new_users: int | None = None
    new_user_share_of_change: float | None = None
    dominant_tier: str | None = None
    dominant_tier_share: float | None = None
    top_users: tuple[TopUser, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Alert:
    """One row of fct_alerts (columns in the mart's order) plus its drivers / decomposition."""

    alert_id: str
    incident_id: str | None = None
    alert_date: dt.date
    domain: str
    team: str | None = None
    scope: str
    metric: str
    rule: str | None = None
    threshold_kind: str | None = None
    baseline_kind: str | None = None
    unit: str | None = None
    current_value: float | None = None
    baseline_mean: float | None = None
    baseline_stddev: float | None = None
    baseline_stddev_kind: str | None = None  # sample / pooled_within_weekday (fct_alerts)
    baseline_points: int | None = None
    z_score: float | None = None
    robust_z_score: float | None = None
    pct_change: float | None = None
    threshold: float | None = None
    severity: str
    direction: str | None = None
    is_suppressed: bool = False
    suppression_reason: str | None = None
    is_postable: bool | None = None  # None (an older mart): postable unless suppressed
    hold_reason: str | None = None
    is_baseline_valid: bool | None = None
    has_insufficient_baseline: bool | None = None
    is_low_variance: bool | None = None
    has_baseline_outlier: bool | None = None
    baseline_outlier_date: dt.date | None = None
    is_incident_primary: bool | None = None
    drivers_summary: str | None = None
    recommended_action: str | None = None
    is_loud: bool | None = None  # the posting policy lets it notify the channel (top-level or broadcast)
    quiet_reason: str | None = None  # why it may not (held, calendar_event, below_severity, small_effect, ...)
    calendar_event: str | None = None  # the known event of that day and scope (holiday, launch, ...)
    loud_p_value: float | None = None
    loud_family_size: int | None = None
    feedback_action: str | None = None  # what people said last from Slack (acknowledge, snooze, ...)
    build_id: str | None = None  # the dbt invocation that built fct_alerts (== fct_data_health's: one build)
    # not mart columns: joined from the drivers / decomposition marts
    drivers: tuple[Driver, ...] = ()
    decomposition: tuple[CostComponent, ...] = ()
    concentration: Concentration | None = None

    @property
    def severity_key(self) -> str:
        """Lower-cased severity; anything unknown is kept (and shown) as is."""
        return (self.severity or "unknown").strip().lower()

    @property
    def postable(self) -> bool:
        if self.is_postable is None:
            return not self.is_suppressed
        return bool(self.is_postable)

    @property
    def incident_key(self) -> str:
        """incident_id, or the alert's own id when the mart has none (a one-alert incident)."""
        return self.incident_id or f"alert:{self.alert_id}"


_NON_COLUMNS = ("drivers", "decomposition", "concentration")
# (name, DuckDB type) of every fct_alerts column, in order, derived from Alert
_DUCK_TYPES = {
    "str": "varchar",
    "dt.date": "date",
    "float": "double",
    "int": "bigint",
    "bool": "boolean",
}


def _duck_type(annotation: str) -> str:
    base = annotation.replace(" | None", "").strip()
    return _DUCK_TYPES[base]


ALERT_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (f.name, _duck_type(str(f.type))) for f in dataclasses.fields(Alert) if f.name not in _NON_COLUMNS
)
ALERT_COLUMN_NAMES: tuple[str, ...] = tuple(n for n, _ in ALERT_COLUMNS)


def _float(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _bool(v: Any) -> bool | None:
    return None if v is None else bool(v)


def as_date(v: Any) -> dt.date | None:
    """A warehouse value as a date: DATE, TIMESTAMP (its date) or an ISO string; None stays None."""
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


_CONVERT = {"varchar": _str, "date": as_date, "double": _float, "bigint": _int, "boolean": _bool}


def alert_from_row(row: Mapping[str, Any], **extra: Any) -> Alert:
    """An Alert from a mart row (a dict); missing optional columns keep their defaults.

    Required: alert_id, alert_date, domain, scope, metric, severity (a missing severity is
    'unknown', shown rather than dropped).
    """
    kwargs: dict[str, Any] = {}
    for name, duck in ALERT_COLUMNS:
        if name in row:
            kwargs[name] = _CONVERT[duck](row[name])
    kwargs["alert_id"] = str(row["alert_id"])
    kwargs["alert_date"] = as_date(row["alert_date"])
    kwargs["domain"] = str(row.get("domain") or "unknown")
    kwargs["scope"] = str(row.get("scope") or "")
    kwargs["metric"] = str(row.get("metric") or "")
    kwargs["severity"] = str(row.get("severity") or "unknown")
    kwargs["is_suppressed"] = bool(row.get("is_suppressed"))
    kwargs.update(extra)
    return Alert(**kwargs)


def driver_from_row(row: Mapping[str, Any]) -> Driver:
    """A Driver from either drivers mart (usage says baseline_mean, cost says baseline_value)."""
    baseline = row.get("baseline_value", row.get("baseline_mean"))
    return Driver(
        contributor_type=str(row.get("contributor_type") or ""),
        contributor=str(row.get("contributor") or ""),
        value=_float(row.get("value")),
        baseline_value=_float(baseline),
        delta=_float(row.get("delta")),
        share_of_delta=_float(row.get("share_of_delta")),
        rank=int(row.get("contributor_rank") or row.get("rank") or 0),
        unit=_str(row.get("unit")),
    )


def component_from_row(row: Mapping[str, Any]) -> CostComponent:
    """A CostComponent from a fct_gpu_cost_decomposition row.

    contributor_type 'total' (contributor 'all') is the component itself; pct_change is the
    request count's change (requests / baseline_requests - 1) when the row has both.
    """
    ctype = _str(row.get("contributor_type"))
    total = ctype is None or ctype == "total"
    pct = _float(row.get("pct_change"))
    requests, baseline = _float(row.get("requests")), _float(row.get("baseline_requests"))
    if pct is None and requests is not None and baseline:
        pct = requests / baseline - 1
    return CostComponent(
        component=str(row.get("component") or ""),
        delta_usd=_float(row.get("delta_usd")),
        share_of_change=_float(row.get("share_of_change")),
        contributor_type=None if total else ctype,
        contributor=None if total else _str(row.get("contributor")),
        pct_change=pct,
    )


def attach_decomposition(alerts: Iterable[Alert], rows: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """Cost alerts with the decomposition rows of their (cost day, vertical): dt = alert_date, vertical = scope."""
    by_key: dict[tuple[dt.date | None, str], list[CostComponent]] = {}
    for row in rows:
        by_key.setdefault((as_date(row.get("dt")), str(row.get("vertical") or "")), []).append(component_from_row(row))
    return [
        dataclasses.replace(a, decomposition=tuple(by_key.get((a.alert_date, a.scope), ())))
        if a.domain == "gpu_cost"
        else a
        for a in alerts
    ]


def attach_drivers(alerts: Iterable[Alert], rows: Iterable[Mapping[str, Any]]) -> list[Alert]:
    """Alerts with their driver rows (either drivers mart), ordered by contributor_rank."""
    by_id: dict[str, list[Driver]] = {}
    for row in rows:
        by_id.setdefault(str(row.get("alert_id")), []).append(driver_from_row(row))
    return [
        dataclasses.replace(a, drivers=tuple(sorted(by_id[a.alert_id], key=lambda d: d.rank)))
        if a.alert_id in by_id
        else a
        for a in alerts
    ]


def concentrations_by_id(
    rows: Iterable[Mapping[str, Any]], user_rows: Iterable[Mapping[str, Any]] = ()
) -> dict[str, Concentration]:
    """alert_id -> Concentration from fct_usage_alert_concentration rows and their top users (rank order)."""
    users: dict[str, list[TopUser]] = {}
    for row in user_rows:
        users.setdefault(str(row.get("alert_id")), []).append(
            TopUser(
                rank=int(row.get("user_rank") or 0),
                lt_id=str(row.get("lt_id") or ""),
                delta=_float(row.get("delta")),
                share_of_change=_float(row.get("share_of_change")),
                is_new_user=_bool(row.get("is_new_user")),
            )
        )
    by_id: dict[str, Concentration] = {}
    for row in rows:
        key = str(row.get("alert_id"))
        by_id[key] = Concentration(
            uses_drilldown=bool(row.get("uses_concentration_drilldown")),
            users_moving_with_change=_int(row.get("users_moving_with_change")),
            users_for_half_of_change=_int(row.get("users_for_half_of_change")),
            top_users_n=_int(row.get("top_users_n")),
            top_users_share_of_change=_float(row.get("top_users_share_of_change")),
            new_users=_int(row.get("new_users")),
            new_user_share_of_change=_float(row.get("new_user_share_of_change")),
            dominant_tier=_str(row.get("dominant_tier")),
            dominant_tier_share=_float(row.get("dominant_tier_share")),
            top_users=tuple(sorted(users.get(key, ()), key=lambda u: (u.rank, u.lt_id))),
        )
    return by_id


def attach_concentration(alerts: Iterable[Alert], by_id: Mapping[str, Concentration]) -> list[Alert]:
    """Usage alerts with their concentration drill-down (by alert_id)."""
    return [dataclasses.replace(a, concentration=by_id[a.alert_id]) if a.alert_id in by_id else a for a in alerts]


# --- incidents -----------------------------------------------------------------------------------


def _primary_key(a: Alert) -> tuple[int, int, float, str]:
    z = abs(a.z_score) if a.z_score is not None and math.isfinite(a.z_score) else 0.0
    return (0 if a.is_incident_primary else 1, severity_rank(a.severity_key), -z, a.alert_id)


@dataclass(frozen=True)
class Incident:
    """Alerts that share a cause: the primary (headline) alert and the other members."""

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
        return min((a.severity_key for a in self.alerts), key=lambda s: (severity_rank(s), s))

    @property
    def teams(self) -> tuple[str, ...]:
        return tuple(sorted({(a.team or "unassigned").strip() or "unassigned" for a in self.alerts}))

    @property
    def domain(self) -> str:
        return self.primary.domain

    @property
    def alert_date(self) -> dt.date:
        return self.primary.alert_date


def group_incidents(alerts: Iterable[Alert]) -> list[Incident]:
    """Group by incident_id; primary = is_incident_primary, else most severe, largest |z|.

    Sorted: most severe incident first, then domain, scope, id (deterministic).
    """
    groups: dict[str, list[Alert]] = {}
    for alert in alerts:
        groups.setdefault(alert.incident_key, []).append(alert)
    incidents = []
    for key, members in groups.items():
        ordered = sorted(members, key=_primary_key)
        incidents.append(Incident(incident_id=key, primary=ordered[0], members=tuple(ordered[1:])))
    return sorted(
        incidents,
        key=lambda i: (
            severity_rank(i.severity),
            i.severity,
            i.domain,
            i.primary.scope,
            i.primary.metric,
            i.incident_id,
        ),
    )


@dataclass(frozen=True)
class DeliveryState:
    """What the delivery log remembers of a posted alert (compared with today's to word a correction)."""

    alert_id: str
    severity: str
    direction: str | None
    z_score: float | None
    current_value: float | None
    # optional context so a withdrawal can name what it withdraws
    alert_date: dt.date | None = None
    scope: str | None = None
    metric: str | None = None
    unit: str | None = None

    @classmethod
    def of(cls, alert: Alert) -> DeliveryState:
        return cls(
            alert_id=alert.alert_id,
            severity=alert.severity_key,
            direction=alert.direction,
            z_score=alert.z_score,
            current_value=alert.current_value,
            alert_date=alert.alert_date,
            scope=alert.scope,
            metric=alert.metric,
            unit=alert.unit,
        )


@dataclass(frozen=True)
class Digest:
    """All incidents of one run that go to one destination (channel)."""

    channel: str
    teams: tuple[str, ...]
    usage_date: dt.date
    cost_date: dt.date
    alerts: tuple[Alert, ...]
    held: tuple[Alert, ...] = field(default=())  # held today (for the counts line), never shown
    report_url: str | None = None  # the day's HTML report (LTX_REPORT_BASE_URL), linked from the header


@dataclass(frozen=True)
class Message:
    """One Slack message as the current transport posts it (Block Kit + fallback + carried ids)."""

    channel: str
    text: str
    blocks: list[dict[str, object]] = field(default_factory=list)
    alert_ids: tuple[str, ...] = ()
