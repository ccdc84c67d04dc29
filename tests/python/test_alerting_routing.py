"""Routing: team -> channel from channels.toml, env overrides, unknown teams never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.dates import finalised_cost_date
from alerting.routing import DEFAULT_CONFIG, RoutingError, load_routing, parse_routing, team_env_var
from tests.python.alerting_support import COST_DAY, DAY, cost_alert, create_marts, usage_alert
from tests.python.delivery_support import composed_run

CONFIG = {
    "default_channel": "#ltx-monitoring",
    "channels": {"product": "#usage", "api": "#api", "studio": "C0123ABCD"},
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
    assert routing.default_channel == "#ltx-monitoring"
    assert routing.post_all_clear is False


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
        parse_routing({"default_channel": "#ok", "channels": {"api": bad}}, {})
    with pytest.raises(RoutingError):
        parse_routing({"default_channel": bad}, {})


def test_bad_env_override_is_an_error_not_a_silent_drop() -> None:
    with pytest.raises(RoutingError):
        parse_routing(CONFIG, {"LTX_SLACK_CHANNEL_API": "not a channel"}).channel_for("api")


def test_config_file_from_env_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('default_channel = "#x"\npost_all_clear = true\n[channels]\napi = "#a"\n')
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
    routing = parse_routing({"default_channel": "#mon", "channels": {"api": "#api"}}, env)
    assert routing.channel_for("api") == "#api-oncall"
    assert "SECRET" not in repr(routing) and "SECRET" not in str(routing)
    assert "SLACK_BOT_TOKEN" not in routing.env
