"""`python -m alerting backtest --compare-vars / --compare-duckdb`: the policy-change difference.

The comparison itself on hand-made alerts (gained / lost by series-day, counts per week and
channel, Markdown cells neutralised), the vars file's validation, and one end-to-end run on the
test set: {z_notice: 2.5} must drop exactly the posted usage notices with |z| <= 2.5, counted
here straight from fct_alerts with SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
import subprocess
from dataclasses import astuple
from pathlib import Path

import duckdb
import pytest

from alerting.cli import main
from alerting.feedback import FeedbackRow, FeedbackStore
from alerting.model import Alert
from alerting.routing import parse_routing
from alerting.warehouse import DuckDBBackend
from ltx_reports import backtest
from ltx_reports.backtest import CompareError, Feedback, compare, format_markdown, parse_vars
from tests.python.conftest import BIN, REPO, dbt_env, run

D = dt.date(2026, 11, 2)  # a Monday: ISO week 2026-W45


def alert(
    alert_id: str,
    day: dt.date,
    scope: str = "paying",
    incident: str | None = None,
    team: str = "product",
    postable: bool = True,
    severity: str = "notice",
) -> Alert:
    return Alert(
        alert_id=alert_id,
        alert_date=day,
        domain="usage",
        scope=scope,
        metric="dau",
        rule="usage_zscore",
        severity=severity,
        team=team,
        incident_id=incident,
        is_postable=postable,
        direction="decrease",
    )


def channels(team: str | None, domain: str | None = None, severity: str | None = None) -> str:
    return {"product": "#usage", "api": "#api"}.get(team or "", "#default")


def test_gained_and_lost_by_series_day_not_incident_id() -> None:
    base = [
        alert("a1", D, incident="i1"),
        alert("a2", D + dt.timedelta(days=1), incident="i1"),
        alert("b1", D, scope="free", incident="i2"),  # only the base posts it: lost
        alert("h1", D, scope="heavy", incident="i4", postable=False),  # held: posted by neither
    ]
    change = [
        # the same series-day under another incident id (the incident starts elsewhere): not gained
        alert("a2", D + dt.timedelta(days=1), incident="other"),
        alert("c1", D + dt.timedelta(days=7), scope="heavy", incident="i3", team="api"),  # gained
        alert("h1", D, scope="heavy", incident="i4", postable=False),
    ]
    result = compare(base, change, channels)
    assert [i.key for i in result.gained] == ["i3"]
    assert [i.key for i in result.lost] == ["i2"]
    assert result.gained[0].cells[:3] == ("2026-11-09", "2026-11-09", "#api")
    rows = {(week, channel): (*astuple(base), *astuple(change)) for week, channel, base, change in result.rows}
    assert rows == {("2026-W45", "#usage"): (3, 2, 0, 1, 1, 0), ("2026-W46", "#api"): (0, 0, 0, 1, 1, 0)}
    assert result.differs


def test_channels_follow_the_routes_by_severity() -> None:
    # the shipped routes file: product's CRITICALs to their own channel (a route matching on severity)
    routing = parse_routing(
        {
            "default_channel": "#default",
            "routes": [
                {"match": {"team": "product", "severity": "critical"}, "slack": "#usage-critical"},
                {"match": {"team": "product"}, "slack": "#usage"},
            ],
        },
        {},
    )
    change = [alert("n1", D, incident="i1"), alert("c1", D, scope="free", incident="i2", severity="critical")]
    result = compare([], change, routing.channel_for)
    assert {(i.key, i.cells[2]) for i in result.gained} == {("i1", "#usage"), ("i2", "#usage-critical")}
    assert {channel for _, channel, _, _ in result.rows} == {"#usage", "#usage-critical"}


def test_no_difference_is_said_and_nothing_listed() -> None:
    same = [alert("a1", D, incident="i1")]
    result = compare(same, list(same), channels)
    assert not result.differs and not result.gained and not result.lost
    assert "**No difference**" in format_markdown(result, "shipped", "change")


def test_a_change_of_loudness_alone_is_a_difference() -> None:
    """Most policy changes move loudness (loud_* vars), not what is posted: the same alerts, posted quietly or
    loudly. Before, such a change read "No difference"."""
    base = [
        dataclasses.replace(alert("a1", D, incident="i1"), is_loud=True, feedback_action="false_alarm"),
        alert("b1", D, scope="free", incident="i2"),
        dataclasses.replace(alert("c1", D + dt.timedelta(days=7), scope="heavy", incident="i3"), is_loud=True),
    ]
    change = [
        alert("a1", D, incident="i1"),  # now quiet: the false alarm no longer notifies
        dataclasses.replace(alert("b1", D, scope="free", incident="i2"), is_loud=True),  # now loud
        base[2],
    ]
    result = compare(base, change, channels)
    assert not result.gained and not result.lost
    assert [i.key for i in result.now_quiet] == ["i1"] and [i.key for i in result.now_loud] == ["i2"]
    assert result.differs and result.weeks == 2
    assert result.loud_a_week() == {"#usage": (1.0, 1.0)}  # 2 loud incidents over 2 weeks each side
    text = format_markdown(result, "shipped", "change")
    assert "**No difference**" not in text
    assert "shipped 3 alerts / 3 incidents (2 loud), change 3 alerts / 3 incidents (2 loud)" in text
    assert "Loud incidents a week over 2 weeks (in each week it is loud), shipped → change: #usage 1.00 → 1.00." in text
    now_quiet = text.split("### Incidents now quiet or gone (loud only with shipped): 1")[1].split("###")[0]
    assert "| paying |" in now_quiet and "| free |" not in now_quiet
    assert "| free |" in text.split("### Incidents now loud (loud only with change): 1")[1].split("###")[0]
    assert "| paying |" in text.split("### False alarms change drops (of 1): 1")[1].split("###")[0]
    assert (len(result.change_feedback.answers), result.change_feedback.count("false_alarm")) == (1, 0)
    same = compare(base, list(base), channels)
    assert not same.differs and "**No difference**" in format_markdown(same, "shipped", "change")


def test_markdown_cells_cannot_break_the_table() -> None:
    change = [alert("x", D, scope="evil | <!channel>\n`x`", incident="i9")]
    text = format_markdown(compare([], change, channels), "shipped", "change")
    line = next(x for x in text.splitlines() if "evil" in x)
    assert line.count("|") == 9 and "<!channel>" not in line and "`" not in line


@pytest.mark.parametrize("content", ["[1, 2]", "", "z notice: 2.5", "{z_notice: [unclosed"])
def test_vars_file_must_be_a_mapping_of_var_names(tmp_path: Path, content: str) -> None:
    path = tmp_path / "vars.yml"
    path.write_text(content)
    with pytest.raises(CompareError, match="--compare-vars"):
        parse_vars(path)


def test_vars_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "vars.yml"
    path.write_text("z_notice: 2.5\nmin_baseline_points: 8\n")
    assert parse_vars(path) == {"z_notice": 2.5, "min_baseline_points": 8}


@pytest.mark.dbt
def test_compare_vars_z_notice_on_the_test_set(test_duckdb: Path, tmp_path: Path) -> None:
    """Raising the usage notice band to 2.5 loses exactly the posted usage notices with |z| <= 2.5."""
    db = tmp_path / "shipped.duckdb"
    shutil.copyfile(test_duckdb, db)
    (tmp_path / "vars.yml").write_text("z_notice: 2.5\n")
    env = dbt_env(REPO / "data" / "test" / "raw", db)
    cmd = [str(BIN / "python"), "-m", "alerting", "backtest", "--compare-vars", str(tmp_path / "vars.yml")]
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout

    with duckdb.connect(str(db), read_only=True) as con:
        posted, dropped = con.execute(
            "select count(*) filter (where is_postable), count(*) filter (where is_postable and domain = 'usage'"
            " and severity = 'notice' and round(abs(z_score), 9) <= 2.5) from main_marts.fct_alerts"
        ).fetchone()
        notices = {
            (scope, metric, str(day))
            for scope, metric, day in con.execute(
                "select scope, metric, alert_date from main_marts.fct_alerts where is_postable and domain = 'usage'"
                " and severity = 'notice' and round(abs(z_score), 9) <= 2.5"
            ).fetchall()
        }
        # where the same-weekday rule falls silent, the week-over-week rule may fire instead (it covers only
        # days the same-weekday rule leaves silent): at most the dropped notices whose |wow z| passes its threshold
        wow_may_fire = con.execute(
            "select count(*) from main_marts.fct_alerts a join main_marts.fct_usage_anomaly_scores s"
            " on s.dt = a.alert_date and s.segment = a.scope and s.metric = a.metric"
            " where a.is_postable and a.domain = 'usage' and a.rule = 'usage_zscore' and a.severity = 'notice'"
            " and round(abs(a.z_score), 9) <= 2.5 and round(abs(s.wow_z_score), 9) > 4.5"
        ).fetchone()[0]
    assert dropped > 0, "the test set has no usage notice between z 2 and 2.5: the test proves nothing"
    totals = re.search(r"shipped (\d+) alerts / \d+ incidents \(\d+ loud\), vars z_notice: 2.5 (\d+) alerts", out)
    assert totals, out
    assert int(totals.group(1)) == posted
    assert posted - dropped <= int(totals.group(2)) <= posted - dropped + wow_may_fire
    gained = re.search(r"### Incidents gained \(posted only by vars z_notice: 2.5\): (\d+)", out)
    assert gained and int(gained.group(1)) <= wow_may_fire, out
    gained_rows = [ln for ln in out.split("### Incidents gained")[1].split("###")[0].splitlines() if "| usage |" in ln]
    assert all("usage_week_over_week_shift" in ln for ln in gained_rows), gained_rows
    lost = re.search(r"### Incidents lost \(posted only by shipped\): (\d+)", out)
    assert lost and int(lost.group(1)) >= 1, out
    lost_rows = [line.split(" | ") for line in out.split("### Incidents lost")[1].splitlines() if "| usage |" in line]
    assert len(lost_rows) == int(lost.group(1))
    for cells in lost_rows:  # | first | last | channel | domain | scope | metric | rule | severity |
        first, scope, metric = cells[0].strip("| "), cells[4], cells[5]
        assert (scope, metric, first) in notices, cells


# --- people's feedback (fct_alerts.feedback_action on loud alerts) -----------------------------------------


def said(alert_id: str, incident: str, action: str | None, loud: bool = True, severity: str = "warning") -> Alert:
    return dataclasses.replace(
        alert(alert_id, D, scope=alert_id, incident=incident, severity=severity), is_loud=loud, feedback_action=action
    )


FEEDBACK_ALERTS = [
    said("a1", "i1", "false_alarm", severity="notice"),
    said("a2", "i1", None, severity="notice"),
    said("a3", "i2", "acknowledge"),
    said("a4", "i3", None),  # loud, nobody answered
    said("a5", "i4", "expected", loud=False),  # a quiet alert: not a loud incident
    said("a6", "i5", "expected"),
    said("a7", "i5", "acknowledge"),  # one incident, two answers: counted under both
]


def test_backtest_counts_what_people_said_of_the_loud_incidents() -> None:
    result = backtest.run_backtest(FEEDBACK_ALERTS)
    current, warning_plus = result.feedback[0], result.feedback[1]
    # loud incidents i1 i2 i3 i5; answered i1 i2 i5; false alarm i1 -> 1 - 1/3
    assert len(current.answers) == 4 and sum(not said for said in current.answers) == 1
    counts = {action: current.count(action) for action in ("false_alarm", "acknowledge", "expected", "snooze")}
    assert counts == {"false_alarm": 1, "acknowledge": 2, "expected": 1, "snooze": 0}
    assert current.precision == pytest.approx(2 / 3)
    # warning+ no longer posts the NOTICE incident i1 that people called a false alarm
    assert (len(warning_plus.answers), warning_plus.count("false_alarm")) == (3, 0)
    assert warning_plus.precision == 1.0
    out = backtest.format_result(result)
    assert "current         4 loud incidents: acknowledged 2, snoozed 0, expected 1, false alarm 1, no answer 1;" in out
    assert "precision from people 67%" in out


def test_compare_names_the_false_alarms_dropped_and_the_acknowledged_lost() -> None:
    change = [a for a in FEEDBACK_ALERTS if a.incident_id not in ("i1", "i2")]  # the change posts neither
    result = compare(FEEDBACK_ALERTS, change, channels)
    assert result.base_feedback.precision == pytest.approx(2 / 3)
    assert (len(result.change_feedback.answers), result.change_feedback.precision) == (2, 1.0)  # i3 (no answer), i5
    text = format_markdown(result, "shipped", "change")
    dropped = text.split("### False alarms change drops (of 1): 1")[1].split("###")[0]
    lost = text.split("### Acknowledged incidents change loses (of 2): 1")[1]
    assert "| a1 |" in dropped and "| a3 |" not in dropped  # the scope column names the series
    assert "| a3 |" in lost and "| a1 |" not in lost
    assert "shipped: 4 loud incidents:" in text and "precision from people 67%" in text


LOUD_SQL = (
    "select count(distinct incident_id), count(distinct incident_id) filter (where feedback_action = ?),"
    " count(distinct incident_id) filter (where feedback_action = ?),"
    " count(distinct incident_id) filter (where feedback_action is not null) from main_marts.fct_alerts where is_loud"
)


@pytest.mark.dbt
def test_backtest_reads_the_recorded_feedback_on_the_test_set(
    test_duckdb: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Clicks written by the service's own writer reach fct_alerts.feedback_action through dbt; the backtest's
    counts equal SQL's over fct_alerts, and a change that stops posting two of the labelled incidents names them."""
    db = tmp_path / "feedback.duckdb"
    shutil.copyfile(test_duckdb, db)
    with duckdb.connect(str(db), read_only=True) as con:
        picked = con.execute(
            "select any_value(alert_id order by alert_id), incident_id, min(alert_date) from main_marts.fct_alerts"
            " where is_loud group by incident_id order by 3, 2 limit 3"
        ).fetchall()
    assert len(picked) == 3, "the test build has fewer than 3 loud incidents"
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    for (alert_id, incident_id, day), action in zip(picked, ("false_alarm", "acknowledge", "acknowledge"), strict=True):
        at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9))
        FeedbackStore(backend).record(FeedbackRow(
            feedback_id=f"f-{alert_id}", incident_id=incident_id, alert_id=alert_id, alert_ids=alert_id, action=action,
            action_id=f"ltx_feedback_{action}", user_id="U1", channel_id="C1", message_ts="1.1", alert_date=day,
            created_at=at, expires_on=None, note=None, recorded_at=at,
        ))  # fmt: skip
    backend.close()
    cmd = [str(BIN / "dbt"), "build", "--target", "duckdb", "--select", "stg_alerting__feedback+",
           "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test"]  # fmt: skip
    res = run(cmd, env=dbt_env(REPO / "data/test/raw", db))  # conftest.run: the worker's partial parse
    assert res.returncode == 0, res.stdout[-3000:]
    with duckdb.connect(str(db), read_only=True) as con:
        loud, false_alarms, acknowledged, answered = con.execute(LOUD_SQL, ["false_alarm", "acknowledge"]).fetchone()
    assert (false_alarms, acknowledged, answered) == (1, 2, 3)

    env = {"LTX_DUCKDB_PATH": str(db)}
    assert main(["backtest"], env) == 0
    current = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  current"))
    precision = f"{1 - false_alarms / answered:.0%}"
    assert current.split(None, 1)[1] == (
        f"{loud} loud incidents: acknowledged {acknowledged}, snoozed 0, expected 0, false alarm {false_alarms},"
        f" no answer {loud - answered}; precision from people {precision}"
    )

    change = tmp_path / "change.duckdb"  # a change that no longer posts the false alarm and the first acknowledged
    shutil.copyfile(db, change)
    with duckdb.connect(str(change)) as con:
        ids = [picked[0][1], picked[1][1]]
        held = "update main_marts.fct_alerts set is_postable = false, is_loud = false where incident_id in (?, ?)"
        con.execute(held, ids)
        sql = "select incident_id, any_value(scope) from main_marts.fct_alerts where incident_id in (?, ?) group by 1"
        scopes = dict(con.execute(sql, ids).fetchall())
    assert main(["backtest", "--compare-duckdb", str(change)], env) == 0
    out = capsys.readouterr().out
    dropped = out.split("### False alarms this change drops (of 1): 1")[1].split("###")[0]
    lost = out.split("### Acknowledged incidents this change loses (of 2): 1")[1].split("###")[0]
    assert f"| {scopes[picked[0][1]]} |" in dropped and f"| {scopes[picked[1][1]]} |" in lost
    assert f"this change (those it still posts loudly): {loud - 2} loud incidents:" in out


def test_feedback_counts_read_as_written() -> None:
    """'1 loud incident: …' and '2 loud incidents: …' (the backtest printed '1 loud incidents')."""
    one, two = Feedback((frozenset({"acknowledge"}),)), Feedback((frozenset(), frozenset({"false_alarm"})))
    assert str(one).startswith("1 loud incident: acknowledged 1,") and str(one).endswith("precision from people 100%")
    assert str(two).startswith("2 loud incidents: acknowledged 0,") and str(two).endswith("precision from people 0%")
