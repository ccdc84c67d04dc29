"""Team -> Slack channel routing from `alerting/channels.toml` (env may override), and which
incidents also go to a team's Linear (its `[linear]` table, `LTX_LINEAR_TEAM_<TEAM>`)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerting.lifecycle import LifecycleConfig, config_from_mapping
from alerting.model import SEVERITY_ORDER, severity_rank

DEFAULT_CONFIG = Path(__file__).with_name("channels.toml")
CONFIG_ENV = "LTX_ALERTING_CHANNELS_FILE"
DEFAULT_CHANNEL_ENV = "LTX_SLACK_DEFAULT_CHANNEL"
CHANNEL_ENV_PREFIX = "LTX_SLACK_CHANNEL_"
# "#name" (lower-case letters, digits, - _ .) or a channel / user id such as C0123ABCD
_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGDU][A-Z0-9]{2,30})$")
LINEAR_ENV_PREFIX = "LTX_LINEAR_TEAM_"
# a Linear team id is a UUID (Settings > Teams, or the API's `teams { nodes { id } }`)
_LINEAR_TEAM = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class RoutingError(ValueError):
    """The routing configuration is unusable (missing file, bad channel name, ...)."""


def validate_channel(channel: object, where: str) -> str:
    if not isinstance(channel, str) or not _CHANNEL.match(channel.strip()):
        raise RoutingError(f"{where}: {channel!r} is not a Slack channel ('#name' or an id like C0123ABCD)")
    return channel.strip()


def validate_linear_team(team_id: object, where: str) -> str:
    if not isinstance(team_id, str) or not _LINEAR_TEAM.match(team_id.strip().lower()):
        raise RoutingError(f"{where}: {team_id!r} is not a Linear team id (a UUID like 3f2a...-...)")
    return team_id.strip().lower()


def team_env_var(team: str, prefix: str = CHANNEL_ENV_PREFIX) -> str:
    """LTX_SLACK_CHANNEL_<TEAM> (or `prefix`<TEAM>): team upper-cased, every non-alphanumeric as '_'."""
    return prefix + re.sub(r"[^A-Z0-9]", "_", team.upper())


@dataclass(frozen=True)
class LinearRoute:
    """Which incidents open a Linear issue: the headline at `min_severity` or above at once, or
    WARNING and above on day `warning_streak_days` (and after) of its series' consecutive days."""

    min_severity: str = "critical"
    warning_streak_days: int = 3  # 0: never for the streak

    def __post_init__(self) -> None:
        if self.min_severity not in SEVERITY_ORDER:
            raise RoutingError(f"[linear] min_severity must be one of {', '.join(SEVERITY_ORDER)}")
        days = self.warning_streak_days
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 366:
            raise RoutingError(f"[linear] warning_streak_days must be a whole number 0..366, not {days!r}")

    def matches(self, severity: str, streak_days: int) -> bool:
        rank = severity_rank(severity)
        if rank <= severity_rank(self.min_severity):
            return True
        return 0 < self.warning_streak_days <= streak_days and rank <= severity_rank("warning")


@dataclass(frozen=True)
class Routing:
    default_channel: str
    channels: Mapping[str, str] = field(default_factory=dict)
    post_all_clear: bool = False
    # only the channel / Linear team overrides (LTX_SLACK_CHANNEL_*, LTX_LINEAR_TEAM_*) are kept, and never
    # printed: the process environment also holds the tokens, which must not reach a repr, a log or a traceback
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    linear_teams: Mapping[str, str] = field(default_factory=dict)  # team -> Linear team id
    linear_route: LinearRoute = field(default_factory=LinearRoute)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)  # the file's [lifecycle] table

    def __post_init__(self) -> None:
        overrides = {k: v for k, v in self.env.items() if k.startswith((CHANNEL_ENV_PREFIX, LINEAR_ENV_PREFIX)) and v}
        for name, value in overrides.items():
            if name.startswith(LINEAR_ENV_PREFIX):
                validate_linear_team(value, name)
        object.__setattr__(self, "env", overrides)

    def channel_for(self, team: str | None) -> str:
        """The team's channel; env override first; unknown / empty team -> default channel."""
        key = (team or "").strip().lower()
        if override := self.env.get(team_env_var(key)) if key else None:
            return validate_channel(override, team_env_var(key))
        return self.channels.get(key, self.default_channel) if key else self.default_channel

    def linear_destination(self, team: str | None, severity: str, streak_days: Callable[[], int]) -> str | None:
        """`linear:<team id>` when the team has a Linear team (env override first) and the incident's headline
        matches the route (`streak_days`: its series' consecutive days, computed only for a team with Linear)."""
        key = (team or "").strip().lower()
        team_id = self.env.get(team_env_var(key, LINEAR_ENV_PREFIX)) if key else None
        team_id = validate_linear_team(team_id, "LTX_LINEAR_TEAM_*") if team_id else self.linear_teams.get(key)
        return f"linear:{team_id}" if team_id and self.linear_route.matches(severity, streak_days()) else None

    @property
    def uses_linear(self) -> bool:
        return bool(self.linear_teams) or any(k.startswith(LINEAR_ENV_PREFIX) for k in self.env)


def _table(config: Mapping[str, Any], key: str, error: str) -> Mapping[str, Any]:
    section = config.get(key, {})
    if not isinstance(section, Mapping):
        raise RoutingError(error)
    return section


def parse_routing(config: Mapping[str, Any], env: Mapping[str, str]) -> Routing:  # pure: the parsed TOML and env
    default = validate_channel(env.get(DEFAULT_CHANNEL_ENV) or config.get("default_channel"), "default_channel")
    raw_channels = _table(config, "channels", '[channels] must be a table of team = "#channel"')
    channels = {str(k).strip().lower(): validate_channel(v, f"channels.{k}") for k, v in raw_channels.items()}
    all_clear = config.get("post_all_clear", False)
    if not isinstance(all_clear, bool):
        raise RoutingError("post_all_clear must be true or false")
    linear = _table(config, "linear", "[linear] must be a table")
    unknown = set(linear) - {"teams", "min_severity", "warning_streak_days"}
    if unknown:
        raise RoutingError(f"[linear] has unknown key(s): {', '.join(sorted(unknown))}")
    raw_teams = _table(linear, "teams", '[linear.teams] must be a table of team = "<Linear team id>"')
    teams = {str(k).strip().lower(): validate_linear_team(v, f"linear.teams.{k}") for k, v in raw_teams.items()}
    route = LinearRoute(
        str(linear.get("min_severity", "critical")).strip().lower(), linear.get("warning_streak_days", 3)
    )
    section = _table(config, "lifecycle", "[lifecycle] must be a table")
    try:
        lifecycle = config_from_mapping(section)
    except (TypeError, ValueError) as exc:
        raise RoutingError(f"[lifecycle]: {exc}") from None
    return Routing(default, channels, all_clear, dict(env), teams, route, lifecycle)


def load_routing(path: Path | None = None, env: Mapping[str, str] | None = None) -> Routing:
    env = os.environ if env is None else env
    path = path or Path(env.get(CONFIG_ENV) or DEFAULT_CONFIG)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RoutingError(f"cannot read the channel config {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RoutingError(f"{path} is not valid TOML: {exc}") from None
    return parse_routing(config, env)
