"""`python -m alerting backtest [--from D] [--to D]`: what each posting policy would have posted of every
fct_alerts row of the window, held or not, and what people said from Slack of the loud incidents it posts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from alerting.model import Alert, severity_rank
from alerting.warehouse import Backend, read_alert_history

ROBUST_BAND = 2.0
MIN_CHANGE = 0.10
ACTIONS = {"acknowledge": "acknowledged", "snooze": "snoozed", "expected": "expected", "false_alarm": "false alarm"}


def hold_reason(alert: Alert) -> str | None:
    if alert.is_postable:
        return None
    return alert.hold_reason or ("suppressed" if alert.is_suppressed else "held")


def _robust_agrees(alert: Alert) -> bool:
    r = alert.robust_z_score
    if r is None:
        return True  # a rule without a robust score is not judged by it
    return abs(r) > ROBUST_BAND and (r > 0) == ((alert.z_score or 0.0) > 0)


POLICIES: dict[str, Callable[[Alert], bool]] = {  # warning+ drops NOTICE; robust: |robust z| > 2 the same way
    "current": lambda a: a.is_postable,
    "warning+": lambda a: a.is_postable and severity_rank(a.severity) <= 1,
    "min points 5": lambda a: (
        a.is_postable or (a.hold_reason == "insufficient_baseline" and (a.baseline_points or 0) >= 5)
    ),
    "no min points": lambda a: a.is_postable or a.hold_reason == "insufficient_baseline",
    "robust agrees": lambda a: a.is_postable and _robust_agrees(a),
    "min change 10%": lambda a: a.is_postable and a.pct_change is not None and abs(a.pct_change) >= MIN_CHANGE,
}


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Cell:
    alerts: int
    incidents: int

    def __str__(self) -> str:
        return f"{self.alerts}/{self.incidents}"

    def __add__(self, other: Cell) -> Cell:
        return Cell(self.alerts + other.alerts, self.incidents + other.incidents)


@dataclass(frozen=True)
class Feedback:
    """What people said from Slack of some loud incidents: per incident, the actions on its loud alerts (an
    incident counts under each, as fct_alert_feedback_weekly counts; none: no answer)."""

    answers: tuple[frozenset[str], ...]

    def count(self, action: str) -> int:
        return sum(1 for said in self.answers if action in said)

    @property
    def precision(self) -> float | None:
        """Precision from people: 1 - false alarms / answered incidents (None when nobody answered)."""
        answered = sum(1 for said in self.answers if said)
        return 1 - self.count("false_alarm") / answered if answered else None

    def __str__(self) -> str:
        said = ", ".join(f"{label} {self.count(action)}" for action, label in ACTIONS.items())
        p = "n/a" if self.precision is None else f"{self.precision:.0%}"
        no_answer = sum(1 for said in self.answers if not said)
        return f"{len(self.answers)} loud incidents: {said}, no answer {no_answer}; precision from people {p}"


def incident_feedback(alerts: Iterable[Alert]) -> dict[str, frozenset[str]]:
    """Per loud incident, the actions people chose on its loud alerts (empty: no answer)."""
    said: dict[str, set[str]] = {}
    for a in alerts:
        if a.is_loud:
            said.setdefault(a.incident_id, set()).update([a.feedback_action] if a.feedback_action else [])
    return {k: frozenset(v) for k, v in said.items()}


@dataclass(frozen=True)
class Result:
    alerts: tuple[Alert, ...]
    policies: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[Cell, ...]], ...]  # (week, severity, cells per policy)
    totals: tuple[Cell, ...]
    feedback: tuple[Feedback, ...]  # per policy: people's answers on the loud incidents it still posts

    @property
    def held(self) -> dict[str, int]:
        return dict(sorted(Counter(r for a in self.alerts if (r := hold_reason(a))).items()))


def run_backtest(alerts: Iterable[Alert], policies: Mapping[str, Callable[[Alert], bool]] = POLICIES) -> Result:
    """Counts per (ISO week, severity) and policy; an incident is counted under its most severe member."""
    alerts = list(alerts)
    ranked = sorted(alerts, key=lambda a: (severity_rank(a.severity), a.severity), reverse=True)
    worst = {a.incident_id: a.severity for a in ranked}  # the most severe comes last
    posted = [[a for a in alerts if posts(a)] for posts in policies.values()]
    keys = sorted({(iso_week(a.alert_date), a.severity) for a in alerts}, key=lambda k: (k[0], severity_rank(k[1])))
    rows = []
    for week, sev in keys:
        cells = []
        for side in posted:
            of_week = [a for a in side if iso_week(a.alert_date) == week]
            incidents = {a.incident_id for a in of_week if worst[a.incident_id] == sev}
            cells.append(Cell(sum(a.severity == sev for a in of_week), len(incidents)))
        rows.append((week, sev, tuple(cells)))
    said = incident_feedback(alerts)
    return Result(
        alerts=tuple(alerts),
        policies=tuple(policies),
        rows=tuple(rows),
        totals=tuple(Cell(len(side), len({a.incident_id for a in side})) for side in posted),
        feedback=tuple(
            Feedback(tuple(said[k] for k in sorted({a.incident_id for a in side} & said.keys()))) for side in posted
        ),
    )


def format_result(result: Result) -> str:
    """A plain-text table: one row per (week, severity); cells are posted alerts/incidents; then the feedback."""
    if not result.alerts:
        return "Backtest: no alerts in the window.\n"
    days = sorted(a.alert_date for a in result.alerts)
    domains = ", ".join(f"{d} {n}" for d, n in sorted(Counter(a.domain for a in result.alerts).items()))
    lines = [
        f"Backtest {days[0]} .. {days[-1]}: {len(days)} alert rows ({domains})",
        "Held by reason: " + (", ".join(f"{r} {n}" for r, n in result.held.items()) or "none"),
        "Cells: alerts/incidents that the policy would have posted.",
        "",
    ]
    width = max(12, *(len(p) + 2 for p in result.policies))
    header = f"{'week':<10}{'severity':<10}" + "".join(f"{p:>{width}}" for p in result.policies)
    lines += [header, "-" * len(header)]
    lines += [f"{w:<10}{s[:9]:<10}" + "".join(f"{c!s:>{width}}" for c in cells) for w, s, cells in result.rows]
    lines += ["-" * len(header), f"{'total':<20}" + "".join(f"{c!s:>{width}}" for c in result.totals), ""]
    lines.append("Feedback from Slack (fct_alerts.feedback_action), of the loud incidents each policy would post:")
    lines += [f"  {name:<{width}}{fb}" for name, fb in zip(result.policies, result.feedback, strict=True)]
    return "\n".join(lines) + "\n"


def read_window(backend: Backend, start: dt.date | None, end: dt.date | None) -> list[Alert]:
    """Every fct_alerts row with start <= alert_date <= end (open ends: all), held ones included."""
    return read_alert_history(backend, start or dt.date.min, end or dt.date.max)
