"""Pure planning: which alerts go to which channel today (and which are already delivered)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Set
from dataclasses import dataclass

from alerting.model import Alert, Digest
from alerting.routing import Routing


def finalised_cost_date(usage_date: dt.date, cost_finalisation_days: int) -> dt.date:
    """Cost alerts of a run for data day D are for D + 1 - cost_finalisation_days.

    With the default date (yesterday) that is run date - cost_finalisation_days (3 by
    default, the dbt var of the same name): cost data needs ~3 days to finalise.
    """
    if cost_finalisation_days < 0:
        raise ValueError("cost_finalisation_days must be >= 0")
    return usage_date + dt.timedelta(days=1 - cost_finalisation_days)


@dataclass(frozen=True)
class Plan:
    digests: tuple[Digest, ...]
    suppressed: tuple[Alert, ...]
    already_delivered: int


def plan_digests(
    alerts: Iterable[Alert],
    routing: Routing,
    usage_date: dt.date,
    cost_date: dt.date,
    delivered: Set[tuple[str, str]] = frozenset(),
) -> Plan:
    """Group postable alerts by channel, dropping held ones and those already delivered.

    An incident whose members belong to two teams appears, whole, in both teams' channels.
    """
    by_channel: dict[str, list[Alert]] = {}
    teams: dict[str, set[str]] = {}
    suppressed: list[Alert] = []
    skipped = 0
    incidents: dict[str, list[Alert]] = {}
    for alert in alerts:
        if not alert.postable:  # held (suppressed, muted, incomplete data, thin baseline): never posted
            suppressed.append(alert)
            continue
        incidents.setdefault(alert.incident_key, []).append(alert)
    # an incident goes whole to the channel of every team among its members
    for members in incidents.values():
        for channel in sorted({routing.channel_for(a.team) for a in members}):
            for alert in members:
                if (alert.alert_id, channel) in delivered:
                    skipped += 1
                    continue
                by_channel.setdefault(channel, []).append(alert)
                if routing.channel_for(alert.team) == channel:  # the header names the channel's own teams
                    teams.setdefault(channel, set()).add((alert.team or "unassigned").strip() or "unassigned")
    digests = tuple(
        Digest(
            channel=channel,
            teams=tuple(sorted(teams.get(channel, ()))),
            usage_date=usage_date,
            cost_date=cost_date,
            alerts=tuple(by_channel[channel]),
            held=held_for(channel, by_channel[channel], suppressed, routing),
        )
        for channel in sorted(by_channel)
    )
    return Plan(digests=digests, suppressed=tuple(suppressed), already_delivered=skipped)


def held_for(channel: str, posted: Iterable[Alert], held: Iterable[Alert], routing: Routing) -> tuple[Alert, ...]:
    """The held alerts a channel's digest counts: its own, plus every incomplete-data hold when it
    carries a data-health alert (that alert says how many alerts wait for the data)."""
    held = list(held)
    own = [a for a in held if routing.channel_for(a.team) == channel]
    if any(a.domain == "data_health" for a in posted):
        own += [a for a in held if a.hold_reason == "incomplete_data" and a not in own]
    return tuple(own)


def all_clear_channels(routing: Routing, alerts: Iterable[Alert]) -> dict[str, tuple[str, ...]]:
    """Channels (with their teams) of configured teams that have no postable alert today."""
    busy = {routing.channel_for(a.team) for a in alerts if a.postable}
    quiet: dict[str, list[str]] = {}
    for team in routing.known_teams():
        channel = routing.channel_for(team)
        if channel not in busy:
            quiet.setdefault(channel, []).append(team)
    return {ch: tuple(sorted(teams)) for ch, teams in sorted(quiet.items())}
