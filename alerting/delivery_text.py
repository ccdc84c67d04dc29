"""Thin adapter: the words of each delivery kind, on top of the current formatting.py.

TEMPORARY until compose.py / render/ (helper H3) land: the lead replaces `TextComposer`
with one that calls compose.* -> render.slack. The runner only needs the `Composer`
protocol below: each method returns rendered messages (text fallback + Block Kit + the
alert ids a message carries). Every data string goes through mrkdwn.escape.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from alerting.formatting import (
    Limits,
    alert_section_text,
    build_all_clear,
    build_messages,
    display_metric,
    display_scope,
    format_value,
    format_z,
)
from alerting.lifecycle import Correction, IncidentPlan, Resolution, Withdrawal
from alerting.model import Alert, Digest
from alerting.mrkdwn import escape, truncate


@dataclass(frozen=True)
class Rendered:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    alert_ids: tuple[str, ...] = ()


class Composer(Protocol):
    def new_post(
        self, channel: str, teams: Sequence[str], alerts: Sequence[Alert], usage_date: dt.date, cost_date: dt.date
    ) -> list[Rendered]: ...

    def repeat(self, channel: str, incidents: Sequence[tuple[IncidentPlan, Sequence[Alert]]]) -> list[Rendered]: ...

    def correction(self, correction: Correction, alert: Alert | None) -> Rendered: ...

    def withdrawal(self, withdrawal: Withdrawal) -> Rendered: ...

    def resolved(self, resolution: Resolution) -> Rendered: ...

    def all_clear(self, channel: str, teams: Sequence[str], usage_date: dt.date, cost_date: dt.date) -> Rendered: ...


def _section(text: str, limits: Limits) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, limits.section_chars)}}


def _title(domain: str, scope: str, metric: str) -> str:
    return f"{escape(display_scope(scope))} – {escape(display_metric(metric))}" + (
        f" ({escape(domain)})" if domain not in ("usage", "gpu_cost") else ""
    )


def _state(severity: str | None, direction: str | None, z: float | None) -> str:
    parts = [escape((severity or "unknown").upper())]
    if direction:
        parts.append(escape(direction))
    text = " ".join(parts)
    return text + (f", z {format_z(z)}" if z is not None else "")


class TextComposer:
    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def new_post(
        self, channel: str, teams: Sequence[str], alerts: Sequence[Alert], usage_date: dt.date, cost_date: dt.date
    ) -> list[Rendered]:
        digest = Digest(channel, tuple(teams), usage_date, cost_date, tuple(alerts))
        return [Rendered(m.text, m.blocks, m.alert_ids) for m in build_messages(digest, self.limits)]

    def repeat(self, channel: str, incidents: Sequence[tuple[IncidentPlan, Sequence[Alert]]]) -> list[Rendered]:
        """One reply per thread; split over several replies only past Slack's block limit."""
        items: list[tuple[dict[str, Any], str | None]] = []  # (block, alert id it carries)
        for plan, alerts in incidents:
            p = plan.primary
            trend = " → ".join(f"{z:+.1f}" for _, z in plan.z_trend)
            streak = f"day {plan.streak_days} in a row" if plan.streak_days > 1 else "again"
            head = (
                f":repeat: *Still out of band: {_title(p.domain, p.scope, p.metric)}* · {streak}"
                f" · {p.alert_date.isoformat()}" + (f" · z trend {trend}" if trend else "")
            )
            items.append((_section(head, self.limits), None))
            for alert in alerts:
                items.append(
                    (_section(alert_section_text(alert, alert.alert_date, self.limits), self.limits), alert.alert_id)
                )
        out: list[Rendered] = []
        per = self.limits.blocks_per_message
        for start in range(0, len(items), per):
            chunk = items[start : start + per]
            text = truncate("\n".join(b["text"]["text"] for b, _ in chunk), self.limits.text_chars)
            out.append(Rendered(text, [b for b, _ in chunk], tuple(i for _, i in chunk if i)))
        return out

    def correction(self, correction: Correction, alert: Alert | None) -> Rendered:
        now, was = correction.alert, correction.was
        head = (
            f":pencil2: *Correction after late data: {_title(now.domain, now.scope, now.metric)}"
            f" ({now.alert_date.isoformat()})*\nnow {_state(now.severity, now.direction, now.z_score)};"
            f" was {_state(was.severity, was.direction, was.z_score)}"
        )
        if was.kind == "withdrawal":
            head = head.replace("Correction after late data", "Back after a rebuild")
        blocks = [_section(head, self.limits)]
        if alert is not None:
            blocks.append(_section(alert_section_text(alert, alert.alert_date, self.limits), self.limits))
        return Rendered(truncate(head, self.limits.text_chars), blocks, (now.alert_id,))

    def withdrawal(self, withdrawal: Withdrawal) -> Rendered:
        was = withdrawal.was
        domain, scope, metric = (was.series_key or "||").split("|")[:3]
        day = was.alert_date.isoformat() if was.alert_date else "n/a"
        if domain == "data_health" and withdrawal.reason == "gone":  # the data landed: good news, not a retraction
            text = f":white_check_mark: *Data complete now: {_title(domain, scope, metric)} ({day})*"
            text += " — the day's held alerts post normally."
            return Rendered(truncate(text, self.limits.text_chars), [_section(text, self.limits)], ())
        why = (
            "it is no longer an alert"
            if withdrawal.reason == "gone"
            else f"it is held now ({escape(withdrawal.reason)})"
        )
        text = (
            f":wastebasket: *Withdrawn after a rebuild: {_title(domain, scope, metric)}"
            f" ({was.alert_date.isoformat() if was.alert_date else 'n/a'})*\n"
            f"was {_state(was.severity, was.direction, was.z_score)}"
            f" ({format_value(was.current_value, None)}); {why}."
        )
        return Rendered(truncate(text, self.limits.text_chars), [_section(text, self.limits)], ())

    def resolved(self, resolution: Resolution) -> Rendered:
        lines = [
            f":white_check_mark: *Resolved: {_title(*r.series)}* — back inside its band for {r.quiet_days}"
            f" complete day(s) since {r.last_alert_date.isoformat()}"
            for r in resolution.series
        ]
        text = "\n".join(lines)
        return Rendered(truncate(text, self.limits.text_chars), [_section(text, self.limits)], ())

    def all_clear(self, channel: str, teams: Sequence[str], usage_date: dt.date, cost_date: dt.date) -> Rendered:
        m = build_all_clear(channel, teams, usage_date, cost_date, self.limits)
        return Rendered(m.text, m.blocks, ())
