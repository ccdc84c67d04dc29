"""Pure: today's alerts + what the delivery log remembers -> what to say, and where: Alertmanager's group /
repeat / resolve for daily data (the rules: docs/delivery.md). `Planner.plan()` is a function of its fields."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting.delivery_log import ALERT_KINDS, ANNOUNCING_KINDS, OPENING_KINDS, LogEntry
from alerting.model import Alert, Incident, group_incidents, severity_rank
from alerting.warehouse import COST_DOMAIN, COST_SOURCE, HEALTH_DOMAIN, on_cost_day

DOMAIN_SOURCE = {"usage": "usage", COST_DOMAIN: COST_SOURCE}  # fct_data_health source of each domain's day
NEVER_WITHDRAWN_FOR = frozenset({"muted", "snoozed", "incomplete_data"})  # silenced, not untrue
Series = tuple[str, str, str]  # domain, scope, metric
Series4 = tuple[str, str, str, str]  # and direction: what a thread carries
Rows = tuple[tuple[str, str, dict[str, Any]], ...]  # a message's log rows: (delivery key, kind, log fields)
LOG_FIELDS = ("alert_id", "incident_id", "alert_date", "series_key", "severity", "direction", "z_score",
              "current_value", "team")  # fmt: skip


@dataclass(frozen=True)
class LifecycleConfig:
    repeat_window_days: int = 7  # 0: every incident is a new top-level post
    resolve_after_days: int = 3  # 0: no resolved notices (threads stay open until the window ends)
    correction_window_days: int = 7  # delivered alerts this recent are checked after rebuilds

    def __post_init__(self) -> None:
        for name in ("repeat_window_days", "resolve_after_days", "correction_window_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 366:
                raise ValueError(f"{name} must be a whole number of days between 0 and 366, not {value!r}")

    @property
    def lookback_days(self) -> int:  # how far back the log and the alert history are read
        return max(self.repeat_window_days, self.correction_window_days) + self.resolve_after_days + 14


def config_from_mapping(section: Mapping[str, Any] | None) -> LifecycleConfig:
    """The `[lifecycle]` table of channels.toml (unknown keys refused)."""
    values: dict[str, Any] = dict(section or {})
    if unknown := set(values) - {f.name for f in dataclasses.fields(LifecycleConfig)}:
        raise ValueError(f"[lifecycle] has unknown key(s): {', '.join(sorted(unknown))}")
    return LifecycleConfig(**values)


def log_fields(a: Alert) -> dict[str, Any]:  # the delivery-log columns an alert fills
    return {name: getattr(a, name) for name in LOG_FIELDS}


@dataclass(frozen=True)
class Thread:
    destination: str
    root_ts: str
    channel_id: str | None  # the platform's channel id (None: post by channel name)


@dataclass(frozen=True)
class IncidentPlan(Incident):  # of its alerts, those this message delivers (postable, undelivered)
    z_trend: tuple[tuple[dt.date, float], ...] = ()  # the primary series' z by day, oldest first
    new_in_thread: bool = False  # a reply whose headline series that thread never carried (same segment, direction)
    news: tuple[Alert, ...] = ()  # a reply's loud members above what the thread announced for their series: broadcast


@dataclass(frozen=True)
class NewPost:  # a destination's digest, or its quiet-only incidents' `Summary:` message
    destination: str
    incidents: tuple[IncidentPlan, ...]
    held: tuple[Alert, ...] = ()  # today's held rows a digest counts (Planner.held_for)


@dataclass(frozen=True)
class Repeat:
    thread: Thread
    incidents: tuple[IncidentPlan, ...]
    broadcast: bool = False  # news for the thread (Planner.place): also shown in the channel (reply_broadcast)


@dataclass(frozen=True)
class Correction:
    thread: Thread
    alert: Alert  # as it is now
    was: LogEntry  # as it was last said
    key: str

    @property
    def rows(self) -> Rows:
        return ((self.key, "correction", log_fields(self.alert)),)


@dataclass(frozen=True)
class Withdrawal:
    thread: Thread
    was: LogEntry
    reason: str  # "gone" or the hold_reason that now holds it
    key: str

    @property
    def rows(self) -> Rows:  # what was withdrawn
        fields = {k: getattr(self.was, k) for k in ("alert_id", "incident_id", "alert_date", "series_key", "team")}
        return ((self.key, "withdrawal", fields),)


@dataclass(frozen=True)
class ResolvedSeries:
    series: Series
    last_alert_date: dt.date
    quiet_days: int
    day: dt.date  # the series' run day


@dataclass(frozen=True)
class Resolution:
    thread: Thread
    series: tuple[ResolvedSeries, ...]
    alert_date: dt.date  # the day it was judged (the series' run day)
    incident_id: str | None

    @property
    def rows(self) -> Rows:  # one key per episode: resolved, back later and resolved again is a new key
        return tuple(
            (
                f"resolved|{self.thread.root_ts}|{'|'.join(s.series)}|{s.last_alert_date}",
                "resolved",
                {"incident_id": self.incident_id, "series_key": "|".join((*s.series, "")), "alert_date": s.day},
            )
            for s in self.series
        )


@dataclass(frozen=True)
class ChartUpload:
    thread: Thread
    incident_id: str
    alert_date: dt.date

    @property
    def key(self) -> str:
        return f"chart|{self.incident_id}"

    @property
    def rows(self) -> Rows:
        return ((self.key, "chart", {"incident_id": self.incident_id, "alert_date": self.alert_date}),)


Reply = Correction | Withdrawal | Resolution


@dataclass
class Plan:
    new_posts: list[NewPost] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    charts: list[ChartUpload] = field(default_factory=list)  # retries: incidents posted earlier without a chart
    held: list[Alert] = field(default_factory=list)
    summaries: list[NewPost] = field(default_factory=list)
    quiet: list[IncidentPlan] = field(default_factory=list)  # postable, not loud, no thread, no summary route
    already_delivered: int = 0


def series_of_key(series_key: str | None) -> Series | None:  # "domain|scope|metric|rule" -> its first three
    parts = (series_key or "").split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) >= 3 else None


@dataclass
class _ThreadState:
    """One thread as the log tells it; a series is (domain, scope, metric, direction) unless said."""

    thread: Thread
    first_incident: str | None = None
    series_last: dict[Series4, dt.date] = field(default_factory=dict)  # last alert_date delivered here
    resolved_at: dict[Series, dt.datetime] = field(default_factory=dict)  # delivered_at of its last "resolved"
    series_delivered_at: dict[Series, dt.datetime] = field(default_factory=dict)
    series_severity: dict[Series4, int] = field(default_factory=dict)  # the most severe announced (rank)
    alert_last_kind: dict[str, str] = field(default_factory=dict)  # alert id -> last thing said about it

    def open_series(self) -> dict[Series4, dt.date]:
        if self.alert_last_kind and all(k == "withdrawal" for k in self.alert_last_kind.values()):
            return {}  # everything said in this thread was withdrawn: closed, no "resolved" after it
        return {
            s4: last
            for s4, last in self.series_last.items()
            if self.resolved_at.get(s4[:3], dt.datetime.min) < self.series_delivered_at[s4[:3]]
        }


@dataclass
class _LogView:
    threads: dict[tuple[str, str], _ThreadState] = field(default_factory=dict)
    alert_history: dict[tuple[str, str], list[LogEntry]] = field(default_factory=lambda: defaultdict(list))
    incident_thread: dict[tuple[str, str], _ThreadState] = field(default_factory=dict)  # (dest, incident_id)
    opened: set[tuple[str, str]] = field(default_factory=set)  # (dest, incident_id) posted top-level
    keys: set[tuple[str, str]] = field(default_factory=set)  # (dest, delivery_key)


def _read_log(entries: Iterable[LogEntry]) -> _LogView:
    view = _LogView()
    latest: dict[tuple[str, Series], str] = {}  # (dest, series) -> root of its last thread
    for e in sorted(entries, key=lambda e: (e.delivered_at, e.delivery_key)):
        view.keys.add((e.destination, e.delivery_key))
        root = e.root_ts
        if not root:
            continue
        state = view.threads.setdefault((e.destination, root), _ThreadState(Thread(e.destination, root, e.channel_id)))
        if state.thread.channel_id is None and e.channel_id:
            state.thread = Thread(e.destination, root, e.channel_id)
        s3 = series_of_key(e.series_key)
        s4 = (*s3, e.direction or "") if s3 else None
        if (e.kind in ALERT_KINDS or e.kind == "correction") and s3 and s4 and e.alert_date:
            state.series_last[s4] = max(state.series_last.get(s4, e.alert_date), e.alert_date)
            state.series_delivered_at[s3] = e.delivered_at
        if e.kind in ANNOUNCING_KINDS and s4:  # a quiet reply (a holiday's CRITICAL) announced nothing
            state.series_severity[s4] = min(state.series_severity.get(s4, 99), severity_rank(e.severity))
        if e.kind == "resolved" and s3:
            state.resolved_at[s3] = e.delivered_at
        if e.alert_id and e.kind in (*ALERT_KINDS, "correction", "withdrawal"):
            state.alert_last_kind[e.alert_id] = e.kind
            view.alert_history[(e.destination, e.alert_id)].append(e)
        if e.incident_id and e.kind in ALERT_KINDS:
            view.incident_thread.setdefault((e.destination, e.incident_id), state)
            if e.kind in OPENING_KINDS:
                view.opened.add((e.destination, e.incident_id))
                state.first_incident = state.first_incident or e.incident_id
        if e.kind in ALERT_KINDS and s3:
            latest[(e.destination, s3)] = root
    # a series lives in the thread that carried it last (an escalation opens a new one): it is
    # continued and resolved there only, never in two threads
    for (dest, root), state in view.threads.items():
        for s4 in [s4 for s4 in state.series_last if latest.get((dest, s4[:3]), root) != root]:
            del state.series_last[s4]
    return view


def _z_trend(primary: Alert, history: Sequence[Alert]) -> tuple[tuple[dt.date, float], ...]:
    """The primary series' largest |z| by day (its own today) on the consecutive days up to today that have one in
    its direction, at most 7, oldest first: a '→' never spans a day without it."""
    zs: dict[dt.date, float] = {}
    for o in history:
        same = o.series == primary.series and o.direction == primary.direction and o.alert_date <= primary.alert_date
        if same and o.z_score is not None and abs(o.z_score) >= abs(zs.get(o.alert_date, 0.0)):
            zs[o.alert_date] = o.z_score
    if primary.z_score is not None:
        zs[primary.alert_date] = primary.z_score
    days = [primary.alert_date - dt.timedelta(days=k) for k in range(7)]
    run = list(itertools.takewhile(lambda day: day in zs, days))
    return tuple((day, zs[day]) for day in reversed(run))


def _family(series: Series4) -> tuple[str, str, str]:
    """What a thread continues: the same domain, scope and direction (an incident's key without its day),
    so tokens today continue yesterday's DAU thread of that segment."""
    return (series[0], series[1], series[3])


@dataclass
class Planner:
    """What this run says (`plan()`, a function of these fields). `today`: the run-day rows; `history`: rows of the
    look-back (any day). The routes decide where an incident goes (by its headline), if an alert is `loud` there
    and if a `summary` lists it."""

    today: Sequence[Alert]
    history: Sequence[Alert]
    log: Sequence[LogEntry]
    destinations: Callable[[Alert], Sequence[str]]
    loud: Callable[[str, Alert], bool]
    summary: Callable[[str, Alert], bool]
    usage_date: dt.date
    cost_date: dt.date
    config: LifecycleConfig
    data_health: Mapping[tuple[dt.date, str], str] | None = None
    out: Plan = field(default_factory=Plan)

    def __post_init__(self) -> None:
        self.view = _read_log(self.log)
        self.hist = list({o.alert_id: o for o in [*self.history, *self.today]}.values())

    def plan(self) -> Plan:
        self.place(self.pending(self.today))
        self.changes()
        if self.config.resolve_after_days > 0:
            self.resolutions()
        # charts not uploaded yet for incidents already posted top-level (a failed upload is retried)
        for incident_id, alert_date in sorted({(o.incident_id, o.alert_date) for o in self.today}):
            for dest, inc in sorted(self.view.opened):
                chart = ChartUpload(self.view.incident_thread[(dest, inc)].thread, incident_id, alert_date)
                if inc == incident_id and (dest, chart.key) not in self.view.keys and chart.thread.channel_id:
                    self.out.charts.append(chart)
        return self.out

    @functools.cached_property
    def last_alert_day(self) -> dict[Series, dt.date]:  # each series' latest row of the look-back, held or not
        last: dict[Series, dt.date] = {}
        for o in self.hist:
            last[o.series] = max(last.get(o.series, o.alert_date), o.alert_date)
        return last

    def day(self, domain: str, scope: str) -> dt.date:  # the data day this run reports for a series
        return self.cost_date if on_cost_day(domain, scope) else self.usage_date

    def complete(self, day: dt.date, domain: str) -> bool:  # data health's own series: always judged
        source, health = DOMAIN_SOURCE.get(domain), self.data_health
        return source is None or health is None or health.get((day, source)) == "complete"

    def pending(self, today: Sequence[Alert]) -> dict[str, dict[str, list[Alert]]]:
        """Today's postable, undelivered members per destination and incident. An incident goes where its
        headline alert is routed, whole: each channel gets it once."""
        self.out.held += [o for o in today if not o.is_postable]
        pending: dict[str, dict[str, list[Alert]]] = defaultdict(lambda: defaultdict(list))
        for inc in group_incidents(o for o in today if o.is_postable):
            for dest in sorted(set(self.destinations(inc.primary))):
                for o in inc.alerts:
                    if (dest, o.alert_id) in self.view.keys:
                        self.out.already_delivered += 1
                    else:
                        pending[dest][inc.incident_id].append(o)
        return pending

    def place(self, pending: Mapping[str, Mapping[str, list[Alert]]]) -> None:
        """Each pending incident: a reply in the open thread it continues (broadcast when it is news there),
        else a top-level post when any member is loud, else a summary line (where enabled) or nothing."""
        new: dict[str, list[IncidentPlan]] = defaultdict(list)
        quiet: dict[str, list[IncidentPlan]] = defaultdict(list)
        replies: dict[tuple[str, str, bool], list[IncidentPlan]] = defaultdict(list)
        threads: dict[tuple[str, str, bool], Thread] = {}
        for dest in sorted(pending):
            for incident_id, members in sorted(pending[dest].items()):
                [grouped] = group_incidents(members)  # the headline first
                primary, state = grouped.primary, self.thread_for(dest, incident_id, members)
                new_here = state is not None and primary.thread_series not in state.series_last
                news = self.news(dest, state, grouped.alerts)
                inc = IncidentPlan(incident_id, primary, grouped.members, _z_trend(primary, self.hist), new_here, news)
                if state is not None:
                    key = (dest, state.thread.root_ts, bool(news))
                    replies[key].append(inc)
                    threads[key] = state.thread
                elif any(self.loud(dest, o) for o in members):
                    new[dest].append(inc)
                elif self.summary(dest, primary):
                    quiet[dest].append(inc)
                else:
                    self.out.quiet.append(inc)
        self.out.new_posts = [NewPost(d, tuple(incs), self.held_for(d, incs)) for d, incs in sorted(new.items())]
        self.out.repeats = [Repeat(threads[k], tuple(v), broadcast=k[2]) for k, v in sorted(replies.items())]
        self.out.summaries = [NewPost(d, tuple(incs)) for d, incs in sorted(quiet.items())]

    def news(self, dest: str, state: _ThreadState | None, alerts: Sequence[Alert]) -> tuple[Alert, ...]:
        """The loud alerts above the most severe the thread announced for their series: a reply's news (broadcast)."""
        said = state.series_severity if state is not None else None
        if said is None:
            return ()
        return tuple(
            o for o in alerts if self.loud(dest, o) and severity_rank(o.severity) < said.get(o.thread_series, 99)
        )

    def held_for(self, dest: str, incidents: Sequence[IncidentPlan]) -> tuple[Alert, ...]:
        """The held rows a destination's digest counts: its own; with a data-health alert in it, also
        every incomplete_data hold (of any destination: the data-health alert says how many wait)."""
        own = [o for o in self.out.held if dest in self.destinations(o)]
        if any(o.domain == HEALTH_DOMAIN for inc in incidents for o in inc.alerts):
            own += [o for o in self.out.held if o.hold_reason == "incomplete_data" and o not in own]
        return tuple(own)

    def thread_for(self, dest: str, incident_id: str, members: Sequence[Alert]) -> _ThreadState | None:
        """The open thread an incident continues at `dest`, if any (most recently active first)."""
        same_incident = self.view.incident_thread.get((dest, incident_id))
        if same_incident is not None or self.config.repeat_window_days <= 0:
            return same_incident  # a member added late to an incident already delivered here
        continued: list[tuple[dt.date, str, _ThreadState]] = []  # (its family's last day here, root, thread)
        for (d, root), state in self.view.threads.items():
            if d != dest:
                continue
            last_by_family: dict[tuple[str, str, str], dt.date] = {}
            worst_by_family: dict[tuple[str, str, str], int] = {}
            for s4, last in state.open_series().items():
                fam = _family(s4)
                last_by_family[fam] = max(last_by_family.get(fam, last), last)
                worst_by_family[fam] = min(worst_by_family.get(fam, 99), state.series_severity.get(s4, 99))
            if any(  # worse than anything announced in that thread: a new top-level post (Alertmanager re-notifies)
                self.loud(dest, o) and severity_rank(o.severity) < worst_by_family.get(_family(o.thread_series), -1)
                for o in members
            ):
                continue
            for o in members:
                seen = last_by_family.get(_family(o.thread_series))
                if seen is not None and 0 <= (o.alert_date - seen).days <= self.config.repeat_window_days:
                    continued.append((seen, root, state))
        return max(continued, key=lambda c: c[:2])[2] if continued else None

    def changes(self) -> None:
        """Corrections and withdrawals of delivered alerts (within correction_window_days) after a rebuild."""
        now_by_id = {o.alert_id: o for o in self.hist}
        for (dest, alert_id), rows in sorted(self.view.alert_history.items()):
            first = next((r for r in rows if r.kind in ALERT_KINDS), None)
            if first is None or first.alert_date is None:
                continue
            state = self.view.threads[(dest, str(first.root_ts))]  # the thread of its first delivery
            domain, scope, _ = series_of_key(first.series_key) or ("", "", "")
            horizon = self.day(domain, scope) - dt.timedelta(days=self.config.correction_window_days)
            if not horizon <= first.alert_date <= max(self.usage_date, self.cost_date):
                continue
            last, now = rows[-1], now_by_id.get(alert_id)
            seq = sum(1 for r in rows if r.kind in ("correction", "withdrawal")) + 1
            if last.kind == "withdrawal":
                changed = now is not None and now.is_postable
            elif now is None or (not now.is_postable and now.hold_reason not in NEVER_WITHDRAWN_FOR):
                reason = "gone" if now is None else str(now.hold_reason or "held")
                self.out.withdrawals.append(Withdrawal(state.thread, last, reason, f"{alert_id}|withdrawal|{seq}"))
                continue
            else:
                changed = now.is_postable and (
                    (last.severity or "") != now.severity or (bool(last.direction) and last.direction != now.direction)
                )
            if changed and now is not None:
                self.out.corrections.append(Correction(state.thread, now, last, f"{alert_id}|correction|{seq}"))

    def resolutions(self) -> None:
        """A thread's "resolved" reply when every open series has been back in band on resolve_after_days
        complete days (incomplete days count neither way); a series open in both directions resolves once.
        Not in a thread that gets a repeat today."""
        touched = {(r.thread.destination, r.thread.root_ts) for r in self.out.repeats}
        for key, state in sorted(self.view.threads.items()):
            resolution = None if key in touched else self.resolution(state)
            self.out.resolutions += [resolution] if resolution else []

    def resolution(self, state: _ThreadState) -> Resolution | None:
        quiet_series: dict[Series, ResolvedSeries] = {}
        for s4, last_delivered in sorted(state.open_series().items()):
            s3, day = s4[:3], self.day(s4[0], s4[1])
            last_seen = max(self.last_alert_day.get(s3, last_delivered), last_delivered)
            quiet = sum(
                self.complete(last_seen + dt.timedelta(days=i), s3[0]) for i in range(1, (day - last_seen).days + 1)
            )
            if quiet < self.config.resolve_after_days:
                return None  # one series still out (or not quiet long enough): the thread stays open
            quiet_series[s3] = ResolvedSeries(s3, last_seen, quiet, day)
        found = tuple(quiet_series.values())
        return Resolution(state.thread, found, max(s.day for s in found), state.first_incident) if found else None
