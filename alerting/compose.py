"""What each message says: incidents, digests and lifecycle notices -> neutral MessageBody (pure).

An incident section reads, top to bottom:
1. the headline: the primary alert's scope – metric, severity, direction;
2. its numbers: current vs the baseline named by `baseline_kind` (σ only when the rule has
   one), z, change, the threshold worded by `threshold_kind`;
3. each other member rule as one compact line;
4. the cause: the cost decomposition ("idle +$348.00 (98% of the change); requests flat
   (+0.3%)", a contributor named only when it drives the change), else the structured
   drivers, else the mart's drivers_summary;
5. caveats in words from the validity flags;
6. the action.
Every data string enters through `message.d` (cleaned and capped); no rule name appears here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alerting import sanitize, values
from alerting.message import (
    Actions,
    Context,
    Header,
    Line,
    MessageBody,
    Section,
    Span,
    Text,
    d,
    icon,
    line,
    link,
    plain,
    t,
)
from alerting.model import (
    Alert,
    Concentration,
    CostComponent,
    DeliveryState,
    Digest,
    Driver,
    Incident,
    TopUser,
    group_incidents,
    severity_rank,
)
from alerting.pipeline_health import Failure, StaleSource

SEVERITY_LABELS = {"critical": "CRITICAL", "warning": "WARNING", "notice": "NOTICE"}
DEFAULT_ACTIONS = {
    "critical": "Investigate now.",
    "warning": "Watch whether it repeats tomorrow.",
    "notice": "No action unless it persists.",
}
HOLD_REASONS = {
    "enterprise_weekend": "enterprise weekend",
    "insufficient_baseline": "too few baseline points",
    "incomplete_data": "day not completely loaded",
    "muted": "muted",
    "snoozed": "snoozed from Slack",
}
DRIVERS_SHOWN = 3
COMPONENTS_SHOWN = 3
COMPONENT_MIN_SHARE = 0.10  # a decomposition component is named when it holds >= 10% of the change
NAME_MIN_SHARE = 0.50  # an org / endpoint / process is named only when it drives >= 50% of the change
FLAT_REQUESTS = 0.02  # |request change| below 2% reads "requests flat"
ROBUST_AGREES = 2.0  # |robust z| above the notice band: the robust score agrees
MIX = "(mix)"  # decomposition row: traffic moving between contributors, never a culprit


@dataclass(frozen=True)
class ComposeOptions:
    drivers_shown: int = DRIVERS_SHOWN
    product: str = "LTX monitoring"


# --- small pieces ---------------------------------------------------------------------------------


def severity_label(severity: str | None) -> str:
    key = (severity or "").strip().lower()
    return SEVERITY_LABELS.get(key, "")


def _severity_spans(severity: str | None) -> list[Span]:
    label = severity_label(severity)
    return [t(label)] if label else [d((severity or "unknown").upper(), 20)]


def _direction(direction: str | None) -> list[Span]:
    return [t(" "), d(direction, 20)] if direction else []


def title_spans(scope: str | None, metric: str | None, strong: bool = True) -> list[Span]:
    """'Free – Tokens' (names from the value tables; unknown names as cleaned data)."""
    return [
        d(values.display_scope(scope), strong=strong),
        t(" – ", strong=strong),
        d(values.display_metric(metric), strong=strong),
    ]


def _change_text(alert: Alert) -> str:
    change = values.format_change(alert.pct_change)
    if values.has_mean_and_sigma(alert.baseline_kind):
        return f"{change} from mean"
    label = values.baseline_label(alert.baseline_kind, alert.baseline_points, alert.alert_date)
    return f"{change} vs {label[:1].lower()}{label[1:]}"


def numbers_lines(alert: Alert) -> list[Line]:
    """'Current: … | <baseline label>: … | Std Dev (σ): …' and 'Z-score: … | Change: … | Threshold: …'."""
    label = values.baseline_label(alert.baseline_kind, alert.baseline_points, alert.alert_date)
    first = f"Current: {values.format_value(alert.current_value, alert.unit)} | {label}: "
    first += values.format_value(alert.baseline_mean, alert.unit)
    if alert.baseline_stddev is not None:
        first += f" | Std Dev ({values.sigma_label(alert.baseline_stddev_kind)}): "
        first += values.format_value(alert.baseline_stddev, alert.unit)
    second: list[str] = []
    if values.finite(alert.z_score):
        second.append(f"{values.z_label(alert.threshold_kind)}: {values.format_z(alert.z_score)}")
    second.append(f"Change: {_change_text(alert)}")
    threshold = values.threshold_text(alert.threshold_kind, alert.threshold, alert.unit, alert.direction)
    if threshold:
        second.append(f"Threshold: {threshold}")
    return [line(first), line(" | ".join(second))]


def headline(alert: Alert, with_date: bool = False) -> Line:
    spans: list[Span] = [icon(alert.severity_key), t(" "), *title_spans(alert.scope, alert.metric), t(" · ")]
    spans += _severity_spans(alert.severity) + _direction(alert.direction)
    if with_date:
        spans.append(t(f" · {alert.alert_date.isoformat()}"))
    return tuple(spans)


def member_line(alert: Alert) -> Line:
    """One compact line for a member rule: metric, severity, value vs its baseline, change, z, threshold."""
    label = values.baseline_label(alert.baseline_kind, alert.baseline_points, alert.alert_date)
    spans: list[Span] = [t("↳ "), d(values.display_metric(alert.metric)), t(" · ")]
    spans += _severity_spans(alert.severity)
    text = (
        f": {values.format_value(alert.current_value, alert.unit)} vs {label[:1].lower()}{label[1:]} "
        f"{values.format_value(alert.baseline_mean, alert.unit)} ({values.format_change(alert.pct_change)})"
    )
    if values.finite(alert.z_score):
        text += f", {values.z_label(alert.threshold_kind, short=True)} {values.format_z(alert.z_score)}"
    threshold = values.threshold_text(alert.threshold_kind, alert.threshold, alert.unit, alert.direction)
    if threshold:
        text += f", threshold {threshold}"
    spans.append(t(text))
    return tuple(spans)


# --- cause -------------------------------------------------------------------------------------


def _component_phrase(c: CostComponent) -> list[Span]:
    name = values.display_component(c.component)
    if c.component == "request_volume" and values.finite(c.pct_change) and abs(c.pct_change or 0) < FLAT_REQUESTS:
        return [t(f"requests flat ({values.format_change(c.pct_change)})")]
    share = f"{values.format_share(c.share_of_change)} of the change"
    if c.component == "request_volume" and values.finite(c.pct_change):  # requests +61.5% (+$420.00, 84% of …)
        return [
            t(f"requests {values.format_change(c.pct_change)} ({values.format_delta(c.delta_usd, 'usd')}, {share})")
        ]
    return [d(name, 40), t(f" {values.format_delta(c.delta_usd, 'usd')} ({share})")]


def decomposition_line(components: Sequence[CostComponent]) -> Line | None:
    """'Cause: idle +$348.00 (98% of the change); requests flat (+0.3%)' plus who drove it, if anyone did."""
    totals = [c for c in components if not c.contributor]
    if not totals:
        return None
    ranked = sorted(totals, key=lambda c: (-abs(c.delta_usd or 0.0), c.component))
    shown = [c for c in ranked if abs(c.share_of_change or 0.0) >= COMPONENT_MIN_SHARE][:COMPONENTS_SHOWN] or ranked[:1]
    volume = next((c for c in totals if c.component == "request_volume"), None)
    if volume is not None and volume not in shown and values.finite(volume.pct_change):
        shown.append(volume)
    parts = [_component_phrase(c) for c in shown]
    spans: list[Span] = [t("Cause: ")]
    for i, part in enumerate(parts):
        if i:
            spans.append(t("; "))
        spans += part
    # no request at all (an outage): every endpoint / model / org fell to zero, the largest one
    # "drove" the fall only by being the largest - nobody is named
    no_traffic = volume is not None and values.finite(volume.pct_change) and (volume.pct_change or 0.0) <= -1.0
    named = sorted(
        (
            c
            for c in components
            if c.contributor and c.contributor != MIX and (c.share_of_change or 0.0) >= NAME_MIN_SHARE
        ),
        key=lambda c: -(c.share_of_change or 0.0),
    )
    if no_traffic:
        named = [c for c in named if c.component not in ("request_volume", "request_rate")]
    for c in named[:2]:
        spans += [
            t("; driven by "),
            d(values.humanise(c.contributor_type).lower() or "contributor", 30),
            t(" "),
            d(c.contributor, strong=True),
            t(f" {values.format_delta(c.delta_usd, 'usd')} ({values.format_share(c.share_of_change)} of the change)"),
        ]
    return tuple(spans)


USER_TYPES = frozenset({"user", "lt_id"})
USER_ID_CAP = 10  # user ids (lt_id) are shown truncated: enough to look one up, not to copy a list
TOP_USER_ID_CAP = 9  # concentration line: the first 8 characters of an lt_id and '…'
TOP_USERS_NAMED = 3  # of the top users (fct_usage_alert_top_users), this many are named


def driver_phrase(driver: Driver, unit: str | None) -> list[Span]:
    u = driver.unit or unit
    cap = USER_ID_CAP if driver.contributor_type.strip().lower() in USER_TYPES else sanitize.NAME_CAP
    text = (
        f": {values.format_value(driver.value, u)} vs {values.format_value(driver.baseline_value, u)}"
        f" ({values.format_delta(driver.delta, u)}, {values.format_share(driver.share_of_delta)} of change)"
    )
    return [d(driver.contributor, cap, strong=True), t(" ("), d(driver.contributor_type, 30), t(")"), t(text)]


def _top_user_phrase(user: TopUser, unit: str | None) -> list[Span]:
    text = f" {values.format_delta(user.delta, unit)} ({values.format_share(user.share_of_change)}"
    return [d(user.lt_id, TOP_USER_ID_CAP, strong=True), t(text + (", new)" if user.is_new_user else ")"))]


def concentration_line(c: Concentration, unit: str | None) -> Line:
    """'Users: 412 moved with the change, 37 make half of it; top 5 users 62% of the change (…); new users …'.

    Said instead of the tier drivers where a tier breakdown can only name one tier (free, or
    one tier >= 95 % of the value): how many users moved it, how much the top few hold (a
    bot or abuse signal), and new vs returning users. lt_ids are data: cleaned and truncated.
    """
    moving = c.users_moving_with_change
    spans: list[Span] = [t("Users: ")]
    if moving is None:
        spans.append(t("n/a"))
    else:
        spans.append(t(f"{moving:,} {'user' if moving == 1 else 'users'} moved with the change"))
    if c.users_for_half_of_change is not None:
        spans.append(t(f", {c.users_for_half_of_change:,} make half of it"))
    if values.finite(c.top_users_share_of_change):
        n = c.top_users_n or len(c.top_users)
        spans.append(t(f"; top {n} {'user' if n == 1 else 'users'} {values.format_share(c.top_users_share_of_change)}"))
        spans.append(t(" of the change"))
        named = c.top_users[:TOP_USERS_NAMED]
        if named:
            spans.append(t(f" (the largest {len(named)}: " if len(named) < n else " ("))
            for i, user in enumerate(named):
                if i:
                    spans.append(t("; "))
                spans += _top_user_phrase(user, unit)
            spans.append(t(")"))
    if c.new_users is not None:
        share = values.format_share(c.new_user_share_of_change)
        spans.append(t(f"; new users (first seen recently): {c.new_users:,}, {share} of the change"))
    return tuple(spans)


def drivers_line(alert: Alert, shown: int = DRIVERS_SHOWN) -> Line | None:
    if alert.concentration is not None and alert.concentration.uses_drilldown:
        return concentration_line(alert.concentration, alert.unit)
    if alert.drivers:
        ordered = sorted(alert.drivers, key=lambda x: (x.rank, x.contributor))
        spans: list[Span] = [t("Drivers: ")]
        for i, driver in enumerate(ordered[:shown]):
            if i:
                spans.append(t("; "))
            spans += driver_phrase(driver, alert.unit)
        if len(ordered) > shown:
            spans.append(t(f"; and {len(ordered) - shown} more"))
        return tuple(spans)
    if alert.drivers_summary and alert.drivers_summary.strip():
        return line("Drivers: ", d(alert.drivers_summary, sanitize.TEXT_CAP))
    return None


def cause_line(incident: Incident, shown: int = DRIVERS_SHOWN) -> Line | None:
    """The decomposition when any member carries one, else the primary's (then any member's) drivers."""
    for alert in incident.alerts:
        if alert.decomposition:
            found = decomposition_line(alert.decomposition)
            if found:
                return found
    for alert in incident.alerts:
        found = drivers_line(alert, shown)
        if found:
            return found
    return None


# --- caveats and action --------------------------------------------------------------------------


def _expected(alert: Alert) -> list[Line]:
    """'Expected: Thanksgiving': the known event of the alert's day (seed calendar_events), said, never loud."""
    if not alert.calendar_event:
        return []
    return [line(t("Expected: ", strong=True), d(alert.calendar_event, sanitize.NAME_CAP))]


def caveats(alert: Alert) -> list[str]:
    """The validity flags in words."""
    out: list[str] = []
    if alert.has_insufficient_baseline:
        n = alert.baseline_points
        out.append(f"only {n} baseline point{'s' if n != 1 else ''}" if n is not None else "too few baseline points")
    if alert.is_low_variance:
        sigma = values.format_value(alert.baseline_stddev, alert.unit)
        out.append(f"the baseline barely varies (σ {sigma}), so small changes score high")
    if alert.has_baseline_outlier:
        when = f" on {alert.baseline_outlier_date.isoformat()}" if alert.baseline_outlier_date else ""
        text = f"baseline holds an outlier{when}"
        if values.finite(alert.robust_z_score):
            robust = alert.robust_z_score or 0.0
            z = alert.z_score or 0.0
            agrees = abs(robust) > ROBUST_AGREES and (robust > 0) == (z > 0)
            text += f"; the robust score ({values.format_z(robust)}) {'agrees' if agrees else 'disagrees'}"
        out.append(text)
    if alert.is_baseline_valid is False and not out:
        out.append("the baseline did not pass its validity checks")
    return out


def action_line(alert: Alert) -> Line:
    if alert.recommended_action and alert.recommended_action.strip():
        return line(t("Action: ", strong=True), d(alert.recommended_action, sanitize.TEXT_CAP))
    return line(t("Action: ", strong=True), t(DEFAULT_ACTIONS.get(alert.severity_key, "Look into it.")))


# --- incidents and digests -----------------------------------------------------------------------------


def data_health_lines(alert: Alert, held: int | None = None) -> list[Line]:
    """'usage for 2026-11-22: 38% of the expected rows for a Sunday; 12 segment alerts held ...'."""
    day = alert.alert_date
    source = alert.scope
    expected = values.format_value(alert.baseline_mean, alert.unit or "rows")
    wday = values.weekday(day)
    if not values.finite(alert.current_value) or (alert.current_value or 0.0) <= 0:
        state = f"no rows loaded (expected {expected} for a {wday})"
    else:
        share = (alert.current_value or 0.0) / alert.baseline_mean if alert.baseline_mean else None
        loaded = values.format_value(alert.current_value, alert.unit or "rows")
        state = f"{values.pct(share, 0)} of the expected rows for a {wday} ({loaded} of {expected})"
    first: list[Span] = [d(source, 40, strong=True), t(f" for {day.isoformat()}: {state}")]
    if held:  # a missing day has no alerts to hold: say nothing rather than "0 held"
        what = "segment alerts" if source == "usage" else "alerts"
        first.append(t(f"; {held} {what if held != 1 else what[:-1]} held until the day is complete"))
    out = [tuple(first)]
    if alert.drivers_summary and alert.drivers_summary.strip():  # both readings: a partial load or a real drop
        out.append(line(d(alert.drivers_summary, sanitize.TEXT_CAP)))
    if held:
        command = f"python -m alerting release --date {day.isoformat()}"
        out.append(line(f"If the data team confirms the day is real (an outage): `{command}`"))
    return out


def incident_section(incident: Incident, options: ComposeOptions | None = None, held: int | None = None) -> Section:
    options = options or ComposeOptions()
    primary = incident.primary
    if primary.domain == "data_health":
        lines = [headline(primary), *data_health_lines(primary, held), action_line(primary)]
    else:
        lines = [headline(primary), *numbers_lines(primary)]
        lines += [member_line(m) for m in incident.members]
        cause = cause_line(incident, options.drivers_shown)
        if cause:
            lines.append(cause)
        lines += _expected(primary)
        notes = caveats(primary)
        if notes:
            lines.append(line("Caveat: " + "; ".join(notes)))
        lines.append(action_line(primary))
    buttons = () if primary.domain == "data_health" else (Actions(incident.incident_id, incident.alert_ids),)
    return Section(
        blocks=(Text(tuple(lines)), *buttons),
        alert_ids=incident.alert_ids,
        incident_ids=(incident.incident_id,),
        summary=headline(primary),
    )


def _days_text(usage_date: dt.date, cost_date: dt.date, domains: set[str]) -> str:
    has_cost = "gpu_cost" in domains
    has_other = bool(domains - {"gpu_cost"})
    if has_cost and not has_other:
        return f"cost day {cost_date.isoformat()}"
    if has_other and not has_cost:
        return f"usage day {usage_date.isoformat()}"
    return f"usage day {usage_date.isoformat()}, cost day {cost_date.isoformat()}"


def _teams(teams: Iterable[str]) -> str:
    names = [sanitize.clean(x, 30) for x in teams if sanitize.clean(x, 30)]
    return ", ".join(names) or "unassigned"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def held_counts(held: Iterable[Alert]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for a in held:
        reason = a.hold_reason or ("suppressed" if a.is_suppressed else "held")
        counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items()))


SOURCE_DOMAINS = {"usage": "usage", "gpu_costs": "gpu_cost"}  # fct_data_health source -> alert domain


def waiting_for(health: Alert, held: Iterable[Alert]) -> int:
    """How many alerts of the data-health alert's source and day are held for incomplete data."""
    domain = SOURCE_DOMAINS.get(health.scope, health.scope)
    return sum(
        1
        for a in held
        if a.hold_reason == "incomplete_data" and a.domain == domain and a.alert_date == health.alert_date
    )


def compose_digest(digest: Digest, options: ComposeOptions | None = None) -> MessageBody | None:
    """One destination's digest: one section per incident, most severe first; None when empty."""
    options = options or ComposeOptions()
    incidents = group_incidents(digest.alerts)
    if not incidents:
        return None
    domains = {a.domain for a in digest.alerts}
    worst = incidents[0].severity
    days = _days_text(digest.usage_date, digest.cost_date, domains)
    head = line(
        icon("alert" if worst == "critical" else "digest"),
        t(f" {options.product} · "),
        d(_teams(digest.teams), 60),
        t(f" · {days} · {_plural(len(incidents), 'incident')}"),
    )
    counts: dict[str, int] = {}  # alerts per severity: "8 alerts in 1 incident: 7 critical, 1 warning"
    for inc in incidents:
        for alert in inc.alerts:
            counts[alert.severity] = counts.get(alert.severity, 0) + 1
    spans: list[Span] = [t(f"{_plural(len(digest.alerts), 'alert')} in {_plural(len(incidents), 'incident')}: ")]
    for i, (sev, n) in enumerate(sorted(counts.items(), key=lambda kv: (severity_rank(kv[0]), kv[0]))):
        label = severity_label(sev).lower()
        spans += [t(f"{', ' if i else ''}{n} "), t(label) if label else d(sev, 20)]
    if "gpu_cost" in domains and domains - {"gpu_cost"}:
        spans.append(t(f" · cost alerts are for the finalised cost day {digest.cost_date.isoformat()}"))
    held = held_counts(digest.held)
    if held:
        spans.append(t(" · held: "))
        for i, (reason, n) in enumerate(held.items()):
            spans += [
                t(f"{', ' if i else ''}{n} "),
                t(HOLD_REASONS[reason]) if reason in HOLD_REASONS else d(reason, 30),
            ]
    if digest.report_url:
        spans += [t(" · "), link(digest.report_url, "charts and history in the report")]
    sections = [
        incident_section(
            inc, options, held=waiting_for(inc.primary, digest.held) if inc.domain == "data_health" else None
        )
        for inc in incidents
    ]
    return MessageBody(
        header=Header(head),
        intro=(Context((tuple(spans),)),),
        sections=tuple(sections),
        fallback_title=plain(head),
        kind="digest",
    )


def compose_summary(
    alerts: Sequence[Alert], usage_date: dt.date, cost_date: dt.date, product: str = "LTX monitoring"
) -> MessageBody | None:
    """The quiet-only incidents of a channel's day in one message whose text starts `Summary:` (a quiet post:
    below the loud bar, listed so that the channel can see them without being notified)."""
    incidents = group_incidents(alerts)
    if not incidents:
        return None
    days = _days_text(usage_date, cost_date, {a.domain for a in alerts})
    head = line(t(f"Summary: {_plural(len(incidents), 'quiet incident')} · {product} · {days}"))
    note = line("Below the bar for a notification (significance and size of the change); kept in fct_alerts.")
    sections = tuple(
        Section(
            blocks=(Text((headline(inc.primary), *(member_line(m) for m in inc.alerts), *_expected(inc.primary))),),
            alert_ids=inc.alert_ids,
            incident_ids=(inc.incident_id,),
            summary=headline(inc.primary),
        )
        for inc in incidents
    )
    return MessageBody(
        header=Header(head), intro=(Context((note,)),), sections=sections, fallback_title=plain(head), kind="summary"
    )


# --- lifecycle bodies (H6's lifecycle decides when; these say what) -----------------------------------


def _thread_body(
    kind: str, head: Line, lines: Sequence[Line], alert_ids: Sequence[str], incident_id: str | None
) -> MessageBody:
    return MessageBody(
        header=Header(head),
        sections=(
            Section(
                blocks=(Text(tuple(lines)),),
                alert_ids=tuple(alert_ids),
                incident_ids=(incident_id,) if incident_id else (),
                summary=head,
            ),
        ),
        fallback_title=plain(head),
        kind=kind,
    )


def _state_spans(prefix: str, severity: str | None, direction: str | None, z: float | None) -> list[Span]:
    """'now WARNING increase, z +3.36' (severity and direction are data: spans, never template text)."""
    spans = [t(prefix + " "), *_severity_spans(severity), *_direction(direction)]
    if values.finite(z):
        spans.append(t(f", z {values.format_z(z, sign=True)}"))
    return spans


@dataclass(frozen=True)
class Continuing:
    """An incident that is still out of band: how many days in a row, and its primary's z by day."""

    incident: Incident
    day_number: int
    z_trend: tuple[float | None, ...] = ()  # oldest first, today last


def _repeat_section(item: Continuing) -> Section:
    primary = item.incident.primary
    n = item.day_number
    streak = f"day {n} in a row" if n > 1 else "again"
    head = line(icon("repeat"), t(" Still ongoing: "), *title_spans(primary.scope, primary.metric), t(f" · {streak}"))
    lines: list[Line] = [
        head,
        line(
            *_severity_spans(primary.severity),
            *_direction(primary.direction),
            t(f" on {primary.alert_date.isoformat()}"),
        ),
        *numbers_lines(primary),
    ]
    trend = " → ".join(values.format_z(z, sign=True) for z in item.z_trend if values.finite(z))
    if trend:
        lines.append(line(f"Z trend: {trend}"))
    lines += [member_line(m) for m in item.incident.members]
    lines.append(action_line(primary))
    return Section(
        blocks=(Text(tuple(lines)),),
        alert_ids=item.incident.alert_ids,
        incident_ids=(item.incident.incident_id,),
        summary=head,
    )


def compose_repeats(items: Sequence[Continuing]) -> MessageBody:
    """One thread reply for incidents that continue: 'day 4 in a row', the z trend, today's numbers."""
    first = items[0].incident.primary
    if len(items) == 1:
        head = line(icon("repeat"), t(" Still ongoing: "), *title_spans(first.scope, first.metric, strong=False))
    else:
        head = line(icon("repeat"), t(f" Still ongoing: {len(items)} incidents"))
    return MessageBody(
        header=Header(head),
        sections=tuple(_repeat_section(i) for i in items),
        fallback_title=plain(head),
        kind="repeat",
    )


def compose_repeat(incident: Incident, previous: Sequence[DeliveryState], day_number: int | None = None) -> MessageBody:
    """compose_repeats for one incident whose earlier days are delivery-log states (oldest first)."""
    n = day_number if day_number is not None else len(previous) + 1
    trend = (*(s.z_score for s in previous), incident.primary.z_score)
    return compose_repeats([Continuing(incident, n, trend)])


def compose_correction(
    alert: Alert | DeliveryState, was: DeliveryState, reappeared: bool = False, full: Alert | None = None
) -> MessageBody:
    """'Correction after late data: now WARNING increase, z +3.36; was CRITICAL decrease, z -6.48'.

    `alert` is today's alert (or its state); `full` (or `alert` when it is an Alert) adds today's numbers
    and action. `reappeared`: the alert had been withdrawn and is back after a rebuild.
    """
    full = full or (alert if isinstance(alert, Alert) else None)
    title = title_spans(alert.scope, alert.metric, strong=False)
    when = f" · {alert.alert_date.isoformat()}" if alert.alert_date else ""
    head = line(icon("correction"), t(" Correction: "), *title, t(when))
    prefix = "Back after a rebuild: " if reappeared else "Correction after late data: "
    lines = [
        line(
            t(prefix),
            *_state_spans("now", alert.severity, alert.direction, alert.z_score),
            t("; "),
            *_state_spans("was", was.severity, was.direction, was.z_score),
        )
    ]
    if full is not None:
        lines += [*numbers_lines(full), action_line(full)]
    return _thread_body("correction", head, lines, [alert.alert_id], getattr(alert, "incident_id", None))


def compose_withdrawal(was: DeliveryState, reason: str = "it is no longer in the rebuilt data") -> MessageBody:
    """A delivered alert that is gone after a rebuild: one reply that withdraws it."""
    head = line(icon("withdrawn"), t(" Withdrawn: "), *title_spans(was.scope, was.metric, strong=False))
    when = f" for {was.alert_date.isoformat()}" if was.alert_date else ""
    spans = _state_spans("Withdrawn after late data: the alert", was.severity, was.direction, was.z_score)
    if values.finite(was.current_value):
        spans.append(t(f" (value {values.format_value(was.current_value, was.unit)})"))
    lines = [line(*spans, t(when + " no longer holds: "), d(reason, sanitize.TEXT_CAP), t("."))]
    return _thread_body("withdrawal", head, lines, [was.alert_id], None)


def compose_data_complete(was: DeliveryState) -> MessageBody:
    """The data-health alert of a day that a later load completed: its held alerts now post normally."""
    head = line(icon("resolved"), t(" Data complete now: "), *title_spans(was.scope, was.metric, strong=False))
    when = was.alert_date.isoformat() if was.alert_date else "the day"
    text = f"the rebuilt data for {when} is complete; its held alerts are posted normally (as new messages)."
    return _thread_body("withdrawal", head, [line(t(text))], [was.alert_id], None)


@dataclass(frozen=True)
class Recovered:
    """A series back inside its NOTICE band."""

    scope: str | None
    metric: str | None
    last_alert_date: dt.date | None = None
    quiet_days: int | None = None
    z_score: float | None = None
    current_value: float | None = None
    unit: str | None = None


def _resolved_line(item: Recovered, day: dt.date) -> Line:
    text = f" back inside its normal band on {day.isoformat()}"
    if values.finite(item.current_value):
        text += f": {values.format_value(item.current_value, item.unit)}"
    if values.finite(item.z_score):
        text += f", z {values.format_z(item.z_score, sign=True)}"
    if item.quiet_days:
        text += f"; {_plural(item.quiet_days, 'quiet day')}"
    if item.last_alert_date:
        text += f" since the last alert on {item.last_alert_date.isoformat()}"
    return line(icon("ok"), t(" "), *title_spans(item.scope, item.metric), t(text + "."))


def compose_resolved_series(items: Sequence[Recovered], day: dt.date, incident_id: str | None = None) -> MessageBody:
    """One reply that closes a thread: each series that is back to normal, one line each."""
    head = line(icon("ok"), t(" Resolved"))
    if len(items) == 1:
        head = line(icon("ok"), t(" Resolved: "), *title_spans(items[0].scope, items[0].metric, strong=False))
    lines = tuple(_resolved_line(i, day) for i in items)
    return MessageBody(
        header=Header(head),
        sections=(Section(blocks=(Text(lines),), incident_ids=(incident_id,) if incident_id else (), summary=head),),
        fallback_title=plain(head),
        kind="resolved",
    )


def compose_resolved(
    was: DeliveryState, day: dt.date, z_score: float | None, current_value: float | None, days_open: int | None = None
) -> MessageBody:
    """The series is back inside its NOTICE band: one reply that closes the thread."""
    head = line(icon("ok"), t(" Resolved: "), *title_spans(was.scope, was.metric, strong=False))
    text = f"Back to normal on {day.isoformat()}"
    if values.finite(current_value):
        text += f": {values.format_value(current_value, was.unit)}"
    if values.finite(z_score):
        text += f", z {values.format_z(z_score, sign=True)}"
    if days_open:
        text += f" after {_plural(days_open, 'day')}"
    lines = [line(text + "."), line(*_state_spans("First posted as", was.severity, was.direction, was.z_score), t("."))]
    return _thread_body("resolved", head, lines, [was.alert_id], None)


def compose_data_health(alert: Alert, held: int) -> MessageBody:
    """The one data-health alert of a day: what is wrong and how many alerts wait for it."""
    head = line(
        icon(alert.severity_key), t(" Data not ready: "), d(alert.scope, 40), t(f" · {alert.alert_date.isoformat()}")
    )
    lines = [*data_health_lines(alert, held), action_line(alert)]
    return _thread_body("data_health", head, lines, [alert.alert_id], alert.incident_id)


PIPELINE_FAILURES_SHOWN = 10


def compose_pipeline_health(
    run_date: dt.date, stale: Sequence[StaleSource], failures: Sequence[Failure], product: str = "LTX monitoring"
) -> MessageBody:
    """The daily build for `run_date` stopped: which source is stale since when, which tests failed on how many rows."""
    head = line(icon("critical"), t(f" {product} · data · daily build for {run_date.isoformat()} stopped"))
    lines: list[Line] = []
    for source in stale:
        when = source.last_loaded_day.isoformat() if source.last_loaded_day else "never"
        lines.append(line(t("Stale source: "), d(source.source, 40, strong=True), t(f", last loaded day {when}")))
    for f in failures[:PIPELINE_FAILURES_SHOWN]:
        rows = f" on {f.rows:,} row{'s' if f.rows != 1 else ''}" if f.rows is not None and f.status == "fail" else ""
        what = "failed" if f.status == "fail" else "errored"
        lines.append(line(t(f"{values.humanise(f.resource_type)} "), d(f.name, 120), t(f" {what}{rows}")))
    if len(failures) > PIPELINE_FAILURES_SHOWN:
        lines.append(line(f"… and {len(failures) - PIPELINE_FAILURES_SHOWN} more in target/run_results.json"))
    lines.append(
        line(
            t("Action: ", strong=True),
            t("the alert models were not rebuilt: no alerts for this morning until the cause is fixed"),
            t(" and `make daily` runs again."),
        )
    )
    return MessageBody(
        header=Header(head),
        sections=(Section(blocks=(Text(tuple(lines)),), summary=head),),
        fallback_title=plain(head),
        kind="pipeline_health",
    )


def all_clear_id(usage_date: dt.date) -> str:
    """The delivery-log key of a day's all-clear message (so it is posted once too)."""
    return f"all_clear:{usage_date.isoformat()}"


def compose_all_clear(
    teams: Sequence[str],
    usage_date: dt.date,
    cost_date: dt.date,
    usage_checked: bool = True,
    product: str = "LTX monitoring",
) -> MessageBody:
    """No alerts. With usage_checked=False (the usage day is not ready) it speaks for cost only."""
    if usage_checked:
        head_days = usage_date.isoformat()
        text = f"No alerts for usage day {usage_date.isoformat()} or the finalised cost day {cost_date.isoformat()}."
    else:
        head_days = f"cost day {cost_date.isoformat()}"
        text = (
            f"No cost alerts for the finalised cost day {cost_date.isoformat()}. Usage day "
            f"{usage_date.isoformat()} is not checked yet: its data is not complete."
        )
    head = line(icon("ok"), t(f" {product} · "), d(_teams(teams), 60), t(f" · {head_days} · all clear"))
    return MessageBody(
        header=Header(head),
        intro=(Text((line(text),)),),
        fallback_title=plain(head),
        kind="all_clear",
        extra_ids=(all_clear_id(usage_date),),
    )


__all__ = [
    "ComposeOptions",
    "Continuing",
    "Recovered",
    "all_clear_id",
    "compose_all_clear",
    "compose_correction",
    "compose_data_health",
    "compose_digest",
    "compose_pipeline_health",
    "compose_repeat",
    "compose_repeats",
    "compose_resolved",
    "compose_resolved_series",
    "compose_summary",
    "compose_withdrawal",
    "incident_section",
]
