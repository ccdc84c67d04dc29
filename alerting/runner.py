"""One alerting run: read -> lifecycle plan -> compose -> claim -> send -> record. The warehouse is held only
for the short read and each claim / log write, never across a platform call; failures are reported (and retried
by the next run), never raised."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from alerting import compose, lifecycle, warehouse
from alerting.causes import attach_causes
from alerting.delivery_log import ALERT_KINDS, DeliveryLog, LogEntry
from alerting.lifecycle import (
    LOG_FIELDS,
    ChartUpload,
    IncidentPlan,
    LifecycleConfig,
    Plan,
    Reply,
    Rows,
    Thread,
    Withdrawal,
    log_fields,
)
from alerting.message import MessageBody
from alerting.model import Alert, Incident, group_incidents
from alerting.pipeline_health import PIPELINE_TEAM, Failure, cause_key, stale_sources
from alerting.render import markdown
from alerting.render.slack import Limits, marked, render
from alerting.render.slack import SlackMessage as Rendered
from alerting.routing import Route, Routing
from alerting.transport.base import Capabilities, IssueTransport, PostResult, Transport
from alerting.transport.linear import LinearPrinter, LinearTransport
from alerting.transport.stdout import StdoutTransport
from alerting.warehouse import HEALTH_DOMAIN, Backend

log = logging.getLogger("alerting")

EXIT_OK, EXIT_DELIVERY_FAILED, EXIT_DATA_NOT_READY = 0, 1, 3  # 2: usage/config (cli), 4: WarehouseBusy.exit_code


def _new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class RunOptions:
    usage_date: dt.date
    cost_date: dt.date
    dry_run: bool = False
    all_clear: bool = False
    limits: Limits = field(default_factory=Limits)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    release: bool = False  # `alerting release --date D`: the day's incomplete_data holds are postable and loud
    claim_ttl_s: int = 900
    report_url: str | None = None  # the day's HTML report (LTX_REPORT_BASE_URL), linked from digests
    late: bool = False  # catching up an earlier day a failed run left: its messages say so; no all-clear


ChartFor = Callable[[Incident], "tuple[str, bytes] | None"]  # report.chart_for: the headline's chart
Health = dict[tuple[dt.date, str], str] | None  # fct_data_health: (day, source) -> status; None: no such mart


@dataclass
class RunReport:
    suppressed: int = 0  # held: not postable (any hold_reason)
    held_by_reason: dict[str, int] = field(default_factory=dict)
    already_delivered: int = 0
    messages_posted: int = 0  # a dry run's: printed
    top_level_posts: int = 0
    replies: int = 0  # in threads (a Linear issue's comments too)
    quiet: int = 0  # postable alerts not posted: quiet-only, no thread, no summary (fct_alerts / report)
    corrections: int = 0
    withdrawals: int = 0
    resolved: int = 0
    charts_uploaded: int = 0
    all_clears: int = 0
    alerts_delivered: int = 0
    skipped_claimed: int = 0  # a live run holds the claim: it posts them (this run is not done: exit 1)
    half_built: str | None = None  # fct_alerts and fct_data_health of different builds (why): nothing posted
    usage_data_status: str | None = None  # fct_data_health status of the usage day; None: no such mart
    release: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def exit_code(self) -> int:
        """DESIGN.md §3.4: 1 something due is not delivered (wins), 3 the usage day is not ready, else 0."""
        if self.failures or self.skipped_claimed:
            return EXIT_DELIVERY_FAILED
        return EXIT_OK if self.data_ready else EXIT_DATA_NOT_READY

    @property
    def data_ready(self) -> bool:
        """False: a half-built warehouse, or the usage day missing or incomplete (unless released)."""
        return not self.half_built and (self.release or self.usage_data_status in (None, "complete"))


# delivery kind (its first log row's) -> the RunReport counter of the message; how logs name it
_COUNTER = {"post": "top_level_posts", "data_health": "top_level_posts", "pipeline_health": "top_level_posts",
            "repeat": "replies", "broadcast": "replies", "correction": "corrections", "withdrawal": "withdrawals",
            "resolved": "resolved", "chart": "charts_uploaded", "all_clear": "all_clears"}  # fmt: skip
_LABEL = {"post": "digest", "data_health": "digest", "all_clear": "all-clear", "pipeline_health": "pipeline health"}
_HEALTH_KIND = {("post", HEALTH_DOMAIN): "data_health"}
_DELIVERING = frozenset({"post", "data_health", "repeat", "broadcast", "summary"})  # its rows are alerts delivered


@dataclass(frozen=True)
class PlannedMessage:  # what an issue tracker's `request` reads too
    dest: str
    rendered: Rendered
    thread: Thread | None
    rows: Rows  # (delivery key, log kind, log fields) per row
    incidents: tuple[IncidentPlan, ...] = ()  # a top-level post: its incidents' charts go in its thread
    close: bool = False  # closes the issue (a destination with `closing`)


def _channel(destination: str) -> str:
    return destination.split(":", 1)[1]


@dataclass
class _Run:
    """One run's context and its one way to deliver anything: claim -> send -> record."""

    backend: Backend
    routing: Routing
    transport: Transport
    options: RunOptions
    report: RunReport
    issues: IssueTransport | None = None
    run_id: str = field(default_factory=_new_id)
    recorded: list[LogEntry] = field(default_factory=list)  # this run's log rows (the Linear issue links them)
    entries: list[LogEntry] = field(default_factory=list)  # the log as read at the start of the day

    def __post_init__(self) -> None:
        self.log = DeliveryLog(self.backend, self.options.claim_ttl_s)

    def destination(self, channel: str) -> str:
        return f"{self.transport.name}:{channel}"

    def routes(self, a: Alert) -> dict[str, Route]:
        """Destination -> the route that takes the alert there (a Linear one only with an issue tracker)."""
        out: dict[str, Route] = {}
        for route in self.routing.routes_for(a.team, a.domain, a.severity, a.run_days):
            if route.slack:
                out.setdefault(self.destination(route.slack), route)
            elif self.issues:
                out.setdefault(f"{self.issues.name}:{route.linear}", route)
        return out

    def route(self, dest: str, a: Alert) -> Route:  # a member that only follows its headline there: no floor
        return self.routes(a).get(dest) or Route()

    def is_issue(self, dest: str) -> bool:
        return self.issues is not None and dest.startswith(f"{self.issues.name}:")

    def capabilities(self, dest: str) -> Capabilities:
        return self.issues.capabilities if self.issues and self.is_issue(dest) else self.transport.capabilities

    def entry(self, dest: str, root: str | None, res: PostResult, key: str, kind: str, kw: dict[str, Any]) -> LogEntry:
        return LogEntry(
            delivery_key=key, destination=dest, kind=kind, channel_id=res.channel_id or None, message_ts=res.ts,
            thread_ts=root or res.ts, run_id=self.run_id, delivered_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            **(dict.fromkeys(LOG_FIELDS) | kw),
        )  # fmt: skip

    def send(
        self, dest: str, rows: Rows, root: str | None, send: Callable[[], PostResult], what: str
    ) -> PostResult | None:
        """claim -> send() (nothing held) -> record `rows`, for any transport. None when skipped or failed."""
        dry, keys, kind = self.options.dry_run, [key for key, _, _ in rows], rows[0][1]
        if not dry:  # a live run holds `keys`, or they were delivered meanwhile (one short hold of the file)
            with self.backend.session():
                if not self.log.claim(dest, keys, self.run_id):
                    self.report.skipped_claimed += 1
                    log.warning(
                        "%s to %s: claimed by another run that is alive and posting it; skipped (exit 1)", what, dest
                    )
                    return None
                if self.log.delivered_keys(dest, keys):
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
        self.report.messages_posted += kind != "chart"  # a chart upload is not a message
        if not dry:
            entries = [self.entry(dest, root, result, *row) for row in rows]
            try:
                self.log.record(entries)
                self.recorded += entries
            except Exception as exc:  # reported; re-posted next run rather than lost
                self.report.failures.append(f"{_channel(dest)}: {what}: posted but not recorded ({type(exc).__name__})")
                log.error("posted %s to %s but could not record it (%s): the next run posts it again", what, dest, exc)
                return None
            log.info("posted %s to %s (ts %s)", what, dest, result.ts)
        if kind in _COUNTER:
            setattr(self.report, _COUNTER[kind], getattr(self.report, _COUNTER[kind]) + 1)
        return result

    def deliver(self, m: PlannedMessage) -> PostResult | None:
        """One planned message: posted in its thread (or top level, or as an issue), its rows recorded."""
        keys, kind, issue = [key for key, _, _ in m.rows], m.rows[0][1], self.is_issue(m.dest)
        delivers = len(keys) if kind in _DELIVERING else 0
        what = f"{_LABEL.get(kind, kind)} of {delivers} alert(s)" if delivers else _LABEL.get(kind, kind)
        root = m.thread.root_ts if m.thread else None
        if issue and self.issues is not None:
            window = self.options.lifecycle.repeat_window_days
            root, send, what = self.issues.request(m, self.entries, self.recorded, window)
        else:
            if self.options.late:
                note = f"Late: the run for {self.options.usage_date.isoformat()} failed before sending this; sent now."
                m = dataclasses.replace(m, rendered=marked(m.rendered, note, self.options.limits, ":hourglass:"))
            channel = (m.thread.channel_id if m.thread else None) or _channel(m.dest)
            send = functools.partial(  # the key in the message's metadata: an unclear answer is looked up by it
                self.transport.post, channel, m.rendered.text, m.rendered.blocks, root,
                broadcast=kind == "broadcast", delivery_key=min(keys),
            )  # fmt: skip
        result = self.send(m.dest, m.rows, root, send, what)
        self.report.alerts_delivered += delivers if result else 0
        return result


def render_body(body: MessageBody | None, limits: Limits, issue: bool = False) -> list[Rendered]:
    """A body as Slack's Block Kit parts, or for an issue tracker one Markdown text (no length split)."""
    if body is None:
        return []
    return [Rendered(markdown.render(body), [], body.alert_ids)] if issue else render(body, limits)


def _messages(r: _Run, p: Plan, alerts: dict[str, Alert]) -> list[PlannedMessage]:
    """Every message of the plan in delivery order: the chat platform's, then the issue tracker's (it links the
    chat post). A destination without `digests` gets one new post per incident and no summary. A reply too long
    for one message keeps its first part."""
    o, out = r.options, list[PlannedMessage]()

    def parts(dest: str, body: MessageBody | None, kind: str, thread: Thread | None = None,
              incs: Sequence[IncidentPlan] = ()) -> None:  # fmt: skip
        for m in render_body(body, o.limits, r.is_issue(dest)):  # a data-health alert's first post is logged as such
            part = [alerts[i] for i in m.alert_ids]
            rows = tuple((a.alert_id, _HEALTH_KIND.get((kind, a.domain), kind), log_fields(a)) for a in part)
            carried = tuple(i for i in incs if i.incident_id in {a.incident_id for a in part})
            out.append(PlannedMessage(dest, m, thread, rows, carried))

    for post in p.new_posts:  # a channel's digest: the thread root of each incident it carries
        dest, digests = post.destination, r.capabilities(post.destination).digests
        for incs in [post.incidents] if digests else [(inc,) for inc in post.incidents]:
            members = [a for inc in incs for a in inc.alerts]
            teams = sorted({inc.primary.team for inc in incs})  # the headlines' teams routed it here
            if not digests:  # an issue names every member's team
                teams = sorted({(a.team or "unassigned").strip() or "unassigned" for a in members})
            held = post.held if digests else ()
            d = compose.Digest(
                _channel(dest), tuple(teams), o.usage_date, o.cost_date, tuple(members), held, o.report_url, incs
            )
            parts(dest, compose.digest(d), "post", None, incs)
    for rep in p.repeats:
        body = compose.repeats(rep.incidents)
        parts(rep.thread.destination, body, "broadcast" if rep.broadcast else "repeat", rep.thread)
    for s in (s for s in p.summaries if r.capabilities(s.destination).digests):
        quiet = [a for inc in s.incidents for a in inc.alerts]
        parts(s.destination, compose.summary(quiet, o.usage_date, o.cost_date), "summary")
    replies: list[tuple[Reply, MessageBody, bool]] = [
        *((c, compose.correction(c, alerts.get(c.alert.alert_id)), False) for c in p.corrections),
        *((w, compose.withdrawal(w), _all_withdrawn(w.thread, r.entries, p.withdrawals)) for w in p.withdrawals),
        *((res, compose.resolved(res), True) for res in p.resolutions),
    ]
    for x, body, closes in replies:  # closing the issue, where a destination closes
        dest, close = x.thread.destination, closes and r.capabilities(x.thread.destination).closing
        out.append(PlannedMessage(dest, render_body(body, o.limits, r.is_issue(dest))[0], x.thread, x.rows, (), close))
    return sorted(out, key=lambda m: r.is_issue(m.dest))


def _all_withdrawn(thread: Thread, entries: Sequence[LogEntry], withdrawals: Sequence[Withdrawal]) -> bool:
    """Everything said in this thread is withdrawn once this run's withdrawals are sent (an issue closes)."""
    rows = [e for e in entries if e.destination == thread.destination and e.root_ts == thread.root_ts]
    gone = {e.alert_id for e in rows if e.kind == "withdrawal"}
    gone |= {w.was.alert_id for w in withdrawals if w.thread == thread}
    return {e.alert_id for e in rows if e.kind in ALERT_KINDS} <= gone


def _released(a: Alert, day: dt.date) -> Alert:
    """`alerting release --date D`: the data team confirmed the day; its incomplete_data holds are news."""
    if a.alert_date != day or a.hold_reason != "incomplete_data" or a.is_suppressed:
        return a
    return dataclasses.replace(a, is_postable=True, is_loud=True, hold_reason=None, quiet_reason=None)


def _plan(r: _Run, today: list[Alert], history: list[Alert], health: Health) -> Plan:
    o, report = r.options, r.report
    p = lifecycle.Planner(
        today=today, history=history, log=r.entries, destinations=lambda a: list(r.routes(a)),
        loud=lambda d, a: r.route(d, a).loud(a), summary=lambda d, a: r.route(d, a).summary,
        usage_date=o.usage_date, cost_date=o.cost_date, config=o.lifecycle, data_health=health,
    ).plan()  # fmt: skip
    report.suppressed = len(p.held)
    report.held_by_reason = dict(Counter(a.hold_reason or "held" for a in p.held))
    report.already_delivered += p.already_delivered  # after a late day's, before this run's claims
    report.quiet = sum(len(inc.alerts) for inc in p.quiet)
    if health is not None:
        report.usage_data_status = health.get((o.usage_date, lifecycle.DOMAIN_SOURCE["usage"]), "missing")
    log.info(
        "usage day %s (data %s), cost day %s: %d alert(s) read, %d held, %d already delivered; %d new digest(s),"
        " %d thread repeat(s), %d correction(s), %d withdrawal(s), %d resolved", o.usage_date,
        report.usage_data_status or "status unknown", o.cost_date, len(today), report.suppressed,
        report.already_delivered, len(p.new_posts), len(p.repeats), len(p.corrections), len(p.withdrawals),
        len(p.resolutions),
    )  # fmt: skip
    return p


def run(
    backend: Backend,
    routing: Routing,
    poster: Transport | None,
    options: RunOptions,
    out: TextIO,
    *,
    chart_for: ChartFor | None = None,
    run_id: str | None = None,
    linear: IssueTransport | None = None,
) -> RunReport:
    """One run; `linear`: the Linear transport, required when routing sends incidents to Linear."""
    if routing.uses_linear and not options.dry_run and linear is None:
        raise ValueError("routing sends incidents to Linear (a linear route, LTX_LINEAR_TEAM_*): it needs a transport")
    issues = (LinearTransport(LinearPrinter(out)) if options.dry_run else linear) if routing.uses_linear else None
    r = _start(backend, routing, poster, options, out, issues, run_id)
    offset = options.usage_date - options.cost_date
    for day in [] if options.dry_run or options.late else _late_days(r):  # first what a failed run left (own id)
        late = dataclasses.replace(options, usage_date=day, cost_date=day - offset, all_clear=False, late=True)
        _run_day(dataclasses.replace(r, options=late, run_id=_new_id(), recorded=[]), out, chart_for)
    _run_day(r, out, chart_for)
    return r.report


def _run_day(r: _Run, out: TextIO, chart_for: ChartFor | None) -> None:
    """One day: everything it needs read in one short session, planned, delivered."""
    o, report, backend = r.options, r.report, r.backend
    since = min(o.usage_date, o.cost_date) - dt.timedelta(days=o.lifecycle.lookback_days)
    until = max(o.usage_date, o.cost_date)
    with backend.session():
        report.half_built = warehouse.build_mismatch(backend)
        if report.half_built:  # new health beside old alerts: say nothing rather than something stale
            log.error("not posting: %s", report.half_built)
            return
        read = warehouse.read_alerts(backend, o.usage_date, o.cost_date)
        today = [_released(a, o.usage_date) if o.release else a for a in read]
        today = attach_causes(backend, today)  # drivers, usage concentration, cost decomposition
        history = warehouse.read_alert_history(backend, since, until)
        health = warehouse.read_data_health(backend, since, until)
        r.entries = r.log.entries(since)
    _deliver(r, _plan(r, today, history, health), today, chart_for)
    if (o.all_clear or r.routing.post_all_clear) and not o.late:
        if report.data_ready:
            _all_clear(r, today)
        else:
            log.warning("usage day %s is %s: no all-clear", o.usage_date, report.usage_data_status)
    if o.dry_run and report.messages_posted == 0:
        out.write(f"No message to post for usage day {o.usage_date} / cost day {o.cost_date}.\n")
        with backend.session():
            out.write(_latest_hint(backend, o))


def _deliver(r: _Run, the_plan: Plan, today: list[Alert], chart_for: ChartFor | None) -> None:
    """The plan's messages, then each incident's chart into its thread (where uploads are), once; a chart never
    blocks the text (a failure is retried next run)."""
    alerts = {a.alert_id: a for a in today}
    charts = [c for c in the_plan.charts if r.capabilities(c.thread.destination).file_uploads]
    for m in _messages(r, the_plan, alerts):
        result = r.deliver(m)
        if result is not None and result.channel_id and r.capabilities(m.dest).file_uploads:  # a top-level post:
            thread = Thread(m.dest, str(result.ts), result.channel_id)  # each incident's chart in its thread
            charts += [ChartUpload(thread, inc.incident_id, inc.primary.alert_date) for inc in m.incidents]
    if chart_for is None:
        return
    incidents, seen = {inc.incident_id: inc for inc in group_incidents(alerts.values())}, set[tuple[str, str]]()
    for c in charts:
        dest, root = c.thread.destination, c.thread.root_ts
        if (dest, c.key) in seen or c.incident_id not in incidents or not c.thread.channel_id:
            continue
        seen.add((dest, c.key))
        try:
            chart = chart_for(incidents[c.incident_id])
        except Exception as exc:  # a chart bug never blocks delivery
            r.report.failures.append(f"{_channel(dest)}: chart {c.incident_id}: {type(exc).__name__}")
            log.error("chart for incident %s failed (%s: %s)", c.incident_id, type(exc).__name__, exc)
            continue
        if chart is not None:
            name, content = chart
            upload = functools.partial(r.transport.upload_file, c.thread.channel_id, root, name, content, name)
            r.send(dest, c.rows, root, upload, f"chart {c.incident_id}")


def _late_days(r: _Run) -> list[dt.date]:
    """Earlier run days with alerts a failed run claimed and never delivered: caught up first (issue 25)."""
    o = r.options
    with r.backend.session():
        alerts = warehouse.read_alerts_by_id(r.backend, r.log.orphaned_keys())
    offset = o.usage_date - o.cost_date
    days = {a.alert_date + (offset if warehouse.on_cost_day(a.domain, a.scope) else dt.timedelta()) for a in alerts}
    late = sorted(d for d in days if d < o.usage_date)
    if late:
        log.warning("catching up %s: a failed run left it undelivered", ", ".join(map(str, late)))
    return late


def _latest_hint(backend: Backend, options: RunOptions) -> str:
    """Where the latest postable alerts are, so an empty demo day still points somewhere."""
    usage_day, cost_day = warehouse.latest_alert_dates(backend)
    parts = [f"latest usage alerts: --date {usage_day.isoformat()}"] if usage_day else []
    if cost_day:
        run_date = cost_day + (options.usage_date - options.cost_date)
        parts.append(f"latest cost alerts: --date {run_date.isoformat()} (cost day {cost_day.isoformat()})")
    return ("Hint: " + "; ".join(parts) + "\n") if parts else "There are no postable alerts in fct_alerts at all.\n"


def _all_clear(r: _Run, today: Sequence[Alert]) -> None:
    """One all-clear a day to each Slack route's channel that has no postable alert (naming the routes' teams)."""
    o = r.options
    key, busy = f"all_clear:{o.usage_date.isoformat()}", {d for a in today if a.is_postable for d in r.routes(a)}
    busy |= {e.destination for e in r.entries if e.delivery_key == key}  # said today already
    quiet: dict[str, set[str]] = defaultdict(set)
    for route in (route for route in r.routing.routes if route.slack):
        for team in sorted(route.match.get("team", ())) or [""]:
            channel = r.routing.override(team) or str(route.slack)
            quiet[r.destination(channel)] |= {team} - {""}
    for dest, teams in sorted(quiet.items()):
        if dest not in busy:
            message = render_body(compose.all_clear(sorted(teams), o.usage_date, o.cost_date), o.limits)[0]
            rows = ((key, "all_clear", {"alert_date": o.usage_date}),)
            r.deliver(PlannedMessage(dest, message, None, rows))


def post_pipeline_health(
    backend: Backend,
    routing: Routing,
    poster: Transport | None,
    run_date: dt.date,
    failures: Sequence[Failure],
    out: TextIO,
    dry_run: bool = False,
) -> RunReport:
    """One pipeline-health message to the data team's channel, once per run date and cause (an earlier one:
    counted as already delivered)."""
    r = _start(backend, routing, poster, RunOptions(run_date, run_date, dry_run=dry_run), out)
    with backend.session():
        stale = stale_sources(backend, failures)
    message = render_body(compose.pipeline_health(run_date, stale, failures), r.options.limits)[0]
    rows = ((cause_key(run_date, failures), "pipeline_health", {"alert_date": run_date, "team": PIPELINE_TEAM}),)
    r.deliver(PlannedMessage(r.destination(routing.channel_for(PIPELINE_TEAM)), message, None, rows))
    return r.report


def _start(
    backend: Backend, routing: Routing, poster: Transport | None, options: RunOptions, out: TextIO,
    issues: IssueTransport | None = None, run_id: str | None = None,
) -> _Run:  # fmt: skip
    if poster is None and not options.dry_run:
        raise ValueError("a transport is required unless dry_run")
    transport = StdoutTransport(out) if options.dry_run or poster is None else poster
    r = _Run(backend, routing, transport, options, RunReport(release=options.release), issues, run_id or _new_id())
    if not options.dry_run:
        with backend.session():
            r.log.ensure()
    return r
