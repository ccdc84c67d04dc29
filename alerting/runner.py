"""One alerting run: read -> lifecycle plan -> compose -> claim -> post -> record.

The warehouse is held only for the short read at the start and for each claim / log write;
never across a Slack call (a `dbt build` can run while we wait on Slack). Everything is
tried; failures are reported (and retried by the next run), never raised past the caller.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import tomllib
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from alerting import issues as issue_delivery
from alerting.causes import attach_causes
from alerting.composer import Composer, SlackComposer
from alerting.delivery_log import DeliveryLog, LogEntry, all_clear_key
from alerting.lifecycle import (
    HEALTH_DOMAIN,
    ChartUpload,
    IncidentPlan,
    LifecycleConfig,
    Observation,
    Plan,
    Thread,
    config_from_mapping,
    log_fields,
    observation_from_row,
    plan,
    run_day,
    streak_days,
)
from alerting.model import Alert, group_incidents
from alerting.pipeline_health import PIPELINE_TEAM, Failure, cause_key, stale_sources
from alerting.render.slack import Limits
from alerting.render.slack import SlackMessage as Rendered
from alerting.routing import CONFIG_ENV, DEFAULT_CONFIG, Routing, RoutingError
from alerting.transport import IssueTransport, PostResult, StdoutTransport, Transport
from alerting.transport.linear import LinearPrinter
from alerting.warehouse import (
    Backend,
    build_mismatch,
    latest_alert_dates,
    read_alert_history,
    read_alert_rows,
    read_data_health,
    read_drivers,
    row_to_alert,
)

log = logging.getLogger("alerting")

USAGE_SOURCE = "usage"
COST_SOURCE = "gpu_costs"
EXIT_OK, EXIT_DELIVERY_FAILED, EXIT_DATA_NOT_READY = 0, 1, 3  # 2: usage/config (cli), 4: WarehouseBusy.exit_code


@dataclass(frozen=True)
class RunOptions:
    usage_date: dt.date
    cost_date: dt.date
    dry_run: bool = False
    all_clear: bool = False
    limits: Limits = field(default_factory=Limits)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    release: bool = False  # `alerting release --date D`: the day's incomplete_data holds are postable
    claim_ttl_s: int = 900
    report_url: str | None = None  # the day's HTML report (LTX_REPORT_BASE_URL), linked from digests


@dataclass(frozen=True)
class IncidentView:
    """What a chart function gets: the incident's alerts of the day (PLAN.md model.Incident shape)."""

    incident_id: str
    alert_date: dt.date
    primary: Alert
    members: tuple[Alert, ...]
    severity: str
    teams: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.incident_id


ChartFor = Callable[[IncidentView], "tuple[str, bytes] | None"]


@dataclass
class RunReport:
    alerts_read: int = 0
    suppressed: int = 0  # held: not postable (any hold_reason)
    held_by_reason: dict[str, int] = field(default_factory=dict)
    already_delivered: int = 0
    messages_posted: int = 0
    top_level_posts: int = 0
    replies: int = 0  # repeats in threads
    broadcasts: int = 0  # of those, replies also shown in the channel (news in an open thread)
    summaries: int = 0  # `Summary:` messages of quiet-only alerts
    quiet: int = 0  # postable alerts not posted: quiet-only, no thread, no summary (fct_alerts / report)
    corrections: int = 0
    withdrawals: int = 0
    resolved: int = 0
    charts_uploaded: int = 0
    all_clears: int = 0
    alerts_delivered: int = 0
    messages_printed: int = 0
    skipped_claimed: int = 0  # another run holds the claim: it posts them
    half_built: str | None = None  # fct_alerts and fct_data_health of different builds (why): nothing posted
    usage_data_status: str | None = None  # fct_data_health status of the usage day; None: no such mart
    cost_data_status: str | None = None  # the same for the gpu_costs source on the cost day (informational)
    release: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        """DESIGN.md §3.4: 1 a delivery failed (wins), 3 the usage day is not ready, else 0."""
        if self.failures:
            return EXIT_DELIVERY_FAILED
        return EXIT_OK if self.data_ready else EXIT_DATA_NOT_READY

    @property
    def data_ready(self) -> bool:
        """False: a half-built warehouse, or the usage day is missing or incomplete (the CLI exits 3; a release
        posts a confirmed day whatever its status)."""
        if self.half_built:
            return False
        return self.release or self.usage_data_status in (None, "complete")


def load_lifecycle_config(
    path: Path | None = None, env: Mapping[str, str] | None = None, **overrides: int | None
) -> LifecycleConfig:
    """The `[lifecycle]` table of the channels file (routing's file), then CLI overrides (None: keep)."""
    env = os.environ if env is None else env
    path = path or Path(env.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RoutingError(f"cannot read the lifecycle settings in {path}: {exc}") from None
    section = config.get("lifecycle", {})
    if not isinstance(section, Mapping):
        raise RoutingError("[lifecycle] must be a table")
    try:
        return config_from_mapping(section, **overrides)
    except (TypeError, ValueError) as exc:
        raise RoutingError(f"{path}: {exc}") from None


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


def _channel(destination: str) -> str:
    return destination.split(":", 1)[1]


def _only(p: Plan, keep: Callable[[str], bool]) -> Plan:
    """The plan's actions whose destination `keep` accepts (one transport's share)."""
    return dataclasses.replace(
        p,
        new_posts=[x for x in p.new_posts if keep(x.destination)],
        summaries=[x for x in p.summaries if keep(x.destination)],
        repeats=[x for x in p.repeats if keep(x.thread.destination)],
        corrections=[x for x in p.corrections if keep(x.thread.destination)],
        withdrawals=[x for x in p.withdrawals if keep(x.thread.destination)],
        resolutions=[x for x in p.resolutions if keep(x.thread.destination)],
        charts=[x for x in p.charts if keep(x.thread.destination)],
    )


def _issue_transport(
    routing: Routing, linear: IssueTransport | None, dry_run: bool, out: TextIO
) -> IssueTransport | None:
    """Linear's transport when routing sends incidents there (the printer in a dry run), else None."""
    if not routing.uses_linear:
        return None
    if dry_run:
        return LinearPrinter(out)
    if linear is None:
        raise ValueError("routing sends incidents to Linear ([linear], LTX_LINEAR_TEAM_*): it needs a Linear transport")
    return linear


class _Run:
    def __init__(
        self,
        backend: Backend,
        routing: Routing,
        transport: Transport,
        options: RunOptions,
        report: RunReport,
        delivery_log: DeliveryLog,
        run_id: str,
        now: Callable[[], dt.datetime],
        issues: IssueTransport | None = None,
    ) -> None:
        self.backend, self.routing, self.transport = backend, routing, transport
        self.options, self.report, self.log, self.run_id, self.now = options, report, delivery_log, run_id, now
        self.issues = issues  # the per-incident destination (Linear), when routing uses one
        self.recorded: list[LogEntry] = []  # this run's log rows (the Linear issue links the Slack post)

    def destination(self, team: str | None) -> str:
        return f"{self.transport.name}:{self.routing.channel_for(team)}"

    def destinations(self, o: Observation, history: Sequence[Observation]) -> list[str]:
        """The team's Slack channel; also its Linear team where it has one and the headline matches the route."""
        linear = self.routing.linear_destination(o.team, o.severity, lambda: streak_days(o, history))
        return [self.destination(o.team), *([linear] if linear and self.issues else [])]

    def is_issue(self, dest: str) -> bool:
        return self.issues is not None and dest.startswith(f"{self.issues.name}:")

    def entry(self, dest: str, kind: str, key: str, result: PostResult, thread_ts: str | None, **kw: Any) -> LogEntry:
        base: dict[str, Any] = dict.fromkeys(
            ("alert_id", "incident_id", "alert_date", "series_key", "severity", "direction", "z_score",
             "current_value", "team"),
        )  # fmt: skip
        base.update(kw)
        return LogEntry(
            delivery_key=key,
            destination=dest,
            kind=kind,
            channel_id=result.channel_id or None,
            message_ts=result.ts,
            thread_ts=thread_ts or result.ts,
            run_id=self.run_id,
            delivered_at=self.now(),
            **base,
        )

    def deliver(
        self,
        dest: str,
        rendered: Rendered,
        thread: Thread | None,
        keys: Sequence[str],
        entries: Callable[[PostResult], list[LogEntry]],
        what: str,
        broadcast: bool = False,
    ) -> PostResult | None:
        """claim -> post (nothing held) -> record. None when skipped or failed (reported)."""
        channel = (thread.channel_id if thread and thread.channel_id else None) or _channel(dest)

        def post() -> PostResult:
            root = thread.root_ts if thread else None
            return self.transport.post(channel, rendered.text, rendered.blocks, root, broadcast=broadcast)

        return self.send(dest, keys, post, entries, what)

    def send(
        self,
        dest: str,
        keys: Sequence[str],
        send: Callable[[], PostResult],
        entries: Callable[[PostResult], list[LogEntry]],
        what: str,
    ) -> PostResult | None:
        """claim -> send() (nothing held) -> record, for any transport. None when skipped or failed (reported)."""
        dry = self.options.dry_run
        if not dry:
            with self.backend.session():  # one short hold of the file for claim + re-check
                if not self.log.claim(dest, keys, self.run_id):
                    self.report.skipped_claimed += 1
                    log.warning("%s to %s: claimed by another run that is posting it; skipped", what, dest)
                    return None
                if self.log.delivered_keys(dest, keys):  # a run that finished meanwhile delivered it
                    self.log.release(dest, keys, self.run_id)
                    self.report.already_delivered += 1
                    return None
        result = send()
        if not result.ok:
            self.report.failures.append(f"{_channel(dest)}: {what}: {result.error}")
            log.error("%s to %s failed (retried next run): %s", what, dest, result.error)
            if not dry:
                try:
                    self.log.release(dest, keys, self.run_id)
                except Exception as exc:  # the claim expires by itself
                    log.warning("could not release the claim (%s); it expires by itself", type(exc).__name__)
            return None
        self.report.messages_posted += 1
        if dry:
            self.report.messages_printed += 1
            return result
        try:
            rows = entries(result)
            self.log.record(rows)
            self.recorded += rows
        except Exception as exc:  # reported; re-posted next run rather than lost
            self.report.failures.append(f"{_channel(dest)}: {what}: posted but not recorded ({type(exc).__name__})")
            log.error(
                "posted %s to %s but could not record it (%s: %s): the next run posts it again",
                what,
                dest,
                type(exc).__name__,
                exc,
            )
            return None
        log.info("posted %s to %s (ts %s)", what, dest, result.ts)
        return result


def run(
    backend: Backend,
    routing: Routing,
    poster: Transport | None,
    options: RunOptions,
    out: TextIO,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None),
    *,
    composer: Composer | None = None,
    chart_for: ChartFor | None = None,
    run_id: str | None = None,
    linear: IssueTransport | None = None,
) -> RunReport:
    """One run; `linear`: the Linear transport, required when routing sends incidents to Linear."""
    report = RunReport(release=options.release)
    config = dataclasses.replace(options.lifecycle, release=options.release)
    if options.dry_run:
        transport: Transport = StdoutTransport(out)
    elif poster is None:
        raise ValueError("a transport is required unless dry_run")
    else:
        transport = poster
    issues = _issue_transport(routing, linear, options.dry_run, out)
    usage_date, cost_date = options.usage_date, options.cost_date
    since = min(usage_date, cost_date) - dt.timedelta(days=config.lookback_days)
    until = max(usage_date, cost_date)
    delivery_log = DeliveryLog(backend, options.claim_ttl_s)

    # --- read everything in one short session ---------------------------------------------
    with backend.session():
        report.half_built = build_mismatch(backend)
        if report.half_built:  # new health beside old alerts: say nothing rather than something stale
            log.error("not posting: %s", report.half_built)
            return report
        if not options.dry_run:
            delivery_log.ensure()
        rows = read_alert_rows(backend, usage_date, cost_date)
        today = [observation_from_row(r) for r in rows]
        postable_ids = [o.alert_id for o in today if o.postable(config)]
        drivers = read_drivers(backend, postable_ids)
        history = [observation_from_row(r) for r in read_alert_history(backend, since, until)]
        data_health = read_data_health(backend, since, until)
        entries = delivery_log.entries(since)
        with_drivers = [
            dataclasses.replace(a, drivers=tuple(drivers.get(a.alert_id, ()))) for a in map(row_to_alert, rows)
        ]
        # cost alerts: the decomposition of the change (fct_gpu_cost_decomposition) and their drivers
        alerts = {a.alert_id: a for a in attach_causes(backend, with_drivers)}
    report.alerts_read = len(today)
    if data_health is not None:
        report.usage_data_status = data_health.get((usage_date, USAGE_SOURCE), "missing")
        report.cost_data_status = data_health.get((cost_date, COST_SOURCE), "missing")

    r = _Run(backend, routing, transport, options, report, delivery_log, run_id or uuid.uuid4().hex, now, issues)
    every_row = [*history, *today]  # a series' streak (the Linear route) counts held rows too
    the_plan = plan(
        today=today,
        history=history,
        log=entries,
        destinations=lambda o: r.destinations(o, every_row),
        usage_date=usage_date,
        cost_date=cost_date,
        config=config,
        data_health=data_health,
    )
    report.suppressed = len(the_plan.held)
    for o in the_plan.held:
        reason = o.hold_reason or "held"
        report.held_by_reason[reason] = report.held_by_reason.get(reason, 0) + 1
    report.already_delivered = the_plan.already_delivered
    if composer is None:
        composer = SlackComposer(options.limits, report_url=options.report_url)
    log.info(
        "usage day %s (data %s), cost day %s: %d alert(s) read, %d held, %d already delivered;"
        " %d new digest(s), %d thread repeat(s), %d correction(s), %d withdrawal(s), %d resolved",
        usage_date,
        report.usage_data_status or "status unknown",
        cost_date,
        report.alerts_read,
        report.suppressed,
        report.already_delivered,
        len(the_plan.new_posts),
        len(the_plan.repeats),
        len(the_plan.corrections),
        len(the_plan.withdrawals),
        len(the_plan.resolutions),
    )
    by_obs = {o.alert_id: o for o in today}
    issue_plan, the_plan = _only(the_plan, r.is_issue), _only(the_plan, lambda d: not r.is_issue(d))
    charts: list[ChartUpload] = list(the_plan.charts)

    # --- new top-level digests -------------------------------------------------------------
    for post in the_plan.new_posts:
        members = [o for inc in post.incidents for o in inc.alerts]
        # the header names the teams of the incidents' headlines (what routed them here)
        teams = sorted({(inc.primary.team or "unassigned").strip() or "unassigned" for inc in post.incidents})
        # the held rows it counts (and the data-health notice's "N held until the day is complete")
        held = [alerts[o.alert_id] for o in post.held if o.alert_id in alerts]
        messages = composer.new_post(
            _channel(post.destination), teams, [alerts[o.alert_id] for o in members], usage_date, cost_date, held
        )
        incident_thread: dict[str, Thread] = {}
        for message in messages:
            ids = list(message.alert_ids)

            def post_entries(res: PostResult, ids: list[str] = ids, dest: str = post.destination) -> list[LogEntry]:
                return [
                    r.entry(dest, "data_health" if by_obs[i].domain == HEALTH_DOMAIN else "post", i, res, None,
                            **log_fields(by_obs[i]))
                    for i in ids
                ]  # fmt: skip

            result = r.deliver(post.destination, message, None, ids, post_entries, f"digest of {len(ids)} alert(s)")
            if result is None:
                continue
            report.top_level_posts += 1
            report.alerts_delivered += len(ids)
            for i in ids:
                thread = Thread(post.destination, str(result.ts), result.channel_id or None)
                incident_thread.setdefault(by_obs[i].incident_id, thread)
        for inc in post.incidents:
            if inc.incident_id in incident_thread and incident_thread[inc.incident_id].channel_id:
                charts.append(ChartUpload(incident_thread[inc.incident_id], inc.incident_id, inc.primary.alert_date))

    # --- repeats: replies in open threads ----------------------------------------------------
    for repeat in the_plan.repeats:
        dest = repeat.thread.destination
        pairs: list[tuple[IncidentPlan, Sequence[Alert]]] = [
            (inc, [alerts[o.alert_id] for o in inc.alerts]) for inc in repeat.incidents
        ]
        kind = "broadcast" if repeat.broadcast else "repeat"
        for message in composer.repeat(_channel(dest), pairs):
            ids = list(message.alert_ids)

            def repeat_entries(
                res: PostResult, ids: list[str] = ids, t: Thread = repeat.thread, kind: str = kind
            ) -> list[LogEntry]:
                return [r.entry(t.destination, kind, i, res, t.root_ts, **log_fields(by_obs[i])) for i in ids]

            what = f"{kind} of {len(ids)} alert(s)"
            if r.deliver(dest, message, repeat.thread, ids, repeat_entries, what, broadcast=repeat.broadcast):
                report.replies += 1
                report.broadcasts += int(repeat.broadcast)
                report.alerts_delivered += len(ids)

    # --- summaries: the quiet-only incidents of the day, one message per channel ------------------
    for summary in the_plan.summaries:
        quiet_alerts = [alerts[o.alert_id] for inc in summary.incidents for o in inc.alerts]
        for message in composer.summary(_channel(summary.destination), quiet_alerts, usage_date, cost_date):
            ids = list(message.alert_ids)

            def summary_entries(
                res: PostResult, ids: list[str] = ids, dest: str = summary.destination
            ) -> list[LogEntry]:
                return [r.entry(dest, "summary", i, res, None, **log_fields(by_obs[i])) for i in ids]

            if r.deliver(summary.destination, message, None, ids, summary_entries, f"summary of {len(ids)} alert(s)"):
                report.summaries += 1
                report.alerts_delivered += len(ids)
    report.quiet = sum(len(inc.alerts) for inc in the_plan.quiet)

    # --- corrections and withdrawals ---------------------------------------------------------
    for c in the_plan.corrections:
        message = composer.correction(c, alerts.get(c.alert.alert_id))

        def correction_entries(res: PostResult, c: Any = c) -> list[LogEntry]:
            return [r.entry(c.thread.destination, "correction", c.key, res, c.thread.root_ts, **log_fields(c.alert))]

        if r.deliver(c.thread.destination, message, c.thread, [c.key], correction_entries, "correction"):
            report.corrections += 1
    for w in the_plan.withdrawals:
        message = composer.withdrawal(w)
        was = w.was

        def withdrawal_entries(res: PostResult, w: Any = w, was: LogEntry = was) -> list[LogEntry]:
            return [
                r.entry(w.thread.destination, "withdrawal", w.key, res, w.thread.root_ts, alert_id=was.alert_id,
                        incident_id=was.incident_id, alert_date=was.alert_date, series_key=was.series_key,
                        team=was.team)
            ]  # fmt: skip

        if r.deliver(w.thread.destination, message, w.thread, [w.key], withdrawal_entries, "withdrawal"):
            report.withdrawals += 1

    # --- resolved ------------------------------------------------------------------------------
    for res_plan in the_plan.resolutions:
        message = composer.resolved(res_plan)

        def resolved_entries(res: PostResult, rp: Any = res_plan) -> list[LogEntry]:
            return [
                r.entry(rp.thread.destination, "resolved", key, res, rp.thread.root_ts, incident_id=rp.incident_id,
                        alert_date=run_day(s.series[0], s.series[1], usage_date, cost_date),
                        series_key="|".join((*s.series, "")))
                for key, s in zip(rp.keys, rp.series, strict=True)
            ]  # fmt: skip

        if r.deliver(
            res_plan.thread.destination, message, res_plan.thread, res_plan.keys, resolved_entries, "resolved"
        ):
            report.resolved += 1

    # --- Linear: after Slack, so an issue links the incident's Slack message -------------------------
    if issues is not None:
        issue_delivery.deliver(r, issue_plan, issue_delivery.IssueContext(alerts, by_obs, entries, config))

    # --- charts (never block the text: after it, failures retried next run) ----------------------
    if chart_for is not None and transport.capabilities.file_uploads:
        _upload_charts(r, charts, alerts, by_obs, chart_for)

    # --- all clear (never for a usage day whose data is not ready) -------------------------------
    if options.all_clear or routing.post_all_clear:
        if not report.data_ready:
            log.warning("usage day %s is %s: no all-clear", usage_date, report.usage_data_status)
        else:
            _all_clear(r, composer, today, entries, config)

    if options.dry_run and report.messages_printed == 0:
        out.write(f"No message to post for usage day {usage_date} / cost day {cost_date}.\n")
        with backend.session():
            out.write(_latest_hint(backend, options))
    return report


def _all_clear(
    r: _Run, composer: Composer, today: Sequence[Observation], entries: Sequence[LogEntry], config: LifecycleConfig
) -> None:
    o = r.options
    busy = {r.destination(x.team) for x in today if x.postable(config)}
    logged = {(e.destination, e.delivery_key) for e in entries}
    quiet: dict[str, list[str]] = defaultdict(list)
    for team in r.routing.known_teams():
        dest = r.destination(team)
        if dest not in busy:
            quiet[dest].append(team)
    key = all_clear_key(o.usage_date)
    for dest, teams in sorted(quiet.items()):
        if (dest, key) in logged:
            continue
        message = composer.all_clear(_channel(dest), sorted(teams), o.usage_date, o.cost_date)

        def ac_entries(res: PostResult, dest: str = dest) -> list[LogEntry]:
            return [r.entry(dest, "all_clear", key, res, None, alert_date=o.usage_date)]

        if r.deliver(dest, message, None, [key], ac_entries, "all-clear"):
            r.report.all_clears += 1


def _upload_charts(
    r: _Run,
    charts: Sequence[ChartUpload],
    alerts: dict[str, Alert],
    by_obs: dict[str, Observation],
    chart_for: ChartFor,
) -> None:
    members: dict[str, list[Alert]] = defaultdict(list)
    for alert_id, o in by_obs.items():
        members[o.incident_id].append(alerts[alert_id])
    seen: set[tuple[str, str]] = set()
    for c in charts:
        dest = c.thread.destination
        if (dest, c.key) in seen or not members.get(c.incident_id) or not c.thread.channel_id:
            continue
        seen.add((dest, c.key))
        group = sorted(members[c.incident_id], key=lambda a: a.alert_id)
        primary = group_incidents(group)[0].primary
        view = IncidentView(
            c.incident_id,
            c.alert_date,
            primary,
            tuple(group),
            primary.severity,
            tuple(sorted({a.team or "unassigned" for a in group})),
        )
        try:
            chart = chart_for(view)
        except Exception as exc:  # a chart bug never blocks delivery
            r.report.failures.append(f"{_channel(dest)}: chart {c.incident_id}: {type(exc).__name__}")
            log.error("chart for incident %s failed (%s: %s)", c.incident_id, type(exc).__name__, exc)
            continue
        if chart is None:
            continue
        filename, content = chart
        dry = r.options.dry_run
        if not dry and not r.log.claim(dest, [c.key], r.run_id):
            r.report.skipped_claimed += 1
            continue
        result = r.transport.upload_file(c.thread.channel_id, c.thread.root_ts, filename, content, filename)
        if not result.ok:
            r.report.failures.append(f"{_channel(dest)}: chart {c.incident_id}: {result.error}")
            log.error("chart upload to %s failed (the alert text is posted; retried next run): %s", dest, result.error)
            if not dry:
                r.log.release(dest, [c.key], r.run_id)
            continue
        r.report.charts_uploaded += 1
        if dry:
            continue
        fake = PostResult(ok=True, ts=result.file_id, channel_id=c.thread.channel_id)
        try:
            r.log.record(
                [r.entry(dest, "chart", c.key, fake, c.thread.root_ts, incident_id=c.incident_id,
                         alert_date=c.alert_date)]
            )  # fmt: skip
        except Exception as exc:  # uploaded but not logged: the next run uploads it again (never lost)
            r.report.failures.append(f"{_channel(dest)}: chart {c.incident_id}: uploaded but not recorded")
            log.error("chart uploaded to %s but not recorded (%s): the next run uploads it again", dest, exc)


def post_pipeline_health(
    backend: Backend,
    routing: Routing,
    poster: Transport | None,
    run_date: dt.date,
    failures: Sequence[Failure],
    out: TextIO,
    dry_run: bool = False,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None),
) -> RunReport:
    """One pipeline-health message to the data team's channel, once per run date and cause."""
    report = RunReport()
    transport: Transport = StdoutTransport(out) if dry_run or poster is None else poster
    delivery_log = DeliveryLog(backend)
    with backend.session():
        if not dry_run:
            delivery_log.ensure()
        stale = stale_sources(backend, failures)
    r = _Run(backend, routing, transport, RunOptions(run_date, run_date, dry_run=dry_run), report, delivery_log,
             uuid.uuid4().hex, now)  # fmt: skip
    dest, key = r.destination(PIPELINE_TEAM), cause_key(run_date, failures)
    if not dry_run and delivery_log.delivered_keys(dest, [key]):
        report.already_delivered += 1
        return report
    message = SlackComposer().pipeline_health(run_date, stale, failures)

    def entries(res: PostResult) -> list[LogEntry]:
        return [r.entry(dest, "pipeline_health", key, res, None, alert_date=run_date, team=PIPELINE_TEAM)]

    if r.deliver(dest, message, None, [key], entries, "pipeline health"):
        report.top_level_posts += 1
    return report
