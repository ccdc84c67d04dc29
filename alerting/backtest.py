"""`python -m alerting backtest [--from D] [--to D]`: what each posting policy would have posted.

Pure computation over `Alert` rows (every row of fct_alerts in the window, held or not) plus
a thin reader; nothing is posted. For each ISO week and severity it prints, per policy,
"alerts/incidents" that would have been posted (an incident counts once per week and
severity: its most severe member's), and the held counts by reason.

Policies (the current one is the mart's own `is_postable`):
* current            — is_postable as built (holds: enterprise weekend, insufficient
                       baseline, incomplete data, muted);
* warning+           — current, WARNING and CRITICAL only (no NOTICE);
* min points 5       — current, but a baseline of 5-9 points is enough;
* no min points      — current, ignoring the insufficient-baseline hold;
* robust agrees      — current, and |robust z| > 2 in the same direction where the rule has one;
* min change 10%     — current, and |change| >= 10 %.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from alerting.model import ALERT_COLUMN_NAMES, Alert, alert_from_row, severity_rank
from alerting.warehouse import ALERTS_TABLE, Backend, WarehouseError

ROBUST_BAND = 2.0
MIN_CHANGE = 0.10


@dataclass(frozen=True)
class Policy:
    name: str
    posts: Callable[[Alert], bool]


def _holds_except(alert: Alert, ignored: str) -> bool:
    """Postable when the only hold is `ignored` (holds are first-that-applies: later ones are unknown)."""
    return alert.postable or alert.hold_reason == ignored


def _robust_agrees(alert: Alert) -> bool:
    r = alert.robust_z_score
    if r is None:
        return True  # a rule without a robust score is not judged by it
    z = alert.z_score or 0.0
    return abs(r) > ROBUST_BAND and (r > 0) == (z > 0)


def _min_points(n: int) -> Callable[[Alert], bool]:
    def posts(alert: Alert) -> bool:
        if alert.postable:
            return True
        points = alert.baseline_points
        return alert.hold_reason == "insufficient_baseline" and points is not None and points >= n

    return posts


POLICIES: tuple[Policy, ...] = (
    Policy("current", lambda a: a.postable),
    Policy("warning+", lambda a: a.postable and severity_rank(a.severity_key) <= 1),
    Policy("min points 5", _min_points(5)),
    Policy("no min points", lambda a: _holds_except(a, "insufficient_baseline")),
    Policy("robust agrees", lambda a: a.postable and _robust_agrees(a)),
    Policy(
        "min change 10%",
        lambda a: a.postable and a.pct_change is not None and abs(a.pct_change) >= MIN_CHANGE,
    ),
)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Cell:
    alerts: int
    incidents: int

    def __str__(self) -> str:
        return f"{self.alerts}/{self.incidents}"


@dataclass(frozen=True)
class Result:
    start: dt.date | None
    end: dt.date | None
    alerts: int
    by_domain: dict[str, int]
    held: dict[str, int]
    policies: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[Cell, ...]], ...]  # (week, severity, cells per policy)
    totals: tuple[Cell, ...]


def _cell(alerts: Sequence[Alert]) -> Cell:
    return Cell(alerts=len(alerts), incidents=len({a.incident_key for a in alerts}))


def run_backtest(alerts: Iterable[Alert], policies: Sequence[Policy] = POLICIES) -> Result:
    """Counts per (ISO week, severity) and policy; an incident is counted under its most severe member."""
    alerts = list(alerts)
    incident_severity: dict[str, str] = {}
    for a in alerts:
        best = incident_severity.get(a.incident_key)
        if best is None or (severity_rank(a.severity_key), a.severity_key) < (severity_rank(best), best):
            incident_severity[a.incident_key] = a.severity_key
    keys = sorted(
        {(iso_week(a.alert_date), a.severity_key) for a in alerts}, key=lambda k: (k[0], severity_rank(k[1]), k[1])
    )
    rows = []
    for week, severity in keys:
        cells = []
        for policy in policies:
            posted = [a for a in alerts if iso_week(a.alert_date) == week and policy.posts(a)]
            of_sev = [a for a in posted if a.severity_key == severity]
            incidents = {a.incident_key for a in posted if incident_severity[a.incident_key] == severity}
            cells.append(Cell(alerts=len(of_sev), incidents=len(incidents)))
        rows.append((week, severity, tuple(cells)))
    totals = tuple(_cell([a for a in alerts if p.posts(a)]) for p in policies)
    held: dict[str, int] = {}
    domains: dict[str, int] = {}
    for a in alerts:
        domains[a.domain] = domains.get(a.domain, 0) + 1
        if not a.postable:
            reason = a.hold_reason or ("suppressed" if a.is_suppressed else "held")
            held[reason] = held.get(reason, 0) + 1
    days = [a.alert_date for a in alerts]
    return Result(
        start=min(days) if days else None,
        end=max(days) if days else None,
        alerts=len(alerts),
        by_domain=dict(sorted(domains.items())),
        held=dict(sorted(held.items())),
        policies=tuple(p.name for p in policies),
        rows=tuple(rows),
        totals=totals,
    )


def format_result(result: Result) -> str:
    """A plain-text table: one row per (week, severity); cells are posted alerts/incidents."""
    if not result.alerts:
        return "Backtest: no alerts in the window.\n"
    lines = [
        f"Backtest {result.start} .. {result.end}: {result.alerts} alert rows "
        f"({', '.join(f'{d} {n}' for d, n in result.by_domain.items())})",
        "Held by reason: " + (", ".join(f"{r} {n}" for r, n in result.held.items()) or "none"),
        "Cells: alerts/incidents that the policy would have posted.",
        "",
    ]
    width = max(12, *(len(p) + 2 for p in result.policies))
    header = f"{'week':<10}{'severity':<10}" + "".join(f"{p:>{width}}" for p in result.policies)
    lines += [header, "-" * len(header)]
    for week, severity, cells in result.rows:
        lines.append(f"{week:<10}{severity[:9]:<10}" + "".join(f"{c!s:>{width}}" for c in cells))
    lines.append("-" * len(header))
    lines.append(f"{'total':<10}{'':<10}" + "".join(f"{c!s:>{width}}" for c in result.totals))
    return "\n".join(lines) + "\n"


def read_window(backend: Backend, start: dt.date | None, end: dt.date | None) -> list[Alert]:
    """Every fct_alerts row with start <= alert_date <= end (open ends: all), held ones included."""
    present = set(backend.columns("marts", ALERTS_TABLE))
    if not present:
        raise WarehouseError(f"{backend.table('marts', ALERTS_TABLE)} not found: run dbt build first")
    select = [c for c in ALERT_COLUMN_NAMES if c in present]
    p = backend.param
    where, params = [], {}
    if start:
        where.append(f"alert_date >= {p('start')}")
        params["start"] = start
    if end:
        where.append(f"alert_date <= {p('end')}")
        params["end"] = end
    sql = f"select {', '.join(select)} from {backend.table('marts', ALERTS_TABLE)}"  # noqa: S608 - validated
    if where:
        sql += " where " + " and ".join(where)
    sql += " order by alert_date, alert_id"
    return [alert_from_row(r) for r in backend.query(sql, params)]
