"""Platform-neutral alert model: what the warehouse says, before any Slack formatting."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

SEVERITY_ORDER: tuple[str, ...] = ("critical", "warning", "notice")


@dataclass(frozen=True)
class Driver:
    """One contributor to a usage alert (a row of fct_usage_alert_drivers)."""

    contributor_type: str
    contributor: str
    value: float | None
    baseline_mean: float | None
    delta: float | None
    share_of_delta: float | None
    rank: int


@dataclass(frozen=True)
class Alert:
    """One row of fct_alerts (plus its drivers when the drivers mart has them)."""

    alert_id: str
    alert_date: dt.date
    domain: str
    team: str | None
    scope: str
    metric: str
    unit: str | None
    current_value: float | None
    baseline_mean: float | None
    baseline_stddev: float | None
    z_score: float | None
    pct_change: float | None
    threshold: float | None
    severity: str
    direction: str | None
    is_suppressed: bool
    suppression_reason: str | None
    rule: str | None
    drivers_summary: str | None
    recommended_action: str | None
    drivers: tuple[Driver, ...] = ()

    @property
    def severity_key(self) -> str:
        """Lower-cased severity; anything unknown is kept (and shown) as is."""
        return (self.severity or "unknown").strip().lower()


def severity_rank(severity: str) -> int:
    """Sort key: critical first, unknown severities after notice (shown, never dropped)."""
    key = severity.strip().lower()
    return SEVERITY_ORDER.index(key) if key in SEVERITY_ORDER else len(SEVERITY_ORDER)


@dataclass(frozen=True)
class Digest:
    """All alerts of one run that go to one Slack channel."""

    channel: str
    teams: tuple[str, ...]
    usage_date: dt.date
    cost_date: dt.date
    alerts: tuple[Alert, ...]


@dataclass(frozen=True)
class Message:
    """One Slack message: Block Kit blocks, the plain-text fallback and the alerts it carries."""

    channel: str
    text: str
    blocks: list[dict[str, object]] = field(default_factory=list)
    alert_ids: tuple[str, ...] = ()
