"""CLI: exit codes 0/1/2/3, the data-readiness gate, release of held alerts, backtest, token checks."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from alerting.cli import main
from ltx_reports import backtest
from tests.python.alerting_support import (
    DAY,
    FAKE_TOKEN,
    cost_alert,
    create_marts,
    fake_slack,
    log_rows,
    usage_alert,
)

CHANNELS = """default_channel = "#ltx-monitoring"
post_all_clear = false
routes = [
    { match = { team = "product" }, slack = "#usage" },
    { match = { team = "api" }, slack = "#api" },
    { match = { team = "studio" }, slack = "#studio" },
    { match = { team = "data" }, slack = "#data" },
]
"""


def write_health(path: Path, rows: list[tuple[dt.date, str, str, float | None]]) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create or replace table main_marts.fct_data_health"
            " (dt date, source varchar, rows bigint, expected_rows double, completeness double,"
            " status varchar, status_reason varchar, build_id varchar)"
        )
        for day, source, status, completeness in rows:
            con.execute(
                "insert into main_marts.fct_data_health values (?, ?, 100, 100, ?, ?, ?, null)",
                [day, source, completeness, status, f"{status} for the test"],
            )
    finally:
        con.close()


@pytest.fixture
def channels(tmp_path: Path) -> Path:
    path = tmp_path / "channels.toml"
    path.write_text(CHANNELS)
    return path


def cli(db: Path, url: str, channels: Path, *args: str, token: str = FAKE_TOKEN, **extra_env: str) -> int:
    env = {"SLACK_BOT_TOKEN": token, "SLACK_API_URL": url, "LTX_DUCKDB_PATH": str(db), **extra_env}
    return main([*args, "--channels-file", str(channels)], env)


def held_day(tmp_path: Path) -> Path:
    db = tmp_path / "m.duckdb"
    create_marts(
        db,
        [
            usage_alert("u-held-1", is_postable=False, hold_reason="incomplete_data", direction="decrease"),
            usage_alert("u-held-2", scope="heavy", is_postable=False, hold_reason="incomplete_data"),
            usage_alert("u-thin", scope="paying", is_postable=False, hold_reason="insufficient_baseline"),
            cost_alert("c-ok"),
        ],
    )
    return db


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        ([(DAY, "usage", "complete", 1.0)], 0),
        ([(DAY, "usage", "incomplete", 0.38)], 3),
        ([(DAY - dt.timedelta(days=1), "usage", "complete", 1.0)], 3),  # no row for the day: missing
        ([(DAY, "usage", "missing", 0.0)], 3),
        ([(DAY, "gpu_costs", "incomplete", 0.5), (DAY, "usage", "complete", 1.0)], 0),
    ],
)
def test_exit_3_when_the_usage_day_is_not_ready_and_the_rest_still_posts(
    tmp_path: Path, channels: Path, health: list[tuple[dt.date, str, str, float | None]], expected: int
) -> None:
    db = held_day(tmp_path)
    write_health(db, health)
    with fake_slack() as server:
        assert cli(db, server.url, channels, "run", "--date", DAY.isoformat(), "--all-clear") == expected
        channels_posted = sorted(p["channel"] for p in server.posted)
    assert "#api" in channels_posted  # the cost alert is posted either way
    usage_all_clear = [c for c in channels_posted if c == "#usage"]
    if expected == 3:
        assert usage_all_clear == []  # never a usage all-clear on data that is not ready
    else:
        assert usage_all_clear == ["#usage"]  # nothing postable for usage: the all-clear
    assert ("u-held-1", "#usage") not in log_rows(db)


def test_no_health_mart_skips_the_gate(tmp_path: Path, channels: Path) -> None:
    db = held_day(tmp_path)
    with fake_slack() as server:
        assert cli(db, server.url, channels, "run", "--date", DAY.isoformat()) == 0
        assert [p["channel"] for p in server.posted] == ["#api"]


def test_delivery_failure_wins_over_not_ready(tmp_path: Path, channels: Path) -> None:
    from tests.python.alerting_support import Reply

    db = held_day(tmp_path)
    write_health(db, [(DAY, "usage", "incomplete", 0.4)])
    with fake_slack() as server:
        server.default = Reply(500, {"ok": False, "error": "internal"})
        assert cli(db, server.url, channels, "run", "--date", DAY.isoformat()) == 1


def test_release_posts_only_the_days_incomplete_data_alerts_once(tmp_path: Path, channels: Path) -> None:
    db = held_day(tmp_path)
    with fake_slack() as server:
        assert cli(db, server.url, channels, "release", "--date", DAY.isoformat()) == 0
        assert cli(db, server.url, channels, "release", "--date", DAY.isoformat()) == 0  # a re-run posts nothing
        [posted] = server.posted
    assert posted["channel"] == "#usage"
    assert sorted(log_rows(db)) == [("u-held-1", "#usage"), ("u-held-2", "#usage")]  # not the thin-baseline one
    assert "Free – Tokens" in posted["text"] and "Heavy – Tokens" in posted["text"]


@pytest.mark.parametrize("token", ["xoxb-abc\nSECRET-PART-XYZ", "xoxb-abc SECRETPARTXYZ", "\txoxb-SECRETPARTXYZ"])
def test_malformed_token_exit_2_shows_nothing_of_it(
    tmp_path: Path, channels: Path, token: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = held_day(tmp_path)
    with fake_slack() as server:
        assert cli(db, server.url, channels, "run", "--date", DAY.isoformat(), token=token) == 2
        assert server.requests == []
    captured = capsys.readouterr()
    assert "SLACK_BOT_TOKEN contains" in captured.err
    for text in (captured.out, captured.err):
        assert "SECRET" not in text and "xoxb-abc" not in text


def test_unusual_token_shape_is_warned_and_used(
    tmp_path: Path, channels: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = held_day(tmp_path)
    with fake_slack() as server:
        assert cli(db, server.url, channels, "run", "--date", DAY.isoformat(), token="proxy-key-0123456789") == 0
        api_calls = [r for r in server.requests if not r.path.startswith("/upload")]  # the file PUT has no token
        assert api_calls
        assert {r.authorization for r in api_calls} == {"Bearer proxy-key-0123456789"}
    err = capsys.readouterr().err
    assert "does not start with xoxb-" in err and "0123456789" not in err


# --- backtest (pure) ---------------------------------------------------------------------------------


def week_alerts() -> list:  # held alerts are never loud, as in fct_alerts
    monday = dt.date(2026, 11, 16)  # ISO 2026-W47
    return [
        # one usage incident: two metrics of a segment, critical primary
        usage_alert("a1", incident_id="i1", alert_date=monday, severity="critical", z_score=-5.0, robust_z_score=-4.0),
        usage_alert("a2", incident_id="i1", alert_date=monday, severity="warning", z_score=-3.5, robust_z_score=-1.0,
                    is_incident_primary=False),
        usage_alert("a3", incident_id="i2", alert_date=monday, severity="notice", z_score=2.2, robust_z_score=None,
                    pct_change=0.05, is_loud=False, quiet_reason="below_severity"),
        usage_alert("a4", incident_id="i3", alert_date=monday, severity="warning", is_postable=False,
                    hold_reason="insufficient_baseline", baseline_points=6, is_loud=False),
        usage_alert("a5", incident_id="i4", alert_date=monday, severity="warning", is_postable=False,
                    hold_reason="insufficient_baseline", baseline_points=3, is_loud=False),
        usage_alert("a6", incident_id="i5", alert_date=monday + dt.timedelta(days=7), severity="critical",
                    is_postable=False, hold_reason="muted", is_loud=False),
        usage_alert("a7", incident_id="i6", alert_date=monday, severity="notice", is_suppressed=True,
                    is_postable=False, hold_reason="enterprise_weekend", is_loud=False),
    ]  # fmt: skip


def test_backtest_counts_by_week_severity_policy_and_incident() -> None:
    result = backtest.run_backtest(week_alerts())
    policies = list(result.policies)
    assert policies[:4] == ["current", "warning+", "min points 5", "no min points"]
    rows = {(w, s): cells for w, s, cells in result.rows}
    cur, warn, p5, nomin, robust, change, loud = range(7)
    assert policies[loud] == "loud"
    crit = rows[("2026-W47", "critical")]
    warning = rows[("2026-W47", "warning")]
    notice = rows[("2026-W47", "notice")]
    assert (crit[cur].alerts, crit[cur].incidents) == (1, 1)
    # a2 is a WARNING member of the critical incident i1: an alert under warning, no incident of its own
    assert (warning[cur].alerts, warning[cur].incidents) == (1, 0)
    assert (warning[p5].alerts, warning[p5].incidents) == (2, 1)  # a4 (6 points) joins; a5 (3) does not
    assert (warning[nomin].alerts, warning[nomin].incidents) == (3, 2)
    assert notice[cur].alerts == 1 and notice[warn].alerts == 0
    assert warning[robust].alerts == 0 and crit[robust].alerts == 1  # a2's robust score disagrees
    assert notice[robust].alerts == 1  # no robust score: not judged by it
    assert notice[change].alerts == 0  # +5% change
    assert (crit[loud].alerts, crit[loud].incidents) == (1, 1) and notice[loud].alerts == 0  # the NOTICE is quiet
    assert warning[loud].alerts == 1  # a2, loud itself, a member of the critical incident
    assert result.totals[cur].alerts == 3 and result.totals[cur].incidents == 2
    assert result.held == {"enterprise_weekend": 1, "insufficient_baseline": 2, "muted": 1}
    out = backtest.format_result(result)
    assert "Held by reason: enterprise_weekend 1, insufficient_baseline 2, muted 1" in out
    assert "2026-W48" in out and "2026-W47" in out


def test_backtest_counts_an_incident_under_its_most_severe_posted_member() -> None:
    """A quiet CRITICAL (a known event's day) with a loud WARNING in its incident: the `loud` policy posts the
    WARNING only, so the incident is in its warning row, not in a critical row without a loud alert."""
    day = dt.date(2026, 11, 16)
    alerts = [
        usage_alert("q1", incident_id="j1", alert_date=day, severity="critical", is_loud=False,
                    quiet_reason="calendar_event"),
        usage_alert("q2", incident_id="j1", alert_date=day, severity="warning", is_incident_primary=False),
    ]  # fmt: skip
    result = backtest.run_backtest(alerts)
    loud, cur = result.policies.index("loud"), result.policies.index("current")
    rows = {s: cells for _, s, cells in result.rows}
    assert (rows["critical"][loud].alerts, rows["critical"][loud].incidents) == (0, 0)
    assert (rows["warning"][loud].alerts, rows["warning"][loud].incidents) == (1, 1)
    assert (rows["critical"][cur].incidents, rows["warning"][cur].incidents) == (1, 0)  # both posted: the critical


def test_backtest_cli_reads_the_marts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "b.duckdb"
    create_marts(db, week_alerts())
    env = {"LTX_DUCKDB_PATH": str(db)}
    assert main(["backtest"], env) == 0
    out = capsys.readouterr().out
    assert "Backtest 2026-11-16 .. 2026-11-23: 7 alert rows (usage 7)" in out
    assert main(["backtest", "--from", "2026-11-20"], env) == 0
    assert "1 alert rows" in capsys.readouterr().out
    assert main(["backtest", "--from", "2026-11-20", "--to", "2026-11-01"], env) == 2
    assert main(["backtest"], {"LTX_DUCKDB_PATH": str(tmp_path / "none.duckdb")}) == 2


def test_digests_link_to_the_report_page_and_a_bad_base_url_is_refused(tmp_path: Path, channels: Path) -> None:
    db = held_day(tmp_path)
    base = "https://reports.internal.example/ltx/"
    with fake_slack() as server:
        assert cli(db, server.url, channels, "run", "--date", DAY.isoformat(), LTX_REPORT_BASE_URL=base) == 0
        [digest] = server.top_level()
        expected = f"<{base}{DAY.isoformat()}/index.html|charts and history in the report>"
        assert expected in json.dumps(digest["blocks"])
    for bad in (
        "javascript:alert(1)",
        "https://x.example/a|b",
        "https://user:pw@x.example/",
        "https://x.example/ <!channel>",
    ):
        with fake_slack() as server:
            assert cli(db, server.url, channels, "run", "--date", DAY.isoformat(), LTX_REPORT_BASE_URL=bad) == 2
            assert server.posted == []


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--date", "2026-13-01"],
        ["release", "--date", "yesterday"],
        ["backtest", "--from", "2026/11/01"],
        ["backtest", "--to", ""],
        ["report", "--date", "21.11.2026"],
    ],
)
def test_a_day_that_is_not_yyyy_mm_dd_is_a_usage_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args, {})
    assert exc.value.code == 2
    assert f"{args[-1]!r} is not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_the_posting_package_loads_without_the_reports() -> None:
    """alerting/ never imports ltx_reports at module level: `run`, `release`, `pipeline-health` and `serve` load
    without it; only `report` and `backtest` load it, inside their command (docs/development.md "Two packages")."""
    code = (
        "import sys, alerting.cli, alerting.runner, alerting.serve, alerting.charts\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'ltx_reports'))"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
