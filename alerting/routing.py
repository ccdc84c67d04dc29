"""Team -> Slack channel routing from `alerting/channels.toml` (env may override)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).with_name("channels.toml")
CONFIG_ENV = "LTX_ALERTING_CHANNELS_FILE"
DEFAULT_CHANNEL_ENV = "LTX_SLACK_DEFAULT_CHANNEL"
CHANNEL_ENV_PREFIX = "LTX_SLACK_CHANNEL_"
# "#name" (lower-case letters, digits, - _ .) or a channel / user id such as C0123ABCD
_CHANNEL = re.compile(r"^(#[a-z0-9][a-z0-9._-]{0,79}|[CGDU][A-Z0-9]{2,30})$")


class RoutingError(ValueError):
    """The routing configuration is unusable (missing file, bad channel name, ...)."""


def validate_channel(channel: object, where: str) -> str:
    if not isinstance(channel, str) or not _CHANNEL.match(channel.strip()):
        raise RoutingError(f"{where}: {channel!r} is not a Slack channel ('#name' or an id like C0123ABCD)")
    return channel.strip()


def team_env_var(team: str) -> str:
    """LTX_SLACK_CHANNEL_<TEAM>: team upper-cased, every non-alphanumeric as '_'."""
    return CHANNEL_ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", team.upper())


@dataclass(frozen=True)
class Routing:
    default_channel: str
    channels: Mapping[str, str] = field(default_factory=dict)
    post_all_clear: bool = False
    # only the channel overrides (LTX_SLACK_CHANNEL_*) are kept, and never printed: the process
    # environment also holds SLACK_BOT_TOKEN, which must not reach a repr, a log line or a traceback
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        overrides = {k: v for k, v in self.env.items() if k.startswith(CHANNEL_ENV_PREFIX)}
        object.__setattr__(self, "env", overrides)

    def channel_for(self, team: str | None) -> str:
        """The team's channel; env override first; unknown / empty team -> default channel."""
        key = (team or "").strip().lower()
        if key:
            override = self.env.get(team_env_var(key))
            if override:
                return validate_channel(override, team_env_var(key))
            if key in self.channels:
                return self.channels[key]
        return self.default_channel

    def known_teams(self) -> list[str]:
        return sorted(self.channels)


def parse_routing(config: Mapping[str, object], env: Mapping[str, str]) -> Routing:
    """Pure: build a Routing from the parsed TOML and an environment mapping."""
    default = env.get(DEFAULT_CHANNEL_ENV) or config.get("default_channel")
    default = validate_channel(default, "default_channel")
    raw_channels = config.get("channels", {})
    if not isinstance(raw_channels, Mapping):
        raise RoutingError('[channels] must be a table of team = "#channel"')
    channels = {
        str(team).strip().lower(): validate_channel(channel, f"channels.{team}")
        for team, channel in raw_channels.items()
    }
    all_clear = config.get("post_all_clear", False)
    if not isinstance(all_clear, bool):
        raise RoutingError("post_all_clear must be true or false")
    return Routing(default_channel=default, channels=channels, post_all_clear=all_clear, env=dict(env))


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
