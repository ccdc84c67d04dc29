"""Routing: the [[routes]] of channels.toml (team / domain / severity -> destination), env overrides, unknown
teams never dropped, and every configuration error."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.cli import finalised_cost_date
from alerting.routing import DEFAULT_CONFIG, Routing, RoutingError, load_routing, parse_routing, team_env_var
from tests.python.alerting_support import COST_DAY, DAY, cost_alert, create_marts, usage_alert
from tests.python.delivery_support import composed_run, team_routes

CONFIG = {
    "default_channel": "#ltx-monitoring",
    "routes": team_routes(product="#usage", api="#api", studio="C0123ABCD"),
}


def test_repo_config_routes_every_team_of_the_contract() -> None:
    routing = load_routing(DEFAULT_CONFIG, env={})
    channels = {team: routing.channel_for(team) for team in ("product", "api", "studio", "engineering")}
    assert channels == {
        "product": "#ltx-usage-alerts",
        "api": "#ltx-api-cost-alerts",
        "studio": "#ltx-studio-cost-alerts",
        "engineering": "#ltx-infra-cost-alerts",
    }
    assert routing.channel_for("data") == "#ltx-data-alerts"
    assert routing.default_channel == "#ltx-monitoring"
    assert routing.post_all_clear is False and not routing.uses_linear
    assert not any(r.summary or r.loud_min_severity or r.cont for r in routing.routes)


def taken(routing: Routing, team: str | None, domain: str = "usage", severity: str = "critical") -> list[str | None]:
    return [r.slack or r.linear for r in routing.routes_for(team, domain, severity)]


TABLE = {
    "default_channel": "#mon",
    "routes": [
        {"match": {"team": "api", "severity": "critical"}, "slack": "#api-page", "continue": True},
        {"match": {"team": ["api", "studio"], "domain": "gpu_cost"}, "slack": "#cost"},
        {"match": {"domain": "data_health"}, "slack": "#data"},
        {"match": {"team": "api"}, "slack": "#api-other"},
    ],
}


def test_routes_match_team_domain_and_severity_in_order() -> None:
    routing = parse_routing(TABLE, {})
    assert taken(routing, "api", "gpu_cost", "critical") == ["#api-page", "#cost"]  # continue: the next fits too
    assert taken(routing, "api", "gpu_cost", "warning") == ["#cost"]  # the first that fits ends the walk
    assert taken(routing, " Studio ", "gpu_cost", "notice") == ["#cost"]  # a list; case and blanks ignored
    assert taken(routing, "api", "usage", "warning") == ["#api-other"]  # #cost wants gpu_cost
    assert taken(routing, "studio", "usage", "critical") == ["#mon"]  # no Slack route: the default channel
    assert taken(routing, "product", "data_health", "notice") == ["#data"]  # any team
    assert taken(routing, "api", "data_health", "critical") == ["#api-page", "#data"]


def test_env_overrides_the_channel_of_every_route_of_the_team_and_adds_its_linear_route() -> None:
    team_id = "5c3a1e2f-8b7d-4c1a-9e0f-2d4b6a8c0e1f"
    env = {"LTX_SLACK_CHANNEL_API": "#api-oncall", "LTX_LINEAR_TEAM_API": team_id.upper()}
    routing = parse_routing(TABLE, env)
    assert taken(routing, "api", "gpu_cost", "critical") == [team_id, "#api-oncall", "#api-oncall"]
    assert taken(routing, "api", "gpu_cost", "notice") == ["#api-oncall"]  # Linear's default: critical
    assert taken(routing, "studio", "gpu_cost", "critical") == ["#cost"]
    assert routing.uses_linear and not parse_routing(TABLE, {}).uses_linear


def test_a_linear_route_in_the_file_follows_a_slack_route_that_continues() -> None:
    team_id = "5c3a1e2f-8b7d-4c1a-9e0f-2d4b6a8c0e1f"
    config = {"default_channel": "#mon", "routes": [
        {"match": {"team": "api"}, "slack": "#api", "continue": True},
        {"match": {"team": "api"}, "linear": team_id, "min_severity": "warning"},
    ]}  # fmt: skip
    routing = parse_routing(config, {})
    assert routing.uses_linear
    assert taken(routing, "api", "gpu_cost", "warning") == ["#api", team_id]
    assert taken(routing, "api", "gpu_cost", "notice") == ["#api"]


@pytest.mark.parametrize("team", ["marketing", "", None, "  ", "<!channel>"])
def test_unknown_team_goes_to_default_channel(team: str | None) -> None:
    assert parse_routing(CONFIG, {}).channel_for(team) == "#ltx-monitoring"


def test_team_match_ignores_case_and_whitespace() -> None:
    assert parse_routing(CONFIG, {}).channel_for(" API ") == "#api"
    assert parse_routing(CONFIG, {}).channel_for("studio") == "C0123ABCD"


def test_env_overrides_team_and_default_channel() -> None:
    env = {"LTX_SLACK_CHANNEL_API": "#api-oncall", "LTX_SLACK_DEFAULT_CHANNEL": "#fallback"}
    routing = parse_routing(CONFIG, env)
    assert routing.channel_for("api") == "#api-oncall"
    assert routing.channel_for("product") == "#usage"
    assert routing.channel_for("nobody") == "#fallback"
    assert team_env_var("data-eng") == "LTX_SLACK_CHANNEL_DATA_ENG"


def test_env_override_can_route_a_team_missing_from_the_file() -> None:
    routing = parse_routing(CONFIG, {"LTX_SLACK_CHANNEL_ENGINEERING": "#infra"})
    assert routing.channel_for("engineering") == "#infra"


@pytest.mark.parametrize("bad", ["", "general", "#Has Space", "#<!channel>", 42, None])
def test_bad_channel_names_are_rejected(bad: object) -> None:
    with pytest.raises(RoutingError):
        parse_routing({"default_channel": "#ok", "routes": [{"slack": bad}]}, {})
    with pytest.raises(RoutingError):
        parse_routing({"default_channel": bad}, {})


def test_bad_env_override_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(RoutingError, match="LTX_SLACK_CHANNEL_API: 'not a channel' is not a Slack channel"):
        parse_routing(CONFIG, {"LTX_SLACK_CHANNEL_API": "not a channel"})  # at start, before anything is posted


def test_config_file_from_env_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'default_channel = "#x"\npost_all_clear = true\n[[routes]]\nmatch = { team = "api" }\nslack = "#a"\n'
    )
    routing = load_routing(env={"LTX_ALERTING_CHANNELS_FILE": str(path)})
    assert routing.channel_for("api") == "#a" and routing.post_all_clear is True
    with pytest.raises(RoutingError, match="cannot read"):
        load_routing(tmp_path / "missing.toml", env={})
    path.write_text("default_channel = ")
    with pytest.raises(RoutingError, match="not valid TOML"):
        load_routing(path, env={})


def test_a_run_groups_by_channel_and_holds_back_only_held_and_delivered(tmp_path: Path) -> None:
    routing = parse_routing(CONFIG, {})
    alerts = [
        usage_alert("u1"),
        usage_alert("u2", is_suppressed=True),
        cost_alert("c1"),
        cost_alert("c2", team="studio", scope="studio"),
        cost_alert("c3", team="mystery"),
        cost_alert("c4", team="engineering"),  # a team without a channel of its own
    ]
    db = tmp_path / "marts.duckdb"
    create_marts(db, alerts[2:3])
    composed_run(db, routing, DAY, COST_DAY)  # an earlier run delivered c1 to #api
    create_marts(db, alerts)
    report, composer = composed_run(db, routing, DAY, COST_DAY)
    by_channel = {d.channel: [a.alert_id for a in d.alerts] for d, _ in composer.digests}
    assert by_channel == {"#usage": ["u1"], "C0123ABCD": ["c2"], "#ltx-monitoring": ["c3", "c4"]}
    assert not composer.repeats
    assert report.suppressed == 1 and report.held_by_reason == {"enterprise_weekend": 1}
    assert report.already_delivered == 1
    # every alert is either delivered now, already delivered or held: nothing dropped
    assert report.alerts_delivered == sum(len(d.alerts) for d, _ in composer.digests) == 4
    assert report.alerts_delivered + report.already_delivered + report.suppressed == len(alerts)


@pytest.mark.parametrize(("days", "expected"), [(3, "2026-11-19"), (1, "2026-11-21"), (0, "2026-11-22")])
def test_cost_alerts_are_for_the_finalised_day(days: int, expected: str) -> None:
    # run on 2026-11-22 for D = yesterday (2026-11-21): cost day = run date - 3 = D + 1 - 3
    assert finalised_cost_date(DAY, days).isoformat() == expected


def test_routing_keeps_no_secret_from_the_environment() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-SECRET-never-print", "LTX_SLACK_CHANNEL_API": "#api-oncall"}
    routing = parse_routing({"default_channel": "#mon", "routes": team_routes(api="#api")}, env)
    assert routing.channel_for("api") == "#api-oncall"
    assert "SECRET" not in repr(routing) and "SECRET" not in str(routing)
    assert "SLACK_BOT_TOKEN" not in routing.env


UUID = "5c3a1e2f-8b7d-4c1a-9e0f-2d4b6a8c0e1f"


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"channels": {"api": "#api"}}, r"unknown key\(s\): channels \(routes are \[\[routes\]\] tables\)"),
        ({"routes": {"slack": "#a"}}, "routes must be a list"),
        ({"routes": ["#a"]}, r"\[\[routes\]\] #1 must be a table"),
        ({"routes": [{"slack": "#a", "when": {}}]}, r"#1 has unknown key\(s\): when"),
        ({"routes": [{"match": {"team": "api"}}]}, "#1 needs one destination"),
        ({"routes": [{"slack": "#a", "linear": UUID}]}, "#1 needs one destination"),
        ({"routes": [{"slack": "#a"}, {"slack": "a"}]}, r"#2.slack: 'a' is not a Slack channel"),
        ({"routes": [{"linear": "team-api"}]}, r"#1.linear: 'team-api' is not a Linear team id"),
        ({"routes": [{"match": {"scope": "api"}, "slack": "#a"}]}, "#1.match must be a table of team, domain"),
        ({"routes": [{"match": "api", "slack": "#a"}]}, "#1.match must be a table"),
        ({"routes": [{"match": {"team": []}, "slack": "#a"}]}, "#1.match.team must be a string or a list"),
        ({"routes": [{"match": {"team": ["api", 3]}, "slack": "#a"}]}, "#1.match.team must be a string or a list"),
        ({"routes": [{"match": {"severity": "high"}, "slack": "#a"}]}, r"#1.match.severity: 'high' is not a sev"),
        ({"routes": [{"slack": "#a", "loud_min_severity": "loud"}]}, r"#1.loud_min_severity: 'loud' is not a"),
        ({"routes": [{"linear": UUID, "min_severity": "urgent"}]}, r"#1.min_severity: 'urgent' is not a sev"),
        ({"routes": [{"slack": "#a", "min_severity": "warning"}]}, "min_severity / warning_streak_days are for lin"),
        ({"routes": [{"linear": UUID, "summary": True}]}, "summary for slack"),
        ({"routes": [{"slack": "#a", "continue": "yes"}]}, "continue must be true or false"),
        ({"routes": [{"slack": "#a", "summary": 1}]}, "summary must be true or false"),
        ({"routes": [{"linear": UUID, "warning_streak_days": -1}]}, "warning_streak_days must be a whole number"),
        ({"routes": [{"linear": UUID, "warning_streak_days": True}]}, "warning_streak_days must be a whole number"),
        ({"post_all_clear": "no"}, "post_all_clear must be true or false"),
        ({"lifecycle": {"quiet_summary": True}}, r"\[lifecycle\]: \[lifecycle\] has unknown key"),
    ],
)
def test_every_configuration_error_says_what_and_where(config: dict[str, object], error: str) -> None:
    with pytest.raises(RoutingError, match=error):
        parse_routing({"default_channel": "#mon", **config}, {})
