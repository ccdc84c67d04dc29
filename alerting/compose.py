"""What each message says: incidents, digests and lifecycle notices -> neutral MessageBody (pure).

Every data string enters through `message.d` (cleaned and capped); no rule name appears here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerting import model, sanitize, values
from alerting.delivery_log import LogEntry
from alerting.lifecycle import DOMAIN_SOURCE, Correction, IncidentPlan, Resolution, Withdrawal, series_of_key
from alerting.message import Line, MessageBody, Section, Span, d, icon, line, t
from alerting.model import SEVERITY_ORDER, Alert, Concentration, CostComponent, Incident, group_incidents, severity_rank
from alerting.pipeline_health import Failure, StaleSource

PRODUCT = "LTX monitoring"
HOLD_REASONS = {
    "enterprise_weekend": "enterprise weekend",
    "insufficient_baseline": "too few baseline points",
    "incomplete_data": "day not completely loaded",
    "muted": "muted",
    "snoozed": "snoozed from Slack",
}
QUIET_REASONS = {  # fct_alerts.quiet_reason (int_alerts__loudness decides it), as a Summary: message says it
    "below_severity": "a NOTICE never notifies on its own",
    "small_effect": "too small a change to matter, whatever its z",
    "reclassified": "most of the change is users the weekly heavy rule moved between segments, not usage",
    "few_users": "one or two users made most of the change: their accounts' event, not the segment's",
    "not_significant": "within what chance gives over the series tested that day",
}
LOUD_REASONS = {  # fct_alerts.loud_reason in the loudness model's order: which way a loud alert passed
    "family_wise": "surprising across every series tested that day, within the channel's false-alarm budget",
    "large_effect": "a large change of a series that moves the product, surprising on its own",
    "account_drop": "a large drop of an account segment (the playbook's churn risk), surprising on its own",
    "threshold": "a fixed threshold crossed",
}
ROUTE_FLOOR = "below this channel's severity floor (loud_min_severity in the routes)"
DRIVERS_SHOWN = 3
COMPONENTS_SHOWN = 3
COMPONENT_MIN_SHARE = 0.10  # a decomposition component, or a user, is named when it holds >= 10% of the change
NAME_MIN_SHARE = 0.50  # an org / endpoint / process is named only when it drives >= 50% of the change
FLAT_REQUESTS = 0.02  # |request change| below 2% reads "requests flat"
MIX = "(mix)"  # decomposition row: traffic moving between contributors, never a culprit
USER_TYPES = frozenset({"user", "lt_id"})
USER_ID_CAP = 10  # user ids (lt_id) are shown truncated: enough to look one up, not to copy a list
TOP_USER_ID_CAP = 9  # concentration line: the first 8 characters of an lt_id and '…'
TOP_USERS_NAMED = 3
PIPELINE_FAILURES_SHOWN = 10
# a cost metric that is a quantity the decomposition splits: the components that add up to it (none named: all of
# them, the infrastructure total); a cause whose change of it ran the other way does not explain the alert
MEASURED_PART = {"infra_cost": (), "inference_cost": model.REQUEST_COMPONENTS, "idle_cost": ("idle",)}


def _severity(severity: str | None, direction: str | None = None) -> list[Span]:
    """'WARNING increase': a known severity as template text, anything else (and the direction) as data."""
    key = (severity or "").strip().lower()
    spans = [t(key.upper())] if key in SEVERITY_ORDER else [d((severity or "unknown").upper(), 20)]
    return spans + ([t(" "), d(direction, 20)] if direction else [])


def _joined(parts: Iterable[list[Span]], sep: str) -> list[Span]:
    return [span for i, part in enumerate(parts) for span in ([t(sep), *part] if i else part)]


def title_spans(scope: str | None, metric: str | None, strong: bool = True) -> list[Span]:
    """'Free – Tokens' (names from the value tables; unknown names as cleaned data)."""
    return [
        d(values.display_scope(scope), strong=strong),
        t(" – ", strong=strong),
        d(values.display_metric(metric), strong=strong),
    ]


def _lowered(label: str) -> str:
    return label[:1].lower() + label[1:]


def _baseline(alert: Alert) -> str:
    return values.baseline_label(alert.baseline_kind, alert.baseline_points, alert.alert_date)


def _threshold(alert: Alert) -> str | None:
    return values.threshold_text(alert.threshold_kind, alert.threshold, alert.unit, alert.direction)


def numbers_lines(alert: Alert) -> list[Line]:
    """'Current: … | <baseline label>: … | Std Dev (σ): …' and 'Z-score: … | Change: … | Threshold: …'."""
    first = f"Current: {values.format_value(alert.current_value, alert.unit)} | {_baseline(alert)}: "
    first += values.format_value(alert.baseline_mean, alert.unit)
    if alert.baseline_stddev is not None:
        first += f" | Std Dev ({values.sigma_label(alert.baseline_stddev_kind)}): "
        first += values.format_value(alert.baseline_stddev, alert.unit)
    second: list[str] = []
    if values.finite(alert.z_score):
        second.append(f"{values.z_label(alert.threshold_kind)}: {values.format_z(alert.z_score)}")
    change, now, base = values.format_change(alert.pct_change), alert.current_value, alert.baseline_mean
    if not values.finite(alert.pct_change) and now is not None and base is not None:  # from 0: no percentage
        change = values.format_delta(now - base, alert.unit)  # n/a when either is not finite
    second.append(
        f"Change: {change} from mean"
        if values.is_mean(alert.baseline_kind)
        else f"Change: {change} vs {_lowered(_baseline(alert))}"
    )
    if _threshold(alert):
        second.append(f"Threshold: {_threshold(alert)}")
    return [line(first), line(" | ".join(second))]


def headline(alert: Alert) -> Line:
    spans = [icon(alert.severity), t(" "), *title_spans(alert.scope, alert.metric), t(" · ")]
    return (*spans, *_severity(alert.severity, alert.direction))


def member_line(alert: Alert) -> Line:
    text = (
        f": {values.format_value(alert.current_value, alert.unit)} vs {_lowered(_baseline(alert))} "
        f"{values.format_value(alert.baseline_mean, alert.unit)} ({values.format_change(alert.pct_change)})"
    )
    if values.finite(alert.z_score):
        text += f", {values.z_label(alert.threshold_kind, short=True)} {values.format_z(alert.z_score)}"
    if _threshold(alert):
        text += f", threshold {_threshold(alert)}"
    metric = [t("↳ "), d(values.display_metric(alert.metric)), t(" · ")]
    return (*metric, *_severity(alert.severity), t(text))


def _component_phrase(c: CostComponent) -> list[Span]:
    volume = c.component == "request_volume" and values.finite(c.pct_change)
    if volume and abs(c.pct_change or 0) < FLAT_REQUESTS:
        return [t(f"requests flat ({values.format_change(c.pct_change)})")]
    share = f"{values.format_share(c.share_of_change)} of the change"
    delta = values.format_delta(c.delta_usd, "usd")
    if volume:  # requests +61.5% (+$420.00, 84% of the change)
        return [t(f"requests {values.format_change(c.pct_change)} ({delta}, {share})")]
    return [d(values.display_component(c.component), 40), t(f" {delta} ({share})")]


def _of_the_change(c: CostComponent) -> list[Span]:
    """'infrastructure cost +$516.82 (+179.0%) vs 7-day average $288.80: ': what the shares are of, which is not
    always the headline's baseline (a same-weekday z). Its percentage sits beside the requests' own: a request
    costs more when the cost fell less than the requests did."""
    if not (values.finite(c.infra_change) and values.finite(c.baseline_infra_cost)):
        return []
    label = _lowered(values.baseline_label(c.baseline_kind))
    change = values.format_delta(c.infra_change, "usd")
    base = c.baseline_infra_cost or 0.0
    if base > 0:
        change += f" ({values.format_change((c.infra_change or 0.0) / base)})"
    return [t(f"{c.of} {change} vs {label} {values.format_value(c.baseline_infra_cost, 'usd')}: ")]


def decomposition_line(components: Sequence[CostComponent]) -> Line | None:
    """'Cause: idle +$348.00 (98% of the change); requests flat (+0.3%)' plus who drove it, if anyone did."""
    totals = [c for c in components if not c.contributor]
    if not totals:
        return None
    ranked = sorted(totals, key=lambda c: (-abs(c.delta_usd or 0.0), c.component))
    shown = [c for c in ranked if abs(c.share_of_change or 0.0) >= COMPONENT_MIN_SHARE][:COMPONENTS_SHOWN] or ranked[:1]
    volume = next((c for c in totals if c.component == "request_volume" and values.finite(c.pct_change)), None)
    if volume is not None and volume not in shown:
        shown.append(volume)
    no_traffic = volume is not None and (volume.pct_change or 0.0) <= -1.0
    spans = [t("Cause: "), *_of_the_change(totals[0]), *_joined((_component_phrase(c) for c in shown), "; ")]
    # who drove it: at most two contributors holding NAME_MIN_SHARE of the change
    named = [
        c for c in components if c.contributor not in (None, "", MIX) and (c.share_of_change or 0.0) >= NAME_MIN_SHARE
    ]
    if no_traffic:  # every contributor fell to zero: the largest "drove" the fall only by being the largest
        named = [c for c in named if c.component not in ("request_volume", "request_rate")]
    for c in sorted(named, key=lambda c: -(c.share_of_change or 0.0))[:2]:
        kind = d(values.humanise(c.contributor_type).lower() or "contributor", 30)
        change = f" {values.format_delta(c.delta_usd, 'usd')} ({values.format_share(c.share_of_change)} of the change)"
        spans += [t("; driven by "), kind, t(" "), d(c.contributor, strong=True), t(change)]
    return tuple(spans)


def concentration_line(c: Concentration, unit: str | None) -> Line:
    """Said instead of tier drivers where a tier breakdown can name only one tier: how many users moved
    it, how much the top few hold (a bot or abuse signal), new vs returning users."""
    moving = c.users_moving_with_change
    spans = [t("Users: "), t("n/a" if moving is None else f"{values.plural(moving, 'user')} moved with the change")]
    if c.users_for_half_of_change is not None:
        spans.append(t(f", {c.users_for_half_of_change:,} make half of it"))
    n = c.top_users_n or len(c.top_users)  # a user is named only when it moves the segment (a DAU user never does)
    named = [u for u in c.top_users[:TOP_USERS_NAMED] if abs(u.share_of_change or 0.0) >= COMPONENT_MIN_SHARE]
    if values.finite(c.top_users_share_of_change):  # '; top 5 users 62% of the change (the largest 3: …)'
        top = values.plural(n, "user")
        spans.append(t(f"; top {top} {values.format_share(c.top_users_share_of_change)} of the change"))
        if named:  # 'lt_01234… +600,000 (42%, new); …'
            largest = "the largest" if len(named) == 1 else f"the largest {len(named)}"
            spans.append(t(" (" if len(named) == n else f" ({largest}: "))
            phrases = (
                [d(u.lt_id, TOP_USER_ID_CAP, strong=True), t(f" {values.format_delta(u.delta, unit)}"),
                 t(f" ({values.format_share(u.share_of_change)}{', new' if u.is_new_user else ''})")]
                for u in named
            )  # fmt: skip
            spans += [*_joined(phrases, "; "), t(")")]
    if c.new_users is not None:
        share = values.format_share(c.new_user_share_of_change)
        spans.append(t(f"; new users (first seen recently): {c.new_users:,}, {share} of the change"))
    return tuple(spans)


def drivers_line(alert: Alert) -> Line | None:
    if alert.concentration is not None and alert.concentration.uses_drilldown:
        return concentration_line(alert.concentration, alert.unit)
    if alert.drivers:
        ordered = sorted(alert.drivers, key=lambda x: (x.rank, x.breakdown_order, x.contributor))
        phrases = []
        for x in ordered[:DRIVERS_SHOWN]:
            u = x.unit or alert.unit
            cap = USER_ID_CAP if x.contributor_type.strip().lower() in USER_TYPES else sanitize.NAME_CAP
            expected = " expected" if x.driver_metric == "failed_requests" else ""
            text = (
                f": {values.format_value(x.value, u)} vs {values.format_value(x.baseline_value, u)}{expected}"
                f" ({values.format_delta(x.delta, u)}, {values.format_share(x.share_of_delta)} of change)"
            )
            phrases.append([d(x.contributor, cap, strong=True), t(" ("), d(x.contributor_type, 30), t(")"), t(text)])
        spans = [t("Drivers: "), *_joined(phrases, "; ")]
        if len(ordered) > DRIVERS_SHOWN:
            spans.append(t(f"; and {len(ordered) - DRIVERS_SHOWN} more"))
        return tuple(spans)
    if alert.drivers_summary and alert.drivers_summary.strip():
        return line("Drivers: ", d(alert.drivers_summary, sanitize.TEXT_CAP))
    return None


def _known_event(alert: Alert) -> list[Line]:
    """'Known event: Thanksgiving Day': the known event of the alert's day (seed calendar_events). Not 'Expected:' -
    a change that began before the event is not explained by it (fct_alerts.recommended_action says which)."""
    return [line(t("Known event: ", strong=True), d(alert.calendar_event))] if alert.calendar_event else []


def why_quiet(alert: Alert) -> list[Line]:
    """Why a quiet incident (a Summary: line, a report card) did not notify: its known event, or the loud rule's
    quiet_reason, or (loud in the mart) the route's own severity floor."""
    if alert.calendar_event:
        return _known_event(alert)
    reason = alert.quiet_reason
    said = t(QUIET_REASONS[reason]) if reason in QUIET_REASONS else d(reason, 40) if reason else t(ROUTE_FLOOR)
    return [line(t("Why quiet: ", strong=True), said)]


def loud_way(reasons: Iterable[str | None]) -> str | None:
    """An incident's way to loud: the first, in the loudness model's order, of its loud alerts' loud_reason."""
    given = set(reasons)
    return next((way for way in LOUD_REASONS if way in given), None)


def why_loud(incident: Incident) -> str | None:
    """Why a loud incident notified (the report's card), in words."""
    way = loud_way(a.loud_reason for a in incident.alerts if a.is_loud)
    return LOUD_REASONS[way] if way else None


def caveats(alert: Alert) -> list[str]:
    out: list[str] = []
    if alert.has_insufficient_baseline:
        n = alert.baseline_points
        out.append(f"only {values.plural(n, 'baseline point')}" if n is not None else "too few baseline points")
    if alert.is_low_variance:
        sigma = values.format_value(alert.baseline_stddev, alert.unit)
        out.append(f"the baseline barely varies (σ {sigma}), so small changes score high")
    if alert.has_baseline_outlier:
        when = f" on {alert.baseline_outlier_date.isoformat()}" if alert.baseline_outlier_date else ""
        out.append(f"baseline holds an outlier{when}")
        if values.finite(alert.robust_z_score):
            agrees = "agrees" if alert.robust_agrees else "disagrees"
            out[-1] += f"; the robust score ({values.format_z(alert.robust_z_score)}) {agrees}"
    if alert.is_baseline_valid is False and not out:
        out.append("the baseline did not pass its validity checks")
    return out


def action_line(alert: Alert) -> Line:  # the mart decides every alert's action (fct_alerts: not null)
    return line(t("Action: ", strong=True), d(alert.recommended_action, sanitize.TEXT_CAP))


def data_health_lines(alert: Alert, held_today: Iterable[Alert]) -> list[Line]:
    """'usage for 2026-11-22: 38% of the expected rows for a Sunday; 12 segment alerts held ...'."""
    day, unit = alert.alert_date, alert.unit or "rows"
    waiting = [a for a in held_today if a.hold_reason == "incomplete_data" and a.alert_date == day]
    held = sum(DOMAIN_SOURCE.get(a.domain, a.domain) == alert.scope for a in waiting)  # those of this source
    expected = values.format_value(alert.baseline_mean, unit)
    wday = f"{day:%A}"
    if not values.finite(alert.current_value) or (alert.current_value or 0.0) <= 0:
        state = f"no rows loaded (expected {expected} for a {wday})"
    else:
        share = (alert.current_value or 0.0) / alert.baseline_mean if alert.baseline_mean else None
        loaded = values.format_value(alert.current_value, unit)
        state = f"{values.pct(share, 0)} of the expected rows for a {wday} ({loaded} of {expected})"
    first = [d(alert.scope, 40, strong=True), t(f" for {day.isoformat()}: {state}")]
    if held:  # a missing day has no alerts to hold: say nothing rather than "0 held"
        what = "segment alert" if alert.scope == "usage" else "alert"
        first.append(t(f"; {values.plural(held, what)} held until the day is complete"))
    out = [tuple(first)]
    if alert.drivers_summary and alert.drivers_summary.strip():  # both readings: a partial load or a real drop
        out.append(line(d(alert.drivers_summary, sanitize.TEXT_CAP)))
    command = f"python -m alerting release --date {day.isoformat()}"
    if held and command not in (alert.recommended_action or ""):  # the shipped action names it: said once
        out.append(line(f"If the data team confirms the day is real (an outage): `{command}`"))
    return out


def _own_change(alert: Alert) -> dict[str, tuple[float, float | None, str | None]]:
    """A cost headline's own quantity (MEASURED_PART) as each cause measures it: {'decomposition' | 'drivers':
    (change, baseline or None, baseline kind)}; nothing for another metric (a ratio, a rate, a usage series)."""
    part = MEASURED_PART.get(alert.metric or "")
    if alert.domain != "gpu_cost" or part is None:
        return {}
    out: dict[str, tuple[float, float | None, str | None]] = {}
    rows = [c for c in alert.decomposition if c.contributor is None and c.component in (part or [c.component])]
    if rows:  # the whole: the infrastructure total's baseline, or the components' own (the request rows': inference)
        base = rows[0].baseline_cost if part else rows[0].baseline_infra_cost
        out["decomposition"] = (sum(c.delta_usd or 0.0 for c in rows), base, rows[0].baseline_kind)
    if alert.drivers:  # one breakdown adds up to the change: the first
        first = [x for x in alert.drivers if x.breakdown_order == min(y.breakdown_order for y in alert.drivers)]
        base = sum(x.baseline_value or 0.0 for x in first)
        out["drivers"] = (sum(x.delta or 0.0 for x in first), base, first[0].baseline_kind)
    return out


def _against(alert: Alert) -> dict[str, tuple[float, float | None, str | None]]:
    """The causes whose own change of the headline's quantity ran the other way than the headline: year 4's Studio
    Saturday was 'WARNING increase' against 'expected after a typical Saturday change' (it fell less than
    Saturdays do) while every part fell against the previous day and the 7-day average alike."""
    sign = {"increase": 1, "decrease": -1}.get((alert.direction or "").strip().lower(), 0)
    return {k: v for k, v in _own_change(alert).items() if v[0] * sign < 0}


def _contrary_line(alert: Alert, change: float, base: float | None, kind: str | None) -> Line:
    """'Cause: no part rose: infrastructure cost -$113.54 (-31.8%) vs previous day $357.59; high only against
    expected after a typical Saturday change'."""
    up = (alert.direction or "").strip().lower() == "increase"
    moved = values.format_delta(change, "usd") + (f" ({values.format_change(change / base)})" if base else "")
    since = _lowered(values.baseline_label(kind)) + (f" {values.format_value(base, 'usd')}" if base else "")
    what = d(_lowered(values.display_metric(alert.metric)))
    tail = f" {moved} vs {since}; {'high' if up else 'low'} only against {_lowered(_baseline(alert))}"
    return line(t(f"Cause: no part {'rose' if up else 'fell'}: "), what, t(tail))


def explanation(incident: Incident) -> list[Line]:
    """What the action line points at, in a first post and in a thread reply alike: the cause (the decomposition
    when any member carries one, else the primary's, then any member's, drivers), the day's known event and the
    headline's caveats. A cause whose change of its alert's own quantity ran the other way is left out; the
    headline's is said instead, before any member's drivers."""
    primary = incident.primary
    against = _against(primary)
    found = [] if "decomposition" in against else [decomposition_line(a.decomposition) for a in incident.alerts]
    contrary = [_contrary_line(primary, *(against.get("drivers") or against["decomposition"]))] if against else []
    own = [] if "drivers" in against else [drivers_line(primary)]
    members = [drivers_line(a) for a in incident.members if "drivers" not in _against(a)]
    cause = next((x for x in [*found, *own, *contrary, *members] if x), None)
    notes = caveats(primary)
    caveat = [line("Caveat: " + "; ".join(notes))] if notes else []
    return [*([cause] if cause else []), *_known_event(primary), *caveat]


def _streak(n: int) -> str:
    return f" · day {n} in a row" if n > 1 else ""


def _trend_lines(incident: IncidentPlan) -> list[Line]:
    """'Z trend: -3.14 → -4.12 → -5.60' over the headline series' run of days (nothing for one day)."""
    trend = [values.format_z(z, sign=True) for _, z in incident.z_trend if values.finite(z)]
    return [line(f"Z trend: {' → '.join(trend)}")] if len(trend) > 1 else []


def incident_section(incident: Incident, held: Sequence[Alert] = (), plan: IncidentPlan | None = None) -> Section:
    """An incident in a first post: which day of its run the headline series is (fct_alerts.run_days: it may have
    alerted on the days before, held, quiet or in another thread) and, from the lifecycle's `plan`, the z trend."""
    primary = incident.primary
    if primary.domain == "data_health":
        lines = [headline(primary), *data_health_lines(primary, held), action_line(primary)]
        return Section(tuple(lines), incident.alert_ids)
    head = (*headline(primary), t(_streak(primary.run_days)))
    lines = [head, *numbers_lines(primary), *(_trend_lines(plan) if plan else [])]
    lines += [member_line(m) for m in incident.members]
    return Section((*lines, *explanation(incident), action_line(primary)), incident.alert_ids, incident.incident_id)


@dataclass(frozen=True)
class Digest:
    channel: str
    teams: tuple[str, ...]
    usage_date: dt.date
    cost_date: dt.date
    alerts: tuple[Alert, ...]
    held: tuple[Alert, ...] = ()  # held today (for the counts line), never shown
    report_url: str | None = None  # the day's HTML report (LTX_REPORT_BASE_URL), linked from the header
    plans: tuple[IncidentPlan, ...] = ()  # the lifecycle's incidents: each headline's z trend


def _days_text(usage_date: dt.date, cost_date: dt.date, domains: set[str]) -> str:
    usage, cost = f"usage day {usage_date.isoformat()}", f"cost day {cost_date.isoformat()}"
    return cost if domains == {"gpu_cost"} else f"{usage}, {cost}" if "gpu_cost" in domains else usage


def _team_head(name: str, teams: Iterable[str], tail: str) -> Line:
    """'<icon> LTX monitoring · <teams> · <tail>'."""
    names = [sanitize.clean(x, 30) for x in teams if sanitize.clean(x, 30)]
    return line(icon(name), t(f" {PRODUCT} · "), d(", ".join(names) or "unassigned", 60), t(f" · {tail}"))


def digest(post: Digest) -> MessageBody | None:
    incidents = group_incidents(post.alerts)
    if not incidents:
        return None
    domains = {a.domain for a in post.alerts}
    days = _days_text(post.usage_date, post.cost_date, domains)
    kind = "alert" if incidents[0].severity == "critical" else "digest"
    head = _team_head(kind, post.teams, f"{days} · {values.plural(len(incidents), 'incident')}")
    # '8 alerts in 1 incident: 7 critical, 1 warning · held: muted 2 · charts and history in the report'
    severities = Counter(a.severity for inc in incidents for a in inc.alerts)
    ranked = sorted(severities.items(), key=lambda kv: (severity_rank(kv[0]), kv[0]))
    spans = [t(f"{values.plural(len(post.alerts), 'alert')} in {values.plural(len(incidents), 'incident')}: ")]
    tally = ([t(f"{n} "), t(s.strip().lower()) if s.strip().lower() in SEVERITY_ORDER else d(s, 20)] for s, n in ranked)
    spans += _joined(tally, ", ")
    if "gpu_cost" in domains and domains - {"gpu_cost"}:
        spans.append(t(f" · cost alerts are for the finalised cost day {post.cost_date.isoformat()}"))
    held = sorted(Counter(a.hold_reason or "held" for a in post.held).items())
    if held:
        named = ([t(HOLD_REASONS[r]) if r in HOLD_REASONS else d(r, 30), t(f" {n}")] for r, n in held)  # 'muted 2'
        spans += [t(" · held: "), *_joined(named, ", ")]
    if post.report_url:
        spans += [t(" · "), Span("charts and history in the report", link=post.report_url)]
    intro = Section((tuple(spans),), context=True)
    plans = {p.incident_id: p for p in post.plans}
    sections = tuple(incident_section(inc, post.held, plans.get(inc.incident_id)) for inc in incidents)
    return MessageBody(head, intro, sections)


def summary(alerts: Sequence[Alert], usage_date: dt.date, cost_date: dt.date) -> MessageBody:
    """The quiet-only incidents of a channel's day in one message whose text starts `Summary:` (not notified),
    each headline with its day of the run, as a first post says it."""
    incidents = group_incidents(alerts)
    days = _days_text(usage_date, cost_date, {a.domain for a in alerts})
    head = line(t(f"Summary: {values.plural(len(incidents), 'quiet incident')} · {PRODUCT} · {days}"))
    note = line("Below the bar for a notification, each for the reason it gives; kept in fct_alerts.")

    def section(inc: Incident) -> Section:
        title = (*headline(inc.primary), t(_streak(inc.primary.run_days)))
        return Section((title, *(member_line(m) for m in inc.alerts), *why_quiet(inc.primary)), inc.alert_ids)

    return MessageBody(head, Section((note,), context=True), tuple(map(section, incidents)))


def _reply(head: Line, lines: Sequence[Line]) -> MessageBody:
    return MessageBody(head, sections=(Section(tuple(lines)),))


def _titled(name: str, label: str, scope: str | None, metric: str | None, strong: bool = False) -> Line:
    return line(icon(name), t(f" {label}: "), *title_spans(scope, metric, strong))


def _state_spans(prefix: str, said: Alert | LogEntry) -> list[Span]:
    """'now WARNING increase, z +3.36' (severity and direction are data: spans, never template text)."""
    spans = [t(prefix + " "), *_severity(said.severity, said.direction)]
    if values.finite(said.z_score):
        spans.append(t(f", z {values.format_z(said.z_score, sign=True)}"))
    return spans


def _news_lines(incident: IncidentPlan) -> list[Line]:
    """What makes a reply news (Slack broadcasts it to the channel): 'News: Video generations · WARNING, not announced
    in this thread before'."""
    if not incident.news:
        return []
    news = ([d(values.display_metric(o.metric)), t(" · "), *_severity(o.severity)] for o in incident.news)
    said = _joined(news, "; ")
    return [line(t("News: ", strong=True), *said, t(", not announced in this thread before"))]


def repeats(incidents: Sequence[IncidentPlan]) -> MessageBody:
    """One thread reply for the incidents that continue: 'day 4 in a row', the z trend, today's numbers and, as in
    the first post, what explains them. A series the thread never carried (the segment's other metric moving the
    same way) is 'Now also', not 'again'."""
    sections, leads, labels = [], [], set()
    for incident in incidents:
        primary = incident.primary
        label = "Now also" if incident.new_in_thread else "Still ongoing"
        streak = _streak(primary.run_days) or ("" if incident.new_in_thread else " · again")
        head = (*_titled("repeat", label, primary.scope, primary.metric, strong=True), t(streak))
        labels.add(label)
        when = t(f" on {primary.alert_date.isoformat()}")
        lines = [head, line(*_severity(primary.severity, primary.direction), when), *_news_lines(incident)]
        lines += [*numbers_lines(primary), *_trend_lines(incident), *(member_line(m) for m in incident.members)]
        lines += [*explanation(incident), action_line(primary)]
        sections.append(Section(tuple(lines), incident.alert_ids))
        leads.append(primary)
    label = labels.pop() if len(labels) == 1 else "In this thread"
    one = _titled("repeat", label, leads[0].scope, leads[0].metric)
    head = one if len(leads) == 1 else line(icon("repeat"), t(f" {label}: {len(leads)} incidents"))
    return MessageBody(head, sections=tuple(sections))


def correction(fix: Correction, full: Alert | None) -> MessageBody:
    """'Correction after late data: now WARNING …; was CRITICAL …' (`full`: today's alert, for its numbers)."""
    now, was = fix.alert, fix.was
    when = f" · {now.alert_date.isoformat()}" if now.alert_date else ""
    _, scope, metric = series_of_key(now.series_key) or ("", "", "")
    head = (*_titled("correction", "Correction", scope, metric), t(when))
    prefix = "Back after a rebuild: " if was.kind == "withdrawal" else "Correction after late data: "
    lines = [line(t(prefix), *_state_spans("now", now), t("; "), *_state_spans("was", was))]
    if full is not None:
        lines += [*numbers_lines(full), action_line(full)]
    return _reply(head, lines)


def withdrawal(gone: Withdrawal) -> MessageBody:
    """A delivered alert that is gone or held after a rebuild (a data-health alert gone: its day is complete)."""
    was, reason = gone.was, gone.reason
    _, scope, metric = series_of_key(was.series_key) or ("", "", "")
    if reason == "gone" and (was.series_key or "").startswith("data_health|"):
        day = was.alert_date.isoformat() if was.alert_date else "the day"
        text = f"the rebuilt data for {day} is complete; its held alerts are posted normally (as new messages)."
        return _reply(_titled("ok", "Data complete now", scope, metric), [line(text)])
    why = f"it is held now: {HOLD_REASONS[reason]}" if reason in HOLD_REASONS else f"it is held now ({reason})"
    why = "it is no longer in the rebuilt data" if reason == "gone" else why
    when = f" for {was.alert_date.isoformat()}" if was.alert_date else ""
    spans = _state_spans("Withdrawn after late data: the alert", was)
    if values.finite(was.current_value):
        spans.append(t(f" (value {values.format_value(was.current_value, values.unit_for_metric(metric))})"))
    spans += [t(when + " no longer holds: "), d(why, sanitize.TEXT_CAP), t(".")]
    return _reply(_titled("withdrawn", "Withdrawn", scope, metric), [tuple(spans)])


def resolved(resolution: Resolution) -> MessageBody:
    day, recovered = resolution.alert_date, resolution.series
    lines = []
    for item in recovered:
        # the day after its last alert row, not the judging day (a member can have been quiet for 17 days), and not
        # 'no alert since <day>': that day's alert may never have been shown (held, or a NOTICE under the floor)
        back = item.last_alert_date + dt.timedelta(days=1)
        quiet = values.plural(item.quiet_days, "quiet day")  # at least resolve_after_days (0 turns resolving off)
        text = f" back inside its normal band since {back.isoformat()} ({quiet} to {day.isoformat()})."
        lines.append(line(icon("ok"), t(" "), *title_spans(*item.series[1:3]), t(text)))
    one = _titled("ok", "Resolved", *recovered[0].series[1:3])
    return _reply(one if len(recovered) == 1 else line(icon("ok"), t(" Resolved")), lines)


def pipeline_health(run_date: dt.date, stale: Sequence[StaleSource], failures: Sequence[Failure]) -> MessageBody:
    head = line(icon("critical"), t(f" {PRODUCT} · data · daily build for {run_date.isoformat()} stopped"))
    lines: list[Line] = []
    for source in stale:
        day = source.last_loaded_day
        when = f"last loaded day {day.isoformat()}" if day else "never loaded"
        lines.append(line(t("Stale source: "), d(source.source, 40, strong=True), t(f", {when}")))
    for f in failures[:PIPELINE_FAILURES_SHOWN]:
        rows = f" on {values.plural(f.rows, 'row')}" if f.rows is not None and f.status == "fail" else ""
        what = "failed" if f.status == "fail" else "errored"
        lines.append(line(d(values.humanise(f.resource_type), 40), t(" "), d(f.name, 120), t(f" {what}{rows}")))
    if len(failures) > PIPELINE_FAILURES_SHOWN:
        lines.append(line(f"… and {len(failures) - PIPELINE_FAILURES_SHOWN} more in target/run_results.json"))
    action = "the alert models were not rebuilt: no alerts for this morning until the cause is fixed"
    lines.append(line(t("Action: ", strong=True), t(action + " and `make daily` runs again.")))
    return _reply(head, lines)


def all_clear(teams: Sequence[str], usage_date: dt.date, cost_date: dt.date) -> MessageBody:
    """No alerts (the runner says it only when the usage day is complete)."""
    usage, cost = usage_date.isoformat(), cost_date.isoformat()
    text = f"No alerts for usage day {usage} or the finalised cost day {cost}."
    return MessageBody(_team_head("ok", teams, f"{usage} · all clear"), Section((line(text),)))
