"""Pure: today's alerts + what the delivery log remembers -> what to say, and where.

Alertmanager's group / repeat / resolve for daily data (the rules: docs/delivery.md). Nothing here
reads a clock, a file or a network: `plan()` is a function of its arguments.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting.delivery_log import ALERT_KINDS, OPENING_KINDS, LogEntry
from alerting.model import Alert, headline_key, severity_rank

COST_DOMAIN = "gpu_cost"
HEALTH_DOMAIN = "data_health"
DOMAIN_SOURCE = {"usage": "usage", COST_DOMAIN: "gpu_costs"}  # fct_data_health source of each domain's day
NEVER_WITHDRAWN_FOR = frozenset({"muted", "snoozed", "incomplete_data"})  # silenced, not untrue
# the delivery-log columns (LogEntry field names) an alert fills
LOG_FIELDS = ("alert_id", "incident_id", "alert_date", "series_key", "severity", "direction", "z_score",
              "current_value", "team")  # fmt: skip


@dataclass(frozen=True)
class LifecycleConfig:
    repeat_window_days: int = 7  # 0: every incident is a new top-level post
    resolve_after_days: int = 3  # 0: no resolved notices (threads stay open until the window ends)
    correction_window_days: int = 7  # delivered alerts this recent are checked after rebuilds
    # quiet-only incidents (postable, none loud, no open thread): listed in one `Summary:` message a day
    # per channel when true, or for the teams named (a route per team); otherwise in fct_alerts and the report
    quiet_summary: bool | tuple[str, ...] = False

    def __post_init__(self) -> None:
        for name in ("repeat_window_days", "resolve_after_days", "correction_window_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 366:
                raise ValueError(f"{name} must be a whole number of days between 0 and 366, not {value!r}")

    @property
    def lookback_days(self) -> int:  # how far back the log and the alert history are read
        return max(self.repeat_window_days, self.correction_window_days) + self.resolve_after_days + 14


def config_from_mapping(section: Mapping[str, Any] | None, **overrides: Any) -> LifecycleConfig:
    """The `[lifecycle]` table of channels.toml (unknown keys refused), then CLI overrides."""
    values: dict[str, Any] = dict(section or {})
    unknown = set(values) - {f.name for f in dataclasses.fields(LifecycleConfig)}
    if unknown:
        raise ValueError(f"[lifecycle] has unknown key(s): {', '.join(sorted(unknown))}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    summary = values.get("quiet_summary", False)
    if isinstance(summary, list) and all(isinstance(t, str) and t.strip() for t in summary):
        values["quiet_summary"] = tuple(sorted(t.strip().lower() for t in summary))
    elif not isinstance(summary, bool):
        raise ValueError(f"quiet_summary must be true, false or a list of teams, not {summary!r}")
    return LifecycleConfig(**values)


def log_fields(a: Alert) -> dict[str, Any]:
    return {name: getattr(a, name) for name in LOG_FIELDS}


def on_cost_day(domain: str, scope: str) -> bool:
    """A series reported on the finalised cost day (cost alerts, and the data health of the GPU source)."""
    return domain == COST_DOMAIN or (domain == HEALTH_DOMAIN and scope == DOMAIN_SOURCE[COST_DOMAIN])


def run_day(domain: str, scope: str, usage_date: dt.date, cost_date: dt.date) -> dt.date:
    """The data day a run reports for a series: the finalised cost day for cost series."""
    return cost_date if on_cost_day(domain, scope) else usage_date


@dataclass(frozen=True)
class Thread:
    destination: str
    root_ts: str
    channel_id: str | None  # the platform's channel id (None: post by channel name)


@dataclass(frozen=True)
class IncidentPlan:
    incident_id: str
    alerts: tuple[Alert, ...]  # the members this message delivers (postable, undelivered)
    streak_days: int = 1  # consecutive days (up to today) the primary's series has alert rows
    z_trend: tuple[tuple[dt.date, float], ...] = ()  # the primary series' z by day, oldest first

    @property
    def primary(self) -> Alert:
        return min(self.alerts, key=headline_key)


@dataclass(frozen=True)
class NewPost:
    destination: str
    incidents: tuple[IncidentPlan, ...]
    # today's held rows this digest counts: those routed here, plus every incomplete_data hold
    # when it carries a data-health alert (that alert says how many wait for the data)
    held: tuple[Alert, ...] = ()


@dataclass(frozen=True)
class Repeat:
    thread: Thread
    incidents: tuple[IncidentPlan, ...]
    # something new for this thread (a series it has not carried, or a severity above anything it said
    # for that series): the reply is also shown in the channel (Slack reply_broadcast) - never only quiet
    broadcast: bool = False


@dataclass(frozen=True)
class Summary:
    """The quiet-only incidents of a destination's day (no loud member, no open thread): one `Summary:` message."""

    destination: str
    incidents: tuple[IncidentPlan, ...]


@dataclass(frozen=True)
class Correction:
    thread: Thread
    alert: Alert  # as it is now
    was: LogEntry  # as it was last said
    key: str


@dataclass(frozen=True)
class Withdrawal:
    thread: Thread
    was: LogEntry
    reason: str  # "gone" or the hold_reason that now holds it
    key: str

    @property
    def fields(self) -> dict[str, Any]:  # its log row: what was withdrawn
        return {k: getattr(self.was, k) for k in ("alert_id", "incident_id", "alert_date", "series_key", "team")}


@dataclass(frozen=True)
class ResolvedSeries:
    series: tuple[str, str, str]  # domain, scope, metric
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
    def keys(self) -> tuple[str, ...]:  # one per episode: resolved, back later and resolved again is a new key
        return tuple(f"resolved|{self.thread.root_ts}|{'|'.join(s.series)}|{s.last_alert_date}" for s in self.series)

    @property
    def rows(self) -> tuple[tuple[str, dict[str, Any]], ...]:  # (delivery key, log fields) per series
        return tuple(
            (key, {"incident_id": self.incident_id, "series_key": "|".join((*s.series, "")), "alert_date": s.day})
            for key, s in zip(self.keys, self.series, strict=True)
        )


@dataclass(frozen=True)
class ChartUpload:
    thread: Thread
    incident_id: str
    alert_date: dt.date

    @property
    def key(self) -> str:
        return f"chart|{self.incident_id}"


@dataclass
class Plan:
    new_posts: list[NewPost] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    charts: list[ChartUpload] = field(default_factory=list)  # retries: incidents posted earlier without a chart
    held: list[Alert] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    quiet: list[IncidentPlan] = field(default_factory=list)  # postable, not loud, no thread, no summary route
    already_delivered: int = 0


def _series_of_key(series_key: str | None) -> tuple[str, str, str] | None:
    if not series_key:
        return None
    parts = series_key.split("|")
    return (parts[0], parts[1], parts[2]) if len(parts) >= 3 else None


# --- the log, read back ---------------------------------------------------------------------


@dataclass
class _ThreadState:
    thread: Thread
    first_incident: str | None = None
    # series (domain, scope, metric, direction) -> last alert_date delivered in this thread
    series_last: dict[tuple[str, str, str, str], dt.date] = field(default_factory=dict)
    # series (domain, scope, metric) -> delivered_at of its last "resolved" row here
    resolved_at: dict[tuple[str, str, str], dt.datetime] = field(default_factory=dict)
    series_delivered_at: dict[tuple[str, str, str], dt.datetime] = field(default_factory=dict)
    series_severity: dict[tuple[str, str, str, str], int] = field(default_factory=dict)  # most severe said (rank)
    alert_last_kind: dict[str, str] = field(default_factory=dict)  # alert id -> last thing said about it

    def open_series(self) -> dict[tuple[str, str, str, str], dt.date]:
        if self.alert_last_kind and all(k == "withdrawal" for k in self.alert_last_kind.values()):
            return {}  # everything said in this thread was withdrawn: closed, no "resolved" after it
        out = {}
        for s4, last in self.series_last.items():
            s3 = s4[:3]
            if s3 in self.resolved_at and self.resolved_at[s3] >= self.series_delivered_at.get(s3, dt.datetime.min):
                continue
            out[s4] = last
        return out


@dataclass
class _LogView:
    threads: dict[tuple[str, str], _ThreadState]
    alert_thread: dict[tuple[str, str], _ThreadState]  # (dest, alert_id) -> thread of its first delivery
    alert_history: dict[tuple[str, str], list[LogEntry]]  # (dest, alert_id) -> state-bearing rows
    incident_thread: dict[tuple[str, str], _ThreadState]  # (dest, incident_id) -> thread (top-level)
    opened: set[tuple[str, str]]  # (dest, incident_id) posted top-level
    keys: set[tuple[str, str]]  # (dest, delivery_key)


def _read_log(entries: Iterable[LogEntry]) -> _LogView:
    view = _LogView({}, {}, defaultdict(list), {}, set(), set())
    latest: dict[tuple[str, tuple[str, str, str]], str] = {}  # (dest, series) -> root of its last thread
    for e in sorted(entries, key=lambda e: (e.delivered_at, e.delivery_key)):
        view.keys.add((e.destination, e.delivery_key))
        root = e.root_ts
        if not root:
            continue
        state = view.threads.get((e.destination, root))
        if state is None:
            state = _ThreadState(Thread(e.destination, root, e.channel_id))
            view.threads[(e.destination, root)] = state
        elif state.thread.channel_id is None and e.channel_id:
            state.thread = Thread(e.destination, root, e.channel_id)
        s3 = _series_of_key(e.series_key)
        if (e.kind in ALERT_KINDS or e.kind == "correction") and s3 and e.alert_date:
            s4 = (*s3, e.direction or "")
            state.series_last[s4] = max(state.series_last.get(s4, e.alert_date), e.alert_date)
            state.series_delivered_at[s3] = e.delivered_at
            state.series_severity[s4] = min(state.series_severity.get(s4, 99), severity_rank(e.severity))
        if e.kind == "resolved" and s3:
            state.resolved_at[s3] = e.delivered_at
        if e.alert_id and e.kind in (*ALERT_KINDS, "correction", "withdrawal"):
            state.alert_last_kind[e.alert_id] = e.kind
            view.alert_history[(e.destination, e.alert_id)].append(e)
            if e.kind in ALERT_KINDS:
                view.alert_thread.setdefault((e.destination, e.alert_id), state)
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


# --- planning -------------------------------------------------------------------------------


def streak_days(primary: Alert, history: Iterable[Alert]) -> int:
    """Consecutive days up to the primary's day on which its series has an alert row (held or not)."""
    days = {o.alert_date for o in history if o.series == primary.series}
    days.add(primary.alert_date)
    streak, day = 0, primary.alert_date
    while day in days:
        streak += 1
        day -= dt.timedelta(days=1)
    return streak


def _streak_and_trend(primary: Alert, history: Sequence[Alert]) -> tuple[int, tuple[tuple[dt.date, float], ...]]:
    streak = streak_days(primary, history)
    zs: dict[dt.date, float] = {}
    for o in history:
        same = o.series == primary.series and o.direction == primary.direction and o.alert_date <= primary.alert_date
        if same and o.z_score is not None and abs(o.z_score) >= abs(zs.get(o.alert_date, 0.0)):
            zs[o.alert_date] = o.z_score
    if primary.z_score is not None:
        zs[primary.alert_date] = primary.z_score
    trend = tuple(sorted(zs.items()))[-7:]
    return streak, trend


def _complete(data_health: Mapping[tuple[dt.date, str], str] | None, day: dt.date, domain: str) -> bool:
    if domain == HEALTH_DOMAIN or data_health is None or domain not in DOMAIN_SOURCE:
        return True
    return data_health.get((day, DOMAIN_SOURCE[domain])) == "complete"


@dataclass(frozen=True)
class _Days:
    usage_date: dt.date
    cost_date: dt.date
    config: LifecycleConfig
    data_health: Mapping[tuple[dt.date, str], str] | None

    def of(self, domain: str, scope: str) -> dt.date:
        return run_day(domain, scope, self.usage_date, self.cost_date)


def plan(
    *,
    today: Sequence[Alert],
    history: Sequence[Alert],
    log: Sequence[LogEntry],
    destinations: Callable[[Alert], Sequence[str]],
    usage_date: dt.date,
    cost_date: dt.date,
    config: LifecycleConfig,
    data_health: Mapping[tuple[dt.date, str], str] | None = None,
) -> Plan:
    """What this run says. `today`: the run-day rows; `history`: rows of the look-back (any day)."""
    out = Plan()
    view = _read_log(log)
    hist = list({o.alert_id: o for o in [*history, *today]}.values())
    days = _Days(usage_date, cost_date, config, data_health)
    _place(_pending(today, view, destinations, out), view, hist, config, destinations, out)
    _changes(view, {o.alert_id: o for o in hist}, days, out)
    if config.resolve_after_days > 0:
        touched = {(r.thread.destination, r.thread.root_ts) for r in out.repeats}
        last_row: dict[tuple[str, str, str], dt.date] = {}
        for o in hist:
            last_row[o.series] = max(last_row.get(o.series, o.alert_date), o.alert_date)
        for key, state in sorted(view.threads.items()):
            resolution = None if key in touched else _resolution(state, last_row, days)
            out.resolutions += [resolution] if resolution else []
    # charts not uploaded yet for incidents already posted top-level (a failed upload is retried)
    for incident_id, alert_date in sorted({(o.incident_id, o.alert_date) for o in today}):
        for dest, inc in sorted(view.opened):
            chart = ChartUpload(view.incident_thread[(dest, inc)].thread, incident_id, alert_date)
            if inc == incident_id and (dest, chart.key) not in view.keys and chart.thread.channel_id:
                out.charts.append(chart)
    return out


def _changes(view: _LogView, now_by_id: Mapping[str, Alert], days: _Days, out: Plan) -> None:
    """Corrections and withdrawals of delivered alerts (within correction_window_days) after a rebuild."""
    for (dest, alert_id), rows in sorted(view.alert_history.items()):
        delivered = [r for r in rows if r.kind in ALERT_KINDS]
        state = view.alert_thread.get((dest, alert_id))
        first_day = delivered[0].alert_date if delivered else None
        if first_day is None or state is None:
            continue
        first, last = delivered[0], rows[-1]
        domain, scope, _ = _series_of_key(first.series_key) or ("", "", "")
        horizon = days.of(domain, scope) - dt.timedelta(days=days.config.correction_window_days)
        if not horizon <= first_day <= max(days.usage_date, days.cost_date):
            continue
        seq = sum(1 for r in rows if r.kind in ("correction", "withdrawal")) + 1
        now = now_by_id.get(alert_id)
        if last.kind == "withdrawal":
            changed = now is not None and now.is_postable
        elif now is None or (not now.is_postable and now.hold_reason not in NEVER_WITHDRAWN_FOR):
            reason = "gone" if now is None else str(now.hold_reason or "held")
            out.withdrawals.append(Withdrawal(state.thread, last, reason, f"{alert_id}|withdrawal|{seq}"))
            continue
        else:
            changed = now.is_postable and (
                (last.severity or "") != now.severity or (bool(last.direction) and last.direction != now.direction)
            )
        if changed and now is not None:
            out.corrections.append(Correction(state.thread, now, last, f"{alert_id}|correction|{seq}"))


def _resolution(
    state: _ThreadState, last_row: Mapping[tuple[str, str, str], dt.date], days: _Days
) -> Resolution | None:
    """The thread's "resolved" reply when every open series has been back in band on resolve_after_days
    complete days (incomplete days count neither way); a series open in both directions resolves once."""
    quiet_series: dict[tuple[str, str, str], ResolvedSeries] = {}
    judged: dt.date | None = None
    for s4, last_delivered in sorted(state.open_series().items()):
        s3 = s4[:3]
        day = days.of(s3[0], s3[1])
        last_seen = max(last_row.get(s3, last_delivered), last_delivered)
        quiet = sum(
            1
            for i in range(1, max((day - last_seen).days, 0) + 1)
            if _complete(days.data_health, last_seen + dt.timedelta(days=i), s3[0])
        )
        if quiet < days.config.resolve_after_days:
            return None  # one series still out (or not quiet long enough): the thread stays open
        quiet_series[s3] = ResolvedSeries(s3, last_seen, quiet, day)
        judged = max(judged or day, day)
    if not quiet_series or judged is None:
        return None
    return Resolution(state.thread, tuple(quiet_series.values()), judged, state.first_incident)


def _pending(
    today: Sequence[Alert],
    view: _LogView,
    destinations: Callable[[Alert], Sequence[str]],
    out: Plan,
) -> dict[str, dict[str, list[Alert]]]:
    """Today's postable, undelivered members per destination and incident.

    An incident goes where its headline alert is routed, whole: each channel gets it once.
    """
    by_incident: dict[str, list[Alert]] = defaultdict(list)
    for o in today:
        if o.is_postable:
            by_incident[o.incident_id].append(o)
        else:
            out.held.append(o)
    pending: dict[str, dict[str, list[Alert]]] = defaultdict(lambda: defaultdict(list))
    for incident_id, members in sorted(by_incident.items()):
        for dest in sorted(set(destinations(min(members, key=headline_key)))):
            for o in members:
                if (dest, o.alert_id) in view.keys:
                    out.already_delivered += 1
                else:
                    pending[dest][incident_id].append(o)
    return pending


def _place(
    pending: Mapping[str, Mapping[str, list[Alert]]],
    view: _LogView,
    hist: Sequence[Alert],
    config: LifecycleConfig,
    destinations: Callable[[Alert], Sequence[str]],
    out: Plan,
) -> None:
    """Each pending incident: a reply in the open thread it continues (broadcast when it is news there),
    else a top-level post when any member is loud, else a summary line (where enabled) or nothing."""
    new_by_dest: dict[str, list[IncidentPlan]] = defaultdict(list)
    quiet_by_dest: dict[str, list[IncidentPlan]] = defaultdict(list)
    replies: dict[tuple[str, str, bool], list[IncidentPlan]] = defaultdict(list)
    reply_threads: dict[tuple[str, str, bool], Thread] = {}
    for dest in sorted(pending):
        for incident_id, members in sorted(pending[dest].items()):
            members.sort(key=lambda o: o.alert_id)
            streak, trend = _streak_and_trend(min(members, key=headline_key), hist)
            inc = IncidentPlan(incident_id, tuple(members), streak, trend)
            state = _thread_for(view, dest, incident_id, members, config)
            if state is not None:
                key = (dest, state.thread.root_ts, _is_news(state, members, config))
                replies[key].append(inc)
                reply_threads[key] = state.thread
            elif any(o.is_loud for o in members):
                new_by_dest[dest].append(inc)
            elif config.quiet_summary is True or inc.primary.team in (config.quiet_summary or ()):
                quiet_by_dest[dest].append(inc)
            else:
                out.quiet.append(inc)
    out.new_posts = [
        NewPost(d, tuple(incs), _held_for(d, incs, out.held, destinations)) for d, incs in sorted(new_by_dest.items())
    ]
    out.repeats = [Repeat(reply_threads[k], tuple(v), broadcast=k[2]) for k, v in sorted(replies.items())]
    out.summaries = [Summary(d, tuple(incs)) for d, incs in sorted(quiet_by_dest.items())]


def _is_news(state: _ThreadState, members: Sequence[Alert], config: LifecycleConfig) -> bool:
    """A loud member on a series the thread has not carried, or above the most severe it said for it."""
    return any(
        o.is_loud and severity_rank(o.severity) < state.series_severity.get(o.thread_series, 99) for o in members
    )


def _held_for(
    dest: str,
    incidents: Sequence[IncidentPlan],
    held: Sequence[Alert],
    destinations: Callable[[Alert], Sequence[str]],
) -> tuple[Alert, ...]:
    """The held rows a destination's digest counts: its own; with a data-health alert in it, also
    every incomplete_data hold (of any destination: the data-health alert says how many wait)."""
    own = [o for o in held if dest in destinations(o)]
    if any(o.domain == HEALTH_DOMAIN for inc in incidents for o in inc.alerts):
        own += [o for o in held if o.hold_reason == "incomplete_data" and o not in own]
    return tuple(own)


def _family(series: tuple[str, str, str, str]) -> tuple[str, str, str]:
    domain, scope, _metric, direction = series
    return (domain, scope, direction)


def _thread_for(
    view: _LogView, dest: str, incident_id: str, members: Sequence[Alert], config: LifecycleConfig
) -> _ThreadState | None:
    """The open thread an incident continues at `dest`, if any (most recently active first)."""
    same_incident = view.incident_thread.get((dest, incident_id))
    if same_incident is not None:
        return same_incident  # a member added late to an incident already delivered here
    if config.repeat_window_days <= 0:
        return None
    best: tuple[dt.date, str, _ThreadState] | None = None
    for (d, root), state in view.threads.items():
        if d != dest:
            continue
        # a thread continues a family: the same domain, scope and direction (an incident's key
        # without its day), so tokens today continue yesterday's DAU thread of that segment
        last_by_family: dict[tuple[str, str, str], dt.date] = {}
        worst_by_family: dict[tuple[str, str, str], int] = {}
        for s4, last in state.open_series().items():
            fam = _family(s4)
            last_by_family[fam] = max(last_by_family.get(fam, last), last)
            worst_by_family[fam] = min(worst_by_family.get(fam, 99), state.series_severity.get(s4, 99))
        escalates = any(
            o.is_loud
            and _family(o.thread_series) in last_by_family
            and severity_rank(o.severity) < worst_by_family[_family(o.thread_series)]
            for o in members
        )
        if escalates:  # worse than anything said in that thread: a new top-level post (Alertmanager re-notifies)
            continue
        for o in members:
            seen = last_by_family.get(_family(o.thread_series))
            if seen is None or not 0 <= (o.alert_date - seen).days <= config.repeat_window_days:
                continue
            if best is None or (seen, root) > best[:2]:
                best = (seen, root, state)
    return best[2] if best else None
