"""One alerting run: read -> plan -> format -> post -> record. Tries everything, reports failures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from alerting.delivery_log import Delivery, DeliveryLog
from alerting.formatting import Limits, all_clear_id, build_all_clear, build_messages
from alerting.model import Alert, Message
from alerting.planning import all_clear_channels, plan_digests
from alerting.release import released
from alerting.routing import Routing
from alerting.transport import PostResult
from alerting.warehouse import Backend, latest_alert_dates, read_alerts, read_drivers

log = logging.getLogger("alerting")


class Poster(Protocol):
    def post(self, message: Message) -> PostResult: ...


@dataclass(frozen=True)
class RunOptions:
    usage_date: dt.date
    cost_date: dt.date
    dry_run: bool = False
    all_clear: bool = False
    limits: Limits = field(default_factory=Limits)
    release_held: bool = False  # `release`: post only the day's alerts held for incomplete data


@dataclass
class RunReport:
    alerts_read: int = 0
    suppressed: int = 0
    already_delivered: int = 0
    messages_posted: int = 0
    alerts_delivered: int = 0
    messages_printed: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def render_dry_run(message: Message, index: int, count: int) -> str:
    """What --dry-run prints for one message: the fallback text and the Block Kit JSON."""
    bar = f"===== {message.channel} · message {index} of {count} · {len(message.alert_ids)} alert(s) ====="
    payload = json.dumps({"channel": message.channel, "blocks": message.blocks}, indent=2, ensure_ascii=False)
    return f"{bar}\n--- text ---\n{message.text}\n--- Block Kit JSON ---\n{payload}\n"


def _latest_hint(backend: Backend, options: RunOptions) -> str:
    """Where the latest postable alerts are, so an empty demo day still points somewhere."""
    usage_day, cost_day = latest_alert_dates(backend)
    parts = []
    if usage_day:
        parts.append(f"latest usage alerts: --date {usage_day.isoformat()}")
    if cost_day:
        offset = options.usage_date - options.cost_date  # D - cost day
        parts.append(f"latest cost alerts: --date {(cost_day + offset).isoformat()} (cost day {cost_day.isoformat()})")
    return ("Hint: " + "; ".join(parts) + "\n") if parts else "There are no postable alerts in fct_alerts at all.\n"


def _with_drivers(alerts: list[Alert], backend: Backend) -> list[Alert]:
    postable = [a.alert_id for a in alerts if not a.is_suppressed]
    drivers = read_drivers(backend, postable)
    return [dataclasses.replace(a, drivers=tuple(drivers.get(a.alert_id, ()))) for a in alerts]


def run(
    backend: Backend,
    routing: Routing,
    poster: Poster | None,
    options: RunOptions,
    out: TextIO,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None),
) -> RunReport:
    report = RunReport()
    alerts = read_alerts(backend, options.usage_date, options.cost_date)
    if options.release_held:
        alerts = released(alerts, options.usage_date)
    alerts = _with_drivers(alerts, backend)
    report.alerts_read = len(alerts)
    by_id = {a.alert_id: a for a in alerts}

    delivery_log: DeliveryLog | None = None
    delivered: set[tuple[str, str]] = set()
    post_all_clear = (options.all_clear or routing.post_all_clear) and not options.release_held
    if not options.dry_run:
        if poster is None:
            raise ValueError("a poster is required unless dry_run")
        delivery_log = DeliveryLog(backend)
        delivery_log.ensure()
        delivered = delivery_log.delivered([*by_id, all_clear_id(options.usage_date)])

    plan = plan_digests(alerts, routing, options.usage_date, options.cost_date, delivered)
    report.suppressed = len(plan.suppressed)
    report.already_delivered = plan.already_delivered
    messages = [m for digest in plan.digests for m in build_messages(digest, options.limits)]
    if post_all_clear:
        for channel, teams in all_clear_channels(routing, alerts).items():
            if (all_clear_id(options.usage_date), channel) not in delivered:
                messages.append(build_all_clear(channel, teams, options.usage_date, options.cost_date, options.limits))

    log.info(
        "usage day %s, cost day %s: %d alert(s) read, %d suppressed (never posted), %d already delivered,"
        " %d message(s) to send",
        options.usage_date,
        options.cost_date,
        report.alerts_read,
        report.suppressed,
        report.already_delivered,
        len(messages),
    )
    if options.dry_run:
        for i, message in enumerate(messages, start=1):
            out.write(render_dry_run(message, i, len(messages)))
            report.messages_printed += 1
        if not messages:
            out.write(f"No message to post for usage day {options.usage_date} / cost day {options.cost_date}.\n")
            out.write(_latest_hint(backend, options))
        return report

    assert poster is not None and delivery_log is not None
    run_id = uuid.uuid4().hex
    for message in messages:
        result = poster.post(message)
        if not result.ok:
            report.failures.append(f"{message.channel}: {result.error}")
            log.error(
                "delivery to %s failed (%d alert(s) will be retried next run): %s",
                message.channel,
                len(message.alert_ids),
                result.error,
            )
            continue
        report.messages_posted += 1
        stamp = now()
        deliveries = [
            Delivery(
                alert_id=alert_id,
                channel=message.channel,
                alert_date=by_id[alert_id].alert_date if alert_id in by_id else options.usage_date,
                team=by_id[alert_id].team if alert_id in by_id else None,
                severity=by_id[alert_id].severity if alert_id in by_id else None,
                slack_ts=result.ts,
                run_id=run_id,
                delivered_at=stamp,
            )
            for alert_id in message.alert_ids
        ]
        try:
            delivery_log.record(deliveries)
        except Exception as exc:  # reported; re-posted next run rather than lost
            report.failures.append(f"{message.channel}: posted but not recorded ({type(exc).__name__})")
            log.error(
                "posted to %s but could not record the delivery (%s: %s): the next run posts it again",
                message.channel,
                type(exc).__name__,
                exc,
            )
            continue
        report.alerts_delivered += sum(1 for a in message.alert_ids if a in by_id)
        log.info("posted %d alert(s) to %s (ts %s)", len(message.alert_ids), message.channel, result.ts)
    return report
