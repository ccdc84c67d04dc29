"""Where each incident goes: the `[[routes]]` of `alerting/channels.toml` (team / domain / severity -> a Slack
channel or a Linear team, tried in order as in Alertmanager), with env overrides."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerting.lifecycle import LifecycleConfig, config_from_mapping
from alerting.model import SEVERITY_ORDER, Alert, severity_rank

DEFAULT_CONFIG = Path(__file__).with_name("channels.toml")
CONFIG_ENV = "LTX_ALERTING_CHANNELS_FILE"
DEFAULT_CHANNEL_ENV = "LTX_SLACK_DEFAULT_CHANNEL"
CHANNEL_ENV_PREFIX = "LTX_SLACK_CHANNEL_"
LINEAR_ENV_PREFIX = "LTX_LINEAR_TEAM_"
_VALID = {  # a Slack channel: "#name" (lower-case letters, digits, - _ .) or an id; a Linear team id: a UUID
    "slack": (r"#[a-z0-9][a-z0-9._-]{0,79}|[CGDU][A-Z0-9]{2,30}", "a Slack channel ('#name' or an id like C0123ABCD)"),
    "linear": ("[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", "a Linear team id (a UUID like 3f2a...-...)"),
    "severity": ("|".join(SEVERITY_ORDER), f"a severity ({', '.join(SEVERITY_ORDER)})"),
}
MATCH_KEYS = ("team", "domain", "severity")
_ROUTE_KEYS = {"match", "slack", "linear", "continue", "loud_min_severity", "summary", "min_severity",
               "warning_streak_days"}  # fmt: skip


class RoutingError(ValueError):
    """The routing configuration is unusable (missing file, bad channel name, ...)."""


def _valid(kind: str, value: object, where: str) -> str:
    pattern, what = _VALID[kind]
    text = value.strip() if isinstance(value, str) else ""
    text = text if kind == "slack" else text.lower()
    if not re.fullmatch(pattern, text):
        raise RoutingError(f"{where}: {value!r} is not {what}")
    return text


def team_env_var(team: str, prefix: str = CHANNEL_ENV_PREFIX) -> str:
    """LTX_SLACK_CHANNEL_<TEAM> (or `prefix`<TEAM>): team upper-cased, every non-alphanumeric as '_'."""
    return prefix + re.sub(r"[^A-Z0-9]", "_", team.upper())


@dataclass(frozen=True)
class Route:
    """One `[[routes]]` entry: an alert whose team / domain / severity fit `match` goes to `slack` or `linear`."""

    match: Mapping[str, frozenset[str]] = field(default_factory=dict)  # a key not given: any value
    slack: str | None = None
    linear: str | None = None  # a Linear team id
    cont: bool = False  # `continue`: later routes may match too
    loud_min_severity: str | None = None  # below it an alert is quiet here, whatever its is_loud
    summary: bool = False  # quiet-only incidents routed here: one `Summary:` message a day
    min_severity: str = "critical"  # Linear: this severity or above at once,
    warning_streak_days: int = 3  # or WARNING and above from this day of the series' streak on (0: never)

    def fits(self, values: Mapping[str, str], run_days: int) -> bool:
        if any(values[key] not in allowed for key, allowed in self.match.items()):
            return False
        rank = severity_rank(values["severity"])
        if self.linear is None or rank <= severity_rank(self.min_severity):
            return True
        return rank <= severity_rank("warning") and 0 < self.warning_streak_days <= run_days

    def loud(self, a: Alert) -> bool:
        floor = self.loud_min_severity
        return a.is_loud and (floor is None or severity_rank(a.severity) <= severity_rank(floor))


@dataclass(frozen=True)
class Routing:
    default_channel: str
    routes: tuple[Route, ...] = ()
    post_all_clear: bool = False
    # only the channel / Linear team overrides (LTX_SLACK_CHANNEL_*, LTX_LINEAR_TEAM_*) are kept, and never
    # printed: the process environment also holds the tokens, which must not reach a repr, a log or a traceback
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)  # the file's [lifecycle] table

    def __post_init__(self) -> None:
        kind = {CHANNEL_ENV_PREFIX: "slack", LINEAR_ENV_PREFIX: "linear"}
        valid = {k: _valid(kind[p], v, k) for k, v in self.env.items() for p in kind if k.startswith(p) and v}
        object.__setattr__(self, "env", valid)

    def override(self, team: str | None) -> str | None:
        """LTX_SLACK_CHANNEL_<TEAM>: the channel of every Slack route the team's alerts take."""
        return self.env.get(team_env_var(team.strip())) if team and team.strip() else None

    def routes_for(self, team: str | None, domain: str | None, severity: str | None, run_days: int = 0) -> list[Route]:
        """The routes an alert takes, in order: the first that fits ends the walk unless it says `continue`;
        LTX_LINEAR_TEAM_<TEAM> first; no Slack route: the default channel. `run_days`: fct_alerts.run_days,
        read only by a Linear route."""
        key = (team or "").strip().lower()
        linear = self.env.get(team_env_var(key, LINEAR_ENV_PREFIX)) if key else None
        walk = [Route(linear=linear, cont=True)] if linear else []
        values = {"team": key, "domain": (domain or "").strip().lower(), "severity": (severity or "").strip().lower()}
        taken: list[Route] = []
        for route in [*walk, *self.routes]:
            if route.fits(values, run_days):
                taken.append(route)
                if not route.cont:
                    break
        if not any(r.slack for r in taken):
            taken.append(Route(slack=self.default_channel))
        channel = self.override(key)
        return [dataclasses.replace(r, slack=channel) if channel and r.slack else r for r in taken]

    def channel_for(self, team: str | None, domain: str | None = None, severity: str | None = None) -> str:
        """The first Slack channel of the routes an alert of this team / domain / severity takes (the backtest's
        channel column); a team's message that is no alert (pipeline health): the team's alone."""
        return next(r.slack for r in self.routes_for(team, domain, severity) if r.slack is not None)

    @property
    def uses_linear(self) -> bool:
        return any(r.linear for r in self.routes) or any(k.startswith(LINEAR_ENV_PREFIX) for k in self.env)


def _match(raw: object, where: str) -> dict[str, frozenset[str]]:
    if not isinstance(raw, Mapping) or set(raw) - set(MATCH_KEYS):
        raise RoutingError(f"{where} must be a table of {', '.join(MATCH_KEYS)} (each a string or a list)")
    out = {}
    for key, value in raw.items():
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise RoutingError(f"{where}.{key} must be a string or a list of strings, not {value!r}")
        if key == "severity":
            values = [_valid("severity", v, f"{where}.severity") for v in values]
        out[key] = frozenset(v.strip().lower() for v in values)
    return out


def _route(raw: object, where: str) -> Route:
    if not isinstance(raw, Mapping):
        raise RoutingError(f"{where} must be a table")
    if unknown := set(raw) - _ROUTE_KEYS:
        raise RoutingError(f"{where} has unknown key(s): {', '.join(sorted(unknown))}")
    if len({"slack", "linear"} & set(raw)) != 1:
        raise RoutingError(f'{where} needs one destination: slack = "#channel" or linear = "<Linear team id>"')
    linear_only = {"min_severity", "warning_streak_days"} & set(raw)
    if ("slack" in raw and linear_only) or ("linear" in raw and "summary" in raw):
        raise RoutingError(f"{where}: min_severity / warning_streak_days are for linear, summary for slack")
    for flag in ("continue", "summary"):
        if not isinstance(raw.get(flag, False), bool):
            raise RoutingError(f"{where}: {flag} must be true or false")
    days = raw.get("warning_streak_days", 3)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 366:
        raise RoutingError(f"{where}: warning_streak_days must be a whole number 0..366, not {days!r}")
    floor = raw.get("loud_min_severity")
    return Route(
        match=_match(raw.get("match", {}), f"{where}.match"),
        slack=_valid("slack", raw["slack"], f"{where}.slack") if "slack" in raw else None,
        linear=_valid("linear", raw["linear"], f"{where}.linear") if "linear" in raw else None,
        cont=raw.get("continue", False),
        loud_min_severity=None if floor is None else _valid("severity", floor, f"{where}.loud_min_severity"),
        summary=raw.get("summary", False),
        min_severity=_valid("severity", raw.get("min_severity", "critical"), f"{where}.min_severity"),
        warning_streak_days=days,
    )


def parse_routing(config: Mapping[str, Any], env: Mapping[str, str]) -> Routing:  # pure: the parsed TOML and env
    if unknown := set(config) - {"default_channel", "post_all_clear", "routes", "lifecycle"}:
        raise RoutingError(f"unknown key(s): {', '.join(sorted(unknown))} (routes are [[routes]] tables)")
    default = _valid("slack", env.get(DEFAULT_CHANNEL_ENV) or config.get("default_channel"), "default_channel")
    raw_routes = config.get("routes", [])
    if not isinstance(raw_routes, list):
        raise RoutingError("routes must be a list of [[routes]] tables")
    routes = tuple(_route(raw, f"[[routes]] #{i}") for i, raw in enumerate(raw_routes, 1))
    all_clear = config.get("post_all_clear", False)
    if not isinstance(all_clear, bool):
        raise RoutingError("post_all_clear must be true or false")
    try:
        lifecycle = config_from_mapping(config.get("lifecycle", {}))
    except (TypeError, ValueError) as exc:
        raise RoutingError(f"[lifecycle]: {exc}") from None
    return Routing(default, routes, all_clear, dict(env), lifecycle)


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
