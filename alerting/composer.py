"""What the runner says for each delivery kind: lifecycle actions -> compose.py -> render/slack.py.

`Composer` is the protocol the runner speaks (new_post / repeat / correction / withdrawal /
resolved / all_clear, each returning rendered messages with `.text`, `.blocks`,
`.alert_ids`); `SlackComposer` is the Slack implementation. A second platform is a second
renderer behind the same protocol (plus a transport). It reads the lifecycle objects by
attribute name (duck typing), so it does not depend on lifecycle.py's classes.

What the lifecycle objects offer (lifecycle.py / delivery_log.py):
* IncidentPlan: incident_id, streak_days, z_trend ((date, z), ...);
* Correction: alert (alert_id, incident_id, alert_date, scope, metric, severity, direction,
  z_score, current_value), was (severity, direction, z_score, kind);
* Withdrawal: was (alert_id, alert_date, series_key "domain|scope|metric|rule", severity,
  direction, z_score, current_value), reason ("gone" or a hold_reason);
* Resolution: series ((domain, scope, metric), last_alert_date, quiet_days), alert_date, incident_id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from alerting import compose, values
from alerting.compose import Continuing, Recovered
from alerting.message import MessageBody
from alerting.model import Alert, DeliveryState, Digest, group_incidents
from alerting.pipeline_health import Failure, StaleSource
from alerting.render import markdown
from alerting.render.slack import Limits, SlackMessage, render

WITHDRAWAL_REASONS = {
    "gone": "it is no longer in the rebuilt data",
    "incomplete_data": "it is held now: the day is not completely loaded",
    "insufficient_baseline": "it is held now: too few baseline points",
    "muted": "it is held now: the series is muted",
    "enterprise_weekend": "it is held now: enterprise weekend",
}


def state_of(obj: Any, scope: str | None = None, metric: str | None = None) -> DeliveryState:
    """A DeliveryState from anything with the same attribute names (an Alert, an Observation, a LogEntry)."""
    series = (getattr(obj, "series_key", None) or "").split("|")
    metric = metric or getattr(obj, "metric", None) or (series[2] if len(series) > 2 else None)
    return DeliveryState(
        alert_id=str(getattr(obj, "alert_id", "") or ""),
        severity=str(getattr(obj, "severity", None) or "unknown"),
        direction=getattr(obj, "direction", None),
        z_score=getattr(obj, "z_score", None),
        current_value=getattr(obj, "current_value", None),
        alert_date=getattr(obj, "alert_date", None),
        scope=scope or getattr(obj, "scope", None) or (series[1] if len(series) > 1 else None),
        metric=metric,
        unit=getattr(obj, "unit", None) or values.unit_for_metric(metric),
    )


class Composer(Protocol):
    def new_post(
        self,
        channel: str,
        teams: Sequence[str],
        alerts: Sequence[Alert],
        usage_date: dt.date,
        cost_date: dt.date,
        held: Sequence[Alert] = (),
    ) -> list[SlackMessage]: ...

    def repeat(self, channel: str, incidents: Sequence[tuple[Any, Sequence[Alert]]]) -> list[SlackMessage]: ...

    def summary(
        self, channel: str, alerts: Sequence[Alert], usage_date: dt.date, cost_date: dt.date
    ) -> list[SlackMessage]: ...

    def correction(self, correction: Any, alert: Alert | None) -> SlackMessage: ...

    def withdrawal(self, withdrawal: Any) -> SlackMessage: ...

    def resolved(self, resolution: Any) -> SlackMessage: ...

    def all_clear(
        self, channel: str, teams: Sequence[str], usage_date: dt.date, cost_date: dt.date, usage_checked: bool = True
    ) -> SlackMessage: ...


class SlackComposer:
    def __init__(self, limits: Limits | None = None, report_url: str | None = None) -> None:
        self.limits = limits or Limits()
        self.report_url = report_url  # the day's HTML report, linked from each digest

    def _render(self, body: MessageBody) -> list[SlackMessage]:
        return render(body, self.limits)

    def _one(self, body: Any) -> SlackMessage:
        messages = self._render(body)
        if len(messages) == 1:
            return messages[0]
        # a thread reply that needs parts: keep the first part's blocks, every part's ids
        first = messages[0]
        ids = tuple(a for m in messages for a in m.alert_ids)
        return SlackMessage(first.text, first.blocks, ids, first.incident_ids)

    def new_post(
        self,
        channel: str,
        teams: Sequence[str],
        alerts: Sequence[Alert],
        usage_date: dt.date,
        cost_date: dt.date,
        held: Sequence[Alert] = (),
    ) -> list[SlackMessage]:
        """A channel's digest; `held`: the held alerts it counts (and its data-health sections say wait)."""
        digest = Digest(channel, tuple(teams), usage_date, cost_date, tuple(alerts), tuple(held), self.report_url)
        body = compose.compose_digest(digest)
        return self._render(body) if body else []

    def repeat(self, channel: str, incidents: Sequence[tuple[Any, Sequence[Alert]]]) -> list[SlackMessage]:
        items = []
        for plan, alerts in incidents:
            for incident in group_incidents(alerts):
                trend = tuple(z for _, z in getattr(plan, "z_trend", ()))
                items.append(Continuing(incident, int(getattr(plan, "streak_days", 1) or 1), trend))
        return self._render(compose.compose_repeats(items)) if items else []

    def summary(
        self, channel: str, alerts: Sequence[Alert], usage_date: dt.date, cost_date: dt.date
    ) -> list[SlackMessage]:
        body = compose.compose_summary(alerts, usage_date, cost_date)
        return self._render(body) if body else []

    def correction(self, correction: Any, alert: Alert | None) -> SlackMessage:
        now = state_of(correction.alert)
        was = state_of(correction.was)
        reappeared = getattr(correction.was, "kind", None) == "withdrawal"
        return self._one(compose.compose_correction(now, was, reappeared=reappeared, full=alert))

    def withdrawal(self, withdrawal: Any) -> SlackMessage:
        reason = str(getattr(withdrawal, "reason", "gone") or "gone")
        if reason == "gone" and str(getattr(withdrawal.was, "series_key", "")).startswith("data_health|"):
            note = self._one(compose.compose_data_complete(state_of(withdrawal.was)))
            return SlackMessage(note.text, note.blocks, (), note.incident_ids)
        why = WITHDRAWAL_REASONS.get(reason, f"it is held now ({reason})")
        message = self._one(compose.compose_withdrawal(state_of(withdrawal.was), why))
        return SlackMessage(message.text, message.blocks, (), message.incident_ids)

    def resolved(self, resolution: Any) -> SlackMessage:
        items = [
            Recovered(
                scope=s.series[1],
                metric=s.series[2],
                last_alert_date=s.last_alert_date,
                quiet_days=s.quiet_days,
            )
            for s in resolution.series
        ]
        body = compose.compose_resolved_series(items, resolution.alert_date, getattr(resolution, "incident_id", None))
        return self._one(body)

    def pipeline_health(
        self, run_date: dt.date, stale: Sequence[StaleSource], failures: Sequence[Failure]
    ) -> SlackMessage:
        return self._one(compose.compose_pipeline_health(run_date, stale, failures))

    def all_clear(
        self, channel: str, teams: Sequence[str], usage_date: dt.date, cost_date: dt.date, usage_checked: bool = True
    ) -> SlackMessage:
        message = self._one(compose.compose_all_clear(teams, usage_date, cost_date, usage_checked))
        return SlackMessage(message.text, message.blocks, (), ())


class MarkdownComposer(SlackComposer):
    """The same messages rendered as Markdown (render/markdown.py), one part each: an issue tracker's
    description or comment has no Block Kit and no length split. `.text` is the Markdown, `.blocks` empty."""

    def _render(self, body: MessageBody) -> list[SlackMessage]:
        return [SlackMessage(markdown.render(body), [], body.alert_ids, body.incident_ids)]
