"""Slack Block Kit + plain-text fallback for one channel's digest (pure functions).

Layout follows the usage-monitor playbook: alerts grouped CRITICAL, WARNING, NOTICE, each
with scope and metric, current / mean / standard deviation, z-score, change from mean,
drivers and the recommended action. Every data string is escaped (`mrkdwn.escape`).
Slack's limits are respected by splitting a digest into several messages; an over-long
alert section is truncated. Nothing here raises on odd data: missing numbers print `n/a`,
unknown units print plainly, unknown severities form their own group after NOTICE.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from alerting.model import Alert, Digest, Driver, Message, severity_rank
from alerting.mrkdwn import escape, plain_label, truncate


@dataclass(frozen=True)
class Limits:
    """Slack's documented limits (defaults) — smaller values are handy in tests."""

    header_chars: int = 150
    section_chars: int = 3000
    blocks_per_message: int = 50
    text_chars: int = 3000
    drivers_shown: int = 3

    def __post_init__(self) -> None:
        if self.blocks_per_message < 4:
            raise ValueError("blocks_per_message must be >= 4 (header, context, group title, one alert)")
        if min(self.header_chars, self.section_chars, self.text_chars) < 40:
            raise ValueError("character limits below 40 cannot hold a message")


SEVERITY_STYLE: dict[str, tuple[str, str]] = {
    "critical": (":red_circle:", "CRITICAL"),
    "warning": (":warning:", "WARNING"),
    "notice": (":large_blue_circle:", "NOTICE"),
}

SCOPE_NAMES: dict[str, str] = {
    "enterprise_contract": "Enterprise Contract",
    "enterprise_pilot": "Enterprise Pilot",
    "heavy": "Heavy",
    "paying": "Paying",
    "free": "Free",
    "api": "API",
    "studio": "Studio",
    "all": "All (API + Studio)",
}

METRIC_NAMES: dict[str, str] = {
    "dau": "DAU",
    "image_generations": "Image generations",
    "video_generations": "Video generations",
    "tokens": "Tokens",
    "infra_cost": "Infrastructure cost",
    "idle_cost": "Idle cost",
    "inference_cost": "Inference cost",
    "idle_inference_ratio": "Idle : inference ratio",
    "failure_rate": "Failure rate",
    "cost_per_request": "Cost per request",
}

MONEY_UNITS = frozenset({"usd", "usd_per_request"})
# rules whose threshold is a relative change (a fraction), whatever the metric's unit
RELATIVE_THRESHOLD_RULES = frozenset({"cost_spike_vs_7d_avg", "day_over_day_jump"})
NA = "n/a"


# --- numbers -----------------------------------------------------------------------------


def _finite(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def fixed(value: float, places: int, sign: bool = False) -> str:
    """Half-up rounding of the value as written (like SQL ROUND): 16234.505 -> '16,234.51'."""
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # no '-0.00'
    return format(rounded, f"{'+' if sign else ''},.{places}f")


def format_value(value: float | None, unit: str | None) -> str:
    """A value in its unit: money $1,234.56; rate (fraction) 20.4%; counts 4,497,947."""
    if value is None or not _finite(value):
        return NA
    unit = (unit or "").lower()
    if unit in MONEY_UNITS:
        return f"-${fixed(-value, 2)}" if value < 0 else f"${fixed(value, 2)}"
    if unit == "rate":
        return f"{fixed(value * 100, 1)}%"
    if unit in ("count", "tokens") and (float(value).is_integer() or abs(value) >= 100):
        return fixed(value, 0)
    return fixed(value, 2)


def format_z(z: float | None) -> str:
    return fixed(z, 2) if z is not None and _finite(z) else NA


def format_change(pct_change: float | None) -> str:
    """pct_change is a FRACTION: 0.466 -> '+46.6%'."""
    return f"{fixed(pct_change * 100, 1, sign=True)}%" if pct_change is not None and _finite(pct_change) else NA


def format_share(share: float | None) -> str:
    return f"{fixed(share * 100, 0)}%" if share is not None and _finite(share) else NA


def display_scope(scope: str | None) -> str:
    key = (scope or "").strip()
    return SCOPE_NAMES.get(key.lower(), key or "unknown scope")


def display_metric(metric: str | None) -> str:
    key = (metric or "").strip()
    return METRIC_NAMES.get(key.lower(), key or "unknown metric")


# --- one alert -----------------------------------------------------------------------------


def format_delta(delta: float | None, unit: str | None) -> str:
    """A signed difference in the value's unit: +1,234 / -$12.50."""
    if delta is None or not _finite(delta):
        return NA
    return ("+" if delta >= 0 else "-") + format_value(abs(delta), unit)


def _driver_line(driver: Driver, unit: str | None) -> str:
    delta = format_delta(driver.delta, unit)
    return (
        f"{escape(driver.contributor)} ({escape(driver.contributor_type)}): {format_value(driver.value, unit)}"
        f" vs μ {format_value(driver.baseline_mean, unit)} ({delta}, {format_share(driver.share_of_delta)} of change)"
    )


def drivers_text(alert: Alert, shown: int) -> str | None:
    """Top contributors from the drivers mart, else the mart's one-line summary (escaped)."""
    if alert.drivers:
        ordered = sorted(alert.drivers, key=lambda d: d.rank)
        parts = [_driver_line(d, alert.unit) for d in ordered[:shown]]
        hidden = len(ordered) - shown
        if hidden > 0:
            parts.append(f"and {hidden} more")
        return "; ".join(parts)
    if alert.drivers_summary and alert.drivers_summary.strip():
        return escape(alert.drivers_summary.strip())
    return None


def _threshold_text(alert: Alert) -> str | None:
    if alert.threshold is None or not _finite(alert.threshold):
        return None
    if (alert.rule or "") in RELATIVE_THRESHOLD_RULES:
        return f"Threshold: change above {fixed(alert.threshold * 100, 1)}%"
    return f"Threshold: {format_value(alert.threshold, alert.unit)}"


def alert_lines(alert: Alert, usage_date: dt.date, drivers_shown: int = 3) -> list[str]:
    """The mrkdwn lines of one alert, every data string escaped."""
    title = f"• *{escape(display_scope(alert.scope))} – {escape(display_metric(alert.metric))}*"
    tags = [escape(alert.direction)] if alert.direction else []
    if alert.domain not in ("usage", "gpu_cost"):
        tags.append(escape(alert.domain))
    if alert.rule and alert.rule != "usage_zscore":
        tags.append(escape(alert.rule))
    if alert.alert_date != usage_date:
        tags.append(f"day {alert.alert_date.isoformat()}")
    if tags:
        title += " (" + ", ".join(tags) + ")"
    lines = [
        title,
        f"Current: {format_value(alert.current_value, alert.unit)}"
        f" | Mean (μ): {format_value(alert.baseline_mean, alert.unit)}"
        f" | Std Dev (σ): {format_value(alert.baseline_stddev, alert.unit)}",
    ]
    if _finite(alert.z_score):
        lines.append(f"Z-score: {format_z(alert.z_score)}")
    threshold = _threshold_text(alert)
    if threshold:
        lines.append(threshold)
    lines.append(f"Change: {format_change(alert.pct_change)} from mean")
    drivers = drivers_text(alert, drivers_shown)
    if drivers:
        lines.append(f"Drivers: {drivers}")
    if alert.recommended_action and alert.recommended_action.strip():
        lines.append(f"Action: {escape(alert.recommended_action.strip())}")
    return lines


def alert_section_text(alert: Alert, usage_date: dt.date, limits: Limits) -> str:
    return truncate("\n".join(alert_lines(alert, usage_date, limits.drivers_shown)), limits.section_chars)


# --- groups and messages -----------------------------------------------------------------------


def sort_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """Severity (critical first), then domain, scope, metric, rule, id: deterministic."""

    def key(a: Alert) -> tuple[int, str, str, str, str, str, str]:
        return (severity_rank(a.severity_key), a.severity_key, a.domain, a.scope, a.metric, a.rule or "", a.alert_id)

    return sorted(alerts, key=key)


def group_title(severity: str, count: int, continued: bool = False) -> str:
    emoji, label = SEVERITY_STYLE.get(severity, (":grey_question:", escape(severity.upper())))
    suffix = " (continued)" if continued else ""
    return f"{emoji} *{label} ALERTS ({count}):*{suffix}"


def _team_label(teams: Sequence[str]) -> str:
    labels = [plain_label(t, 30) for t in teams if plain_label(t, 30)]
    return ", ".join(labels) or "unassigned"


def header_text(digest: Digest, count: int, part: int, parts: int, limits: Limits) -> str:
    worst = min((severity_rank(a.severity_key) for a in digest.alerts), default=3)
    emoji = ":rotating_light:" if worst == 0 else ":bar_chart:"
    text = f"{emoji} LTX monitoring · {_team_label(digest.teams)} · {digest.usage_date.isoformat()}"
    text += f" · {count} alert{'s' if count != 1 else ''}"
    if parts > 1:
        text += f" ({part}/{parts})"
    return text[: limits.header_chars]


def context_text(digest: Digest) -> str:
    counts: dict[str, int] = {}
    for alert in digest.alerts:
        counts[alert.severity_key] = counts.get(alert.severity_key, 0) + 1
    summary = ", ".join(
        f"{n} {escape(sev)}" for sev, n in sorted(counts.items(), key=lambda kv: (severity_rank(kv[0]), kv[0]))
    )
    return (
        f"Usage day {digest.usage_date.isoformat()} · cost alerts for the finalised day "
        f"{digest.cost_date.isoformat()} · {summary or 'no alerts'}"
    )


def _blocks_needed(groups_in_message: int, alerts_in_message: int) -> int:
    # header + context + one title per group + one divider between groups + one section per alert
    return 2 + groups_in_message + max(groups_in_message - 1, 0) + alerts_in_message


def pack(alerts: Sequence[Alert], limits: Limits) -> list[list[Alert]]:
    """Split sorted alerts into messages that each fit the block limit (never empty)."""
    chunks: list[list[Alert]] = []
    current: list[Alert] = []
    for alert in alerts:
        candidate = [*current, alert]
        groups = len({a.severity_key for a in candidate})
        if current and _blocks_needed(groups, len(candidate)) > limits.blocks_per_message:
            chunks.append(current)
            candidate = [alert]
        current = candidate
    if current:
        chunks.append(current)
    return chunks


def _fallback_text(parts: list[tuple[bool, str]], limits: Limits) -> str:
    """The notification / fallback text: whole parts until the limit, then an 'n more' line.

    `parts` are (is_alert, text); the text is cut only at part boundaries.
    """
    total = sum(1 for is_alert, _ in parts if is_alert)
    text = ""
    shown = 0
    for is_alert, part in parts:
        more = f"… and {total - shown} more alert(s): see the message blocks"
        candidate = f"{text}\n{part}" if text else part
        if len(candidate) + 1 + len(more) > limits.text_chars and (total - shown) > 0:
            head = truncate(text, limits.text_chars - len(more) - 1) if text else ""
            return f"{head}\n{more}" if head else truncate(more, limits.text_chars)
        text = candidate
        shown += is_alert
    return truncate(text, limits.text_chars)


def build_messages(digest: Digest, limits: Limits | None = None) -> list[Message]:
    """The Slack messages for one channel's digest; an empty digest gives no message."""
    limits = limits or Limits()
    ordered = sort_alerts(digest.alerts)
    if not ordered:
        return []
    totals: dict[str, int] = {}
    for alert in ordered:
        totals[alert.severity_key] = totals.get(alert.severity_key, 0) + 1
    chunks = pack(ordered, limits)
    messages: list[Message] = []
    seen_groups: set[str] = set()
    for part, chunk in enumerate(chunks, start=1):
        header = header_text(digest, len(ordered), part, len(chunks), limits)
        context = context_text(digest)
        blocks: list[dict[str, object]] = [
            {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(context, limits.section_chars)}]},
        ]
        text_parts: list[tuple[bool, str]] = [(False, header), (False, context)]
        current_group: str | None = None
        for alert in chunk:
            if alert.severity_key != current_group:
                if current_group is not None:
                    blocks.append({"type": "divider"})
                current_group = alert.severity_key
                title = group_title(current_group, totals[current_group], continued=current_group in seen_groups)
                seen_groups.add(current_group)
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": title}})
                text_parts.append((False, title))
            section = alert_section_text(alert, digest.usage_date, limits)
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": section}})
            text_parts.append((True, section))
        messages.append(
            Message(
                channel=digest.channel,
                text=_fallback_text(text_parts, limits),
                blocks=blocks,
                alert_ids=tuple(a.alert_id for a in chunk),
            )
        )
    return messages


def all_clear_id(usage_date: dt.date) -> str:
    """The delivery-log key of a day's all-clear message (so it is posted once too)."""
    return f"all_clear:{usage_date.isoformat()}"


def build_all_clear(
    channel: str, teams: Sequence[str], usage_date: dt.date, cost_date: dt.date, limits: Limits | None = None
) -> Message:
    limits = limits or Limits()
    header = f":white_check_mark: LTX monitoring · {_team_label(teams)} · {usage_date.isoformat()} · all clear"
    body = f"No alerts for usage day {usage_date.isoformat()} or the finalised cost day {cost_date.isoformat()}."
    return Message(
        channel=channel,
        text=f"{header[: limits.header_chars]}\n{body}",
        blocks=[
            {"type": "header", "text": {"type": "plain_text", "text": header[: limits.header_chars], "emoji": True}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body}},
        ],
        alert_ids=(all_clear_id(usage_date),),
    )
