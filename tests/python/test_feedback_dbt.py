"""People's clicks reach the next build (issue 23): a Snooze holds the series' later alerts as `snoozed` until its
expiry, the last click on each alert is fct_alerts.feedback_action, a False alarm counts in the precision mart, and
an incident whose last verdict is Expected or Acknowledge leaves its day out of later baselines.

The rows are written by the service's own writer (alerting.feedback.FeedbackStore), then dbt builds the alert layer
on a copy of the `make test-dbt` build (100 days: alerts with full baselines)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from alerting import feedback
from alerting.delivery_log import DeliveryLog, LogEntry
from alerting.feedback import FeedbackRow, FeedbackStore
from alerting.warehouse import DuckDBBackend
from tests.python.conftest import BIN, REPO, dbt_env, failure_summary, run

SOURCES = REPO / "models/staging/alerting/_alerting__sources.yml"


def test_the_source_declares_the_feedback_columns_and_types() -> None:
    [source] = yaml.safe_load(SOURCES.read_text())["sources"]
    [table] = [t for t in source["tables"] if t["name"] == feedback.TABLE]
    declared = {c["name"]: c["data_type"] for c in table["columns"]}
    assert list(declared) == list(feedback.COLUMNS)
    assert declared == feedback.COLUMN_TYPES


def _row(fid: str, alert: tuple[str, str, dt.date], action: str, expires: dt.date | None) -> FeedbackRow:
    alert_id, incident_id, day = alert
    at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(9))
    return FeedbackRow(
        feedback_id=fid, incident_id=incident_id, alert_id=alert_id, alert_ids=alert_id, action=action,
        action_id=f"ltx_feedback_{action}", user_id="U1", channel_id="C1", message_ts="1.1", alert_date=day,
        created_at=at, expires_on=expires, note=None, recorded_at=at,
    )  # fmt: skip


@pytest.mark.dbt
def test_a_snooze_holds_later_alerts_and_a_false_alarm_is_counted(test_duckdb: Path, tmp_path: Path) -> None:
    db = tmp_path / "feedback.duckdb"
    shutil.copy(test_duckdb, db)
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    raw_dir = raw_dir if raw_dir.is_absolute() else REPO / raw_dir
    with duckdb.connect(str(db), read_only=True) as con:
        # a series alerting on two days within a week (the later one postable), and a loud alert of another series
        pair = con.execute(
            "select a.alert_id, a.incident_id, a.alert_date, b.alert_id, b.alert_date from main_marts.fct_alerts a"
            " join main_marts.fct_alerts b using (domain, scope, metric, rule)"
            " where a.domain = 'usage' and b.is_postable and b.alert_date > a.alert_date"
            " and b.alert_date <= a.alert_date + 7 order by a.alert_date limit 1"
        ).fetchone()
        loud = con.execute(
            "select alert_id, incident_id, alert_date, rule, team from main_marts.fct_alerts where is_loud"
            " and alert_id not in (?, ?) order by alert_date limit 1",
            [pair[0] if pair else "", pair[3] if pair else ""],
        ).fetchone()
    assert pair and loud, "the test build has no series alerting twice in a week or no loud alert"
    first, later, later_day = (pair[0], pair[1], pair[2]), pair[3], pair[4]
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    store = FeedbackStore(backend)
    store.record(_row("f-snooze", first, "snooze", first[2] + dt.timedelta(days=7)))
    store.record(_row("f-false", (loud[0], loud[1], loud[2]), "false_alarm", None))
    store.record(_row("f-false", (loud[0], loud[1], loud[2]), "false_alarm", None))  # a retried click: one row
    backend.close()

    res = run(
        [str(BIN / "dbt"), "build", "--target", "duckdb", "--select", "stg_alerting__feedback+",
         "--exclude-resource-type", "unit_test"],
        env=dbt_env(raw_dir, db),
    )  # fmt: skip
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    with duckdb.connect(str(db), read_only=True) as con:
        held = dict(con.execute("select alert_id, hold_reason from main_marts.fct_alerts").fetchall())
        said = dict(con.execute("select alert_id, feedback_action from main_marts.fct_alerts").fetchall())
        [week] = con.execute(
            "select false_alarms, loud_incidents from main_marts.fct_alert_feedback_weekly"
            " where alert_week = date_trunc('week', ?::date) and rule = ? and team = ?",
            [loud[2], loud[3], loud[4]],
        ).fetchall()
    assert held[later] == "snoozed", (later_day, held[later])
    assert held[first[0]] != "snoozed"  # the alert clicked on was posted; the snooze holds what follows
    assert said[first[0]] == "snooze" and said[loud[0]] == "false_alarm"
    assert week[0] == 1 and week[1] >= 1


@pytest.mark.dbt
@pytest.mark.parametrize(
    ("answers", "left_out"),
    [(("expected",), True), (("acknowledge",), True), (("acknowledge", "false_alarm"), False)],
)
def test_an_expected_or_acknowledged_day_leaves_later_baselines(
    test_duckdb: Path, tmp_path: Path, answers: tuple[str, ...], left_out: bool
) -> None:
    """An incident's last verdict "Expected" (a known event) or "Acknowledge" (a confirmed incident) on a posted
    usage alert: that day of its segment is no baseline point of the later same weekdays the next (incremental)
    build computes; before the click it was one. A later "False alarm" (the day was ordinary) keeps it in."""
    db = tmp_path / "expected.duckdb"
    shutil.copy(test_duckdb, db)
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    raw_dir = raw_dir if raw_dir.is_absolute() else REPO / raw_dir
    with duckdb.connect(str(db), read_only=True) as con:
        # a baseline point of a target day the daily build recomputes (its last days), that carried an alert
        found = con.execute(
            "select b.dt, b.segment, b.metric, b.baseline_dt, a.alert_id, a.incident_id"
            " from main_intermediate.int_usage__baseline_days b"
            " join main_marts.fct_alerts a"
            " on a.domain = 'usage' and a.scope = b.segment and a.alert_date = b.baseline_dt"
            " where b.dt >= (select max(dt) from main_intermediate.int_usage__baseline_days) - 2"
            " order by b.dt desc, b.segment limit 1"
        ).fetchone()
    assert found, "no alert day is a baseline point of the last days: the test would prove nothing"
    target, segment, metric, expected_day, alert_id, incident_id = found
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    log = DeliveryLog(backend)
    log.ensure()
    log.record([LogEntry(
        delivery_key=alert_id, destination="slack:#usage", kind="post", alert_id=alert_id, incident_id=incident_id,
        alert_date=expected_day, series_key=f"usage|{segment}|{metric}|usage_zscore", severity="warning",
        direction="increase", z_score=3.5, current_value=1.0, team="product", channel_id="C1", message_ts="1.1",
        thread_ts="1.1", run_id="r", delivered_at=dt.datetime.combine(expected_day, dt.time(6)),
    )])  # fmt: skip
    for i, action in enumerate(answers):  # one minute apart: the last one is the incident's answer
        row = _row(f"f-{i}", (alert_id, incident_id, expected_day), action, None)
        FeedbackStore(backend).record(dataclasses.replace(row, created_at=row.created_at + dt.timedelta(minutes=i)))
    backend.close()
    res = run(
        [str(BIN / "dbt"), "build", "--target", "duckdb", "--select", "stg_alerting__feedback+",
         "stg_alerting__deliveries+", "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test"],
        env=dbt_env(raw_dir, db),
    )  # fmt: skip
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    with duckdb.connect(str(db), read_only=True) as con:
        points = con.execute(
            "select baseline_dt from main_intermediate.int_usage__baseline_days"
            " where dt = ? and segment = ? and metric = ?",
            [target, segment, metric],
        ).fetchall()
    assert points and ((expected_day,) not in points) == left_out
