"""What the runner says for each delivery kind: lifecycle objects -> compose.py -> a renderer. `Composer`
(SlackComposer) renders Block Kit (render/slack.py), `MarkdownComposer` Markdown for an issue tracker
(render/markdown.py); a new platform overrides `_render` (plus a transport)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from alerting import compose
from alerting.lifecycle import Correction, IncidentPlan, Resolution, Withdrawal
from alerting.message import MessageBody
from alerting.model import Alert
from alerting.pipeline_health import Failure, StaleSource
from alerting.render import markdown
from alerting.render.slack import Limits, SlackMessage, render


class SlackComposer:
    def __init__(self, limits: Limits | None = None, report_url: str | None = None) -> None:
        self.limits = limits or Limits()
        self.report_url = report_url  # the day's HTML report, linked from each digest

    def _render(self, body: MessageBody) -> list[SlackMessage]:
        return render(body, self.limits)

    def _all(self, body: MessageBody | None) -> list[SlackMessage]:
        return self._render(body) if body else []

    def _one(self, body: MessageBody) -> SlackMessage:  # a reply too long for one message keeps its first part
        return self._render(body)[0]

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
        post = compose.Digest(channel, tuple(teams), usage_date, cost_date, tuple(alerts), tuple(held), self.report_url)
        return self._all(compose.digest(post))

    def repeat(self, channel: str, incidents: Sequence[tuple[IncidentPlan, Sequence[Alert]]]) -> list[SlackMessage]:
        return self._all(compose.repeats(incidents))

    def summary(
        self, channel: str, alerts: Sequence[Alert], usage_date: dt.date, cost_date: dt.date
    ) -> list[SlackMessage]:
        return self._all(compose.summary(alerts, usage_date, cost_date))

    def correction(self, correction: Correction, alert: Alert | None) -> SlackMessage:
        return self._one(compose.correction(correction, alert))

    def withdrawal(self, withdrawal: Withdrawal) -> SlackMessage:
        return self._one(compose.withdrawal(withdrawal))

    def resolved(self, resolution: Resolution) -> SlackMessage:
        return self._one(compose.resolved(resolution))

    def pipeline_health(
        self, run_date: dt.date, stale: Sequence[StaleSource], failures: Sequence[Failure]
    ) -> SlackMessage:
        return self._one(compose.pipeline_health(run_date, stale, failures))

    def all_clear(
        self, channel: str, teams: Sequence[str], usage_date: dt.date, cost_date: dt.date, usage_checked: bool = True
    ) -> SlackMessage:
        return self._one(compose.all_clear(teams, usage_date, cost_date, usage_checked))


class MarkdownComposer(SlackComposer):
    """The same messages as Markdown, one part each (an issue's description or comment has no length split):
    `.text` is the Markdown, `.blocks` empty."""

    def _render(self, body: MessageBody) -> list[SlackMessage]:
        return [SlackMessage(markdown.render(body), [], body.alert_ids)]


Composer = SlackComposer  # the interface the runner speaks; every platform's composer is a subclass
