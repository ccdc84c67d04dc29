"""Pure: today's alert rows + what the delivery log remembers -> what to say, and where.

Alertmanager's group / repeat / resolve, for daily data:

* **new post**: an incident none of whose series has an open thread at the destination
  becomes part of the destination's top-level digest (one message, or a few when it is long);
  its message is the thread root of every incident it carries.
* **repeat**: an incident on a series (domain|scope|metric, same direction) that already has
  an open thread at the destination, delivered within `repeat_window_days`, is a reply in
  that thread ("day 4 in a row", the z trend) — no new top-level post. A thread continues a
  family (domain|scope|direction: an incident's key without its day), so today's tokens
  alert continues yesterday's DAU thread of the same segment. Unless it escalates: a
  severity band above anything said in that thread for the family is a new top-level post
  (so a notice-level wobble cannot swallow the onset of a real shift). A member added late
  to an incident already posted is a reply in its thread too.
* **resolved**: when every series of an open thread has been back inside its NOTICE band
  (no alert row for it, held or not) on `resolve_after_days` complete days, one "resolved"
  reply closes the thread; a later alert on it starts a new top-level post. Days whose
  data is not complete (fct_data_health) count neither way: hysteresis, so a level shift
  that fades in and out is not re-announced.
* **correction / withdrawal**: a delivered alert (alert date within
  `correction_window_days`) whose row now has another severity band or direction gets one
  correction reply in its thread; one that is gone from fct_alerts, or is held now for a
  reason other than `muted` (a mute silences, it does not withdraw) or `incomplete_data`
  (a released day stays held in the mart), gets one withdrawal reply.
* **chart**: each incident posted top-level gets its chart uploaded into its thread once.

Nothing here reads a clock, a file or a network: `plan()` is a function of its arguments.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alerting.delivery_log import ALERT_KINDS, OPENING_KINDS, LogEntry
from alerting.model import as_date, severity_rank

COST_DOMAIN = "gpu_cost"
HEALTH_DOMAIN = "data_health"
# fct_data_health source of each domain's day
DOMAIN_SOURCE = {"usage": "usage", COST_DOMAIN: "gpu_costs"}
NEVER_WITHDRAWN_FOR = frozenset({"muted", "snoozed", "incomplete_data"})  # silenced, not untrue


@dataclass(frozen=True)
class LifecycleConfig:
    repeat_window_days: int = 7  # 0: every incident is a new top-level post
    resolve_after_days: int = 3  # 0: no resolved notices (threads stay open until the window ends)
    correction_window_days: int = 7  # delivered alerts this recent are checked after rebuilds
    # quiet-only incidents (postable, none loud, no open thread): listed in one `Summary:` message a day
    # per channel when true; otherwise they stay in fct_alerts and the report only
    quiet_summary: bool = False
    release: bool = False  # `alerting release`: incomplete_data holds are postable

    def __post_init__(self) -> None:
        for name in ("repeat_window_days", "resolve_after_days", "correction_window_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 366:
                raise ValueError(f"{name} must be a whole number of days between 0 and 366, not {value!r}")

    @property
    def lookback_days(self) -> int:
        """How far back the log and the alert history are read."""
        return max(self.repeat_window_days, self.correction_window_days) + self.resolve_after_days + 14


def config_from_mapping(section: Mapping[str, Any] | None, **overrides: Any) -> LifecycleConfig:
    """The `[lifecycle]` table of channels.toml (unknown keys refused), then CLI overrides."""
    values: dict[str, Any] = dict(section or {})
    unknown = set(values) - {"repeat_window_days", "resolve_after_days", "correction_window_days", "quiet_summary"}
    if unknown:
        raise ValueError(f"[lifecycle] has unknown key(s): {', '.join(sorted(unknown))}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    if not isinstance(values.get("quiet_summary", False), bool):
        raise ValueError(f"quiet_summary must be true or false, not {values['quiet_summary']!r}")
    return LifecycleConfig(**values)


# --- inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One fct_alerts row as the lifecycle sees it (held rows included)."""

    alert_id: str
    incident_id: str
    alert_date: dt.date
    domain: str
    team: str | None
    scope: str
    metric: str
    rule: str
    severity: str
    direction: str | None
    z_score: float | None
    current_value: float | None
    is_postable: bool
    hold_reason: str | None
    is_incident_primary: bool = False  # the mart's headline of its incident
    is_loud: bool = False  # the policy lets it notify the channel (fct_alerts.is_loud)

    @property
    def series(self) -> tuple[str, str, str]:
        return (self.domain, self.scope, self.metric)

    @property
    def series_key(self) -> str:
        return "|".join((self.domain, self.scope, self.metric, self.rule))

    @property
    def thread_series(self) -> tuple[str, str, str, str]:
        return (*self.series, self.direction or "")

    def postable(self, config: LifecycleConfig) -> bool:
        return self.is_postable or (config.release and self.hold_reason == "incomplete_data")

    def loud(self, config: LifecycleConfig) -> bool:
        """May notify the channel: the policy's verdict, or a day the data team released (an outage is news)."""
        return self.is_loud or (config.release and self.hold_reason == "incomplete_data")


def log_fields(o: Observation) -> dict[str, Any]:
    """The delivery-log columns an alert fills (LogEntry field names)."""
    names = ("alert_id", "incident_id", "alert_date", "series_key", "severity", "direction", "z_score",
             "current_value", "team")  # fmt: skip
    return {name: getattr(o, name) for name in names}


def fallback_incident_id(domain: str, alert_date: dt.date, scope: str, direction: str | None) -> str:
    """PLAN.md's incident key (md5(domain|alert_date|scope|direction-or-'')) for marts without incident_id."""
    dir_part = "" if domain != "usage" else (direction or "")
    key = "|".join((domain, alert_date.isoformat(), scope, dir_part))
    return hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()


def observation_from_row(row: Mapping[str, Any]) -> Observation:
    """A fct_alerts row -> Observation; older marts without the lifecycle columns get PLAN.md fallbacks."""
    domain = str(row.get("domain") or "unknown")
    scope = str(row.get("scope") or "")
    alert_date = as_date(row["alert_date"])
    direction = row.get("direction")
    if "is_postable" in row and row["is_postable"] is not None:
        postable = bool(row["is_postable"])
        hold = row.get("hold_reason")
    else:  # before holds existed: suppressed == held
        postable = not bool(row.get("is_suppressed"))
        hold = None if postable else (row.get("suppression_reason") or "suppressed")
    z = row.get("z_score")
    value = row.get("current_value")
    return Observation(
        alert_id=str(row["alert_id"]),
        incident_id=str(row.get("incident_id") or fallback_incident_id(domain, alert_date, scope, direction)),
        alert_date=alert_date,
        domain=domain,
        team=row.get("team"),
        scope=scope,
        metric=str(row.get("metric") or ""),
        rule=str(row.get("rule") or ""),
        severity=str(row.get("severity") or "unknown").strip().lower(),
        direction=direction,
        z_score=None if z is None else float(z),
        current_value=None if value is None else float(value),
        is_postable=postable,
        hold_reason=hold,
        is_incident_primary=bool(row.get("is_incident_primary")),
        is_loud=bool(row.get("is_loud")),
    )


def run_day(domain: str, scope: str, usage_date: dt.date, cost_date: dt.date) -> dt.date:
    """The data day a run reports for a series: the finalised cost day for cost series."""
    if domain == COST_DOMAIN or (domain == HEALTH_DOMAIN and scope == DOMAIN_SOURCE[COST_DOMAIN]):
        return cost_date
    return usage_date


# --- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thread:
    destination: str
    root_ts: str
    channel_id: str | None  # the platform's channel id (None: post by channel name)


@dataclass(frozen=True)
class IncidentPlan:
    incident_id: str
    alerts: tuple[Observation, ...]  # the members this message delivers (postable, undelivered)
    streak_days: int = 1  # consecutive days (up to today) the primary's series has alert rows
    z_trend: tuple[tuple[dt.date, float], ...] = ()  # the primary series' z by day, oldest first

    @property
    def primary(self) -> Observation:
        return max(self.alerts, key=_headline)


@dataclass(frozen=True)
class NewPost:
    destination: str
    incidents: tuple[IncidentPlan, ...]
    # today's held rows this digest counts: those routed here, plus every incomplete_data hold
    # when it carries a data-health alert (that alert says how many wait for the data)
    held: tuple[Observation, ...] = ()


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
    day: dt.date

    @property
    def key(self) -> str:
        return summary_key(self.day)


@dataclass(frozen=True)
class Correction:
    thread: Thread
    alert: Observation  # as it is now
    was: LogEntry  # as it was last said
    key: str


@dataclass(frozen=True)
class Withdrawal:
    thread: Thread
    was: LogEntry
    reason: str  # "gone" or the hold_reason that now holds it
    key: str


@dataclass(frozen=True)
class ResolvedSeries:
    series: tuple[str, str, str]  # domain, scope, metric
    last_alert_date: dt.date
    quiet_days: int


@dataclass(frozen=True)
class Resolution:
    thread: Thread
    series: tuple[ResolvedSeries, ...]
    alert_date: dt.date  # the day it was judged (the series' run day)
    incident_id: str | None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(resolved_key(self.thread.root_ts, s.series, s.last_alert_date) for s in self.series)


@dataclass(frozen=True)
class ChartUpload:
    thread: Thread
    incident_id: str
    alert_date: dt.date

    @property
    def key(self) -> str:
        return chart_key(self.incident_id)


@dataclass
class Plan:
    new_posts: list[NewPost] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)
    corrections: list[Correction] = field(default_factory=list)
    withdrawals: list[Withdrawal] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    charts: list[ChartUpload] = field(default_factory=list)  # retries: incidents posted earlier without a chart
    held: list[Observation] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    quiet: list[IncidentPlan] = field(default_factory=list)  # postable, not loud, no thread, no summary route
    already_delivered: int = 0


def summary_key(day: dt.date) -> str:
    return f"summary|{day.isoformat()}"


def chart_key(incident_id: str) -> str:
    return f"chart|{incident_id}"


def resolved_key(root_ts: str, series: tuple[str, str, str], last_alert_date: dt.date) -> str:
    """One per episode: a series resolved, back in the thread later, and resolved again gets a new key."""
    return f"resolved|{root_ts}|{'|'.join(series)}|{last_alert_date.isoformat()}"


def change_key(alert_id: str, kind: str, seq: int) -> str:
    return f"{alert_id}|{kind}|{seq}"


def _headline(o: Observation) -> tuple[bool, int, float, str]:
    """max() key of an incident's headline: the mart's primary, then the most severe, the largest |z|."""
    return (o.is_incident_primary, -severity_rank(o.severity), abs(o.z_score or 0.0), o.alert_id)


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
    incident_opened: dict[tuple[str, str], bool]
    keys: set[tuple[str, str]]  # (dest, delivery_key)


def _read_log(entries: Iterable[LogEntry]) -> _LogView:
    view = _LogView({}, {}, defaultdict(list), {}, {}, set())
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
                view.incident_opened[(e.destination, e.incident_id)] = True
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


def streak_days(primary: Observation, history: Iterable[Observation]) -> int:
    """Consecutive days up to the primary's day on which its series has an alert row (held or not)."""
    days = {o.alert_date for o in history if o.series == primary.series}
    days.add(primary.alert_date)
    streak, day = 0, primary.alert_date
    while day in days:
        streak += 1
        day -= dt.timedelta(days=1)
    return streak


def _streak_and_trend(
    primary: Observation, history: Sequence[Observation]
) -> tuple[int, tuple[tuple[dt.date, float], ...]]:
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


def plan(
    *,
    today: Sequence[Observation],
    history: Sequence[Observation],
    log: Sequence[LogEntry],
    destinations: Callable[[Observation], Sequence[str]],
    usage_date: dt.date,
    cost_date: dt.date,
    config: LifecycleConfig,
    data_health: Mapping[tuple[dt.date, str], str] | None = None,
) -> Plan:
    """What this run says. `today`: the run-day rows; `history`: rows of the look-back (any day)."""
    out = Plan()
    view = _read_log(log)
    hist = list({o.alert_id: o for o in [*history, *today]}.values())

    # 1. new alerts: a new top-level post, a reply in an open thread, or a summary line
    pending = _pending(today, view, destinations, config, out)
    _place(pending, view, hist, config, destinations, out)

    # 2. corrections and withdrawals of delivered alerts after a rebuild
    now_by_id = {o.alert_id: o for o in hist}
    for (dest, alert_id), rows in sorted(view.alert_history.items()):
        delivered = [r for r in rows if r.kind in ALERT_KINDS]
        if not delivered:
            continue
        first, last = delivered[0], rows[-1]
        if first.alert_date is None:
            continue
        domain = (_series_of_key(first.series_key) or ("", "", ""))[0]
        scope = (_series_of_key(first.series_key) or ("", "", ""))[1]
        horizon = run_day(domain, scope, usage_date, cost_date) - dt.timedelta(days=config.correction_window_days)
        if first.alert_date < horizon or first.alert_date > max(usage_date, cost_date):
            continue
        state = view.alert_thread.get((dest, alert_id))
        if state is None:
            continue
        seq = sum(1 for r in rows if r.kind in ("correction", "withdrawal")) + 1
        now = now_by_id.get(alert_id)
        if last.kind == "withdrawal":
            if now is not None and now.postable(config):
                out.corrections.append(Correction(state.thread, now, last, change_key(alert_id, "correction", seq)))
            continue
        if now is None or (not now.postable(config) and now.hold_reason not in NEVER_WITHDRAWN_FOR):
            reason = "gone" if now is None else str(now.hold_reason or "held")
            out.withdrawals.append(Withdrawal(state.thread, last, reason, change_key(alert_id, "withdrawal", seq)))
            continue
        if not now.postable(config):
            continue  # muted / released: silenced, not withdrawn
        severity_changed = (last.severity or "") != now.severity
        direction_changed = bool(last.direction) and (last.direction or "") != (now.direction or "")
        if severity_changed or direction_changed:
            out.corrections.append(Correction(state.thread, now, last, change_key(alert_id, "correction", seq)))

    # 3. resolved: every open series of a thread back in band on N complete days closes the thread
    if config.resolve_after_days > 0:
        touched = {(r.thread.destination, r.thread.root_ts) for r in out.repeats}
        last_row: dict[tuple[str, str, str], dt.date] = {}
        for o in hist:
            last_row[o.series] = max(last_row.get(o.series, o.alert_date), o.alert_date)
        for (dest, root), state in sorted(view.threads.items()):
            open_series = state.open_series()
            if (dest, root) in touched or not open_series:
                continue
            quiet_series: dict[tuple[str, str, str], ResolvedSeries] = {}
            judged: dt.date | None = None
            for s4, last_delivered in sorted(open_series.items()):
                s3 = s4[:3]
                day = run_day(s3[0], s3[1], usage_date, cost_date)
                last_seen = max(last_row.get(s3, last_delivered), last_delivered)
                quiet = sum(
                    1
                    for i in range(1, max((day - last_seen).days, 0) + 1)
                    if _complete(data_health, last_seen + dt.timedelta(days=i), s3[0])
                )
                if quiet < config.resolve_after_days:
                    break  # one series still out (or not quiet long enough): the thread stays open
                # a series may be in a thread with both directions: resolved once
                quiet_series[s3] = ResolvedSeries(s3, last_seen, quiet)
                judged = max(judged or day, day)
            else:
                if quiet_series and judged is not None:
                    out.resolutions.append(
                        Resolution(state.thread, tuple(quiet_series.values()), judged, state.first_incident)
                    )

    # 4. charts not uploaded yet for incidents already posted top-level (a failed upload is retried)
    today_incidents = {(o.incident_id, o.alert_date) for o in today}
    for incident_id, alert_date in sorted(today_incidents):
        for (dest, inc), opened in sorted(view.incident_opened.items()):
            if inc != incident_id or not opened or (dest, chart_key(incident_id)) in view.keys:
                continue
            state = view.incident_thread[(dest, incident_id)]
            if state.thread.channel_id:
                out.charts.append(ChartUpload(state.thread, incident_id, alert_date))
    return out


def _pending(
    today: Sequence[Observation],
    view: _LogView,
    destinations: Callable[[Observation], Sequence[str]],
    config: LifecycleConfig,
    out: Plan,
) -> dict[str, dict[str, list[Observation]]]:
    """Today's postable, undelivered members per destination and incident.

    An incident goes where its headline alert is routed, whole: each channel gets it once.
    """
    by_incident: dict[str, list[Observation]] = defaultdict(list)
    for o in today:
        if o.postable(config):
            by_incident[o.incident_id].append(o)
        else:
            out.held.append(o)
    pending: dict[str, dict[str, list[Observation]]] = defaultdict(lambda: defaultdict(list))
    for incident_id, members in sorted(by_incident.items()):
        for dest in sorted(set(destinations(max(members, key=_headline)))):
            for o in members:
                if (dest, o.alert_id) in view.keys:
                    out.already_delivered += 1
                else:
                    pending[dest][incident_id].append(o)
    return pending


def _place(
    pending: Mapping[str, Mapping[str, list[Observation]]],
    view: _LogView,
    hist: Sequence[Observation],
    config: LifecycleConfig,
    destinations: Callable[[Observation], Sequence[str]],
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
            streak, trend = _streak_and_trend(max(members, key=_headline), hist)
            inc = IncidentPlan(incident_id, tuple(members), streak, trend)
            state = _thread_for(view, dest, incident_id, members, config)
            if state is not None:
                key = (dest, state.thread.root_ts, _is_news(state, members, config))
                replies[key].append(inc)
                reply_threads[key] = state.thread
            elif any(o.loud(config) for o in members):
                new_by_dest[dest].append(inc)
            elif config.quiet_summary:
                quiet_by_dest[dest].append(inc)
            else:
                out.quiet.append(inc)
    out.new_posts = [
        NewPost(d, tuple(incs), _held_for(d, incs, out.held, destinations)) for d, incs in sorted(new_by_dest.items())
    ]
    out.repeats = [Repeat(reply_threads[k], tuple(v), broadcast=k[2]) for k, v in sorted(replies.items())]
    out.summaries = [
        Summary(d, tuple(incs), max(o.alert_date for inc in incs for o in inc.alerts))
        for d, incs in sorted(quiet_by_dest.items())
    ]


def _is_news(state: _ThreadState, members: Sequence[Observation], config: LifecycleConfig) -> bool:
    """A loud member on a series the thread has not carried, or above the most severe it said for it."""
    return any(
        o.loud(config) and severity_rank(o.severity) < state.series_severity.get(o.thread_series, 99) for o in members
    )


def _held_for(
    dest: str,
    incidents: Sequence[IncidentPlan],
    held: Sequence[Observation],
    destinations: Callable[[Observation], Sequence[str]],
) -> tuple[Observation, ...]:
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
    view: _LogView, dest: str, incident_id: str, members: Sequence[Observation], config: LifecycleConfig
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
            last = last_by_family.get(_family(o.thread_series))
            if last is None or last > o.alert_date:
                continue
            if (o.alert_date - last).days > config.repeat_window_days:
                continue
            if best is None or (last, root) > best[:2]:
                best = (last, root, state)
    return best[2] if best else None
