"""Delivery-log semantics: recorded only after ok, re-runs post nothing twice, failures retried."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from alerting.delivery_log import Delivery, DeliveryLog
from alerting.formatting import Limits
from alerting.model import Message
from alerting.routing import Routing, parse_routing
from alerting.runner import RunOptions, RunReport, run
from alerting.transport import PostResult
from alerting.warehouse import DuckDBBackend, WarehouseError, read_alerts
from tests.python.alerting_support import (
    COST_DAY,
    DAY,
    add_alerts,
    cost_alert,
    create_marts,
    log_rows,
    usage_alert,
)

ROUTING = parse_routing(
    {"default_channel": "#ltx-monitoring", "channels": {"product": "#usage", "api": "#api", "studio": "#studio"}}, {}
)


class ScriptedPoster:
    """In-process poster: `fail(message)` decides failures; remembers what was 'posted'."""

    def __init__(self, fail: Callable[[Message], bool] = lambda m: False) -> None:
        self.fail = fail
        self.posted: list[Message] = []
        self.attempts = 0

    def post(self, message: Message) -> PostResult:
        self.attempts += 1
        if self.fail(message):
            return PostResult(ok=False, error="boom")
        self.posted.append(message)
        return PostResult(ok=True, ts=f"1.{len(self.posted)}")

    def ids(self) -> list[str]:
        return sorted(a for m in self.posted for a in m.alert_ids)


def run_once(
    db: Path, poster: ScriptedPoster | None, dry_run: bool = False, routing: Routing = ROUTING, **opts: object
) -> RunReport:
    backend = DuckDBBackend(db, "main_marts", "main_alerting", read_only=dry_run)
    try:
        options = RunOptions(usage_date=DAY, cost_date=COST_DAY, dry_run=dry_run, **opts)  # type: ignore[arg-type]
        return run(backend, routing, poster, options, io.StringIO())
    finally:
        backend.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "marts.duckdb"
    create_marts(
        path,
        [
            usage_alert("u1"),
            usage_alert("u2", scope="paying", severity="critical"),
            usage_alert("u-supp", is_suppressed=True, suppression_reason="enterprise weekend"),
            usage_alert("u-other-day", alert_date=DAY - dt.timedelta(days=1)),
            cost_alert("c1"),
            cost_alert("c2", team="studio", scope="studio"),
            cost_alert("c-not-final", alert_date=DAY),  # cost day != finalised day: not today's
        ],
    )
    return path


def test_first_run_posts_everything_once_and_rerun_posts_nothing(db: Path) -> None:
    poster = ScriptedPoster()
    report = run_once(db, poster)
    assert report.ok and report.suppressed == 1
    assert poster.ids() == ["c1", "c2", "u1", "u2"]
    assert sorted({m.channel for m in poster.posted}) == ["#api", "#studio", "#usage"]
    assert log_rows(db) == [("c1", "#api"), ("c2", "#studio"), ("u1", "#usage"), ("u2", "#usage")]

    again = ScriptedPoster()
    report2 = run_once(db, again)
    assert report2.ok and again.attempts == 0 and report2.already_delivered == 4
    assert len(log_rows(db)) == 4


def test_failed_channel_is_retried_next_run_others_are_not_reposted(db: Path) -> None:
    flaky = ScriptedPoster(fail=lambda m: m.channel == "#api")
    report = run_once(db, flaky)
    assert not report.ok and len(report.failures) == 1 and "#api" in report.failures[0]
    assert flaky.ids() == ["c2", "u1", "u2"]  # everything else was still tried
    assert ("c1", "#api") not in log_rows(db)

    healthy = ScriptedPoster()
    report2 = run_once(db, healthy)
    assert report2.ok and healthy.ids() == ["c1"]
    assert len(log_rows(db)) == 4


def test_digest_split_over_messages_records_per_message(tmp_path: Path) -> None:
    path = tmp_path / "many.duckdb"
    create_marts(path, [usage_alert(f"u{i:02d}", metric=f"m{i:02d}") for i in range(10)])
    limits = Limits(blocks_per_message=6)  # header + context + incident + divider + incident
    second_fails = ScriptedPoster(fail=lambda m: "u03" in m.alert_ids)
    report = run_once(path, second_fails, limits=limits)
    assert not report.ok
    assert second_fails.ids() == ["u00", "u01", "u04", "u05", "u06", "u07", "u08", "u09"]
    retry = ScriptedPoster()
    assert run_once(path, retry, limits=limits).ok
    assert retry.ids() == ["u02", "u03"]
    assert len(log_rows(path)) == 10


def test_late_alert_is_posted_alone_on_rerun(db: Path) -> None:
    assert run_once(db, ScriptedPoster()).ok
    add_alerts(db, [usage_alert("u-late", scope="heavy")])
    poster = ScriptedPoster()
    assert run_once(db, poster).ok
    assert poster.ids() == ["u-late"]


def test_routing_change_delivers_to_the_new_channel(db: Path) -> None:
    assert run_once(db, ScriptedPoster()).ok
    moved = parse_routing({"default_channel": "#ltx-monitoring", "channels": {"product": "#usage-new"}}, {})
    poster = ScriptedPoster()
    assert run_once(db, poster, routing=moved).ok
    # the product alerts go to the new channel; api/studio now fall back to the default channel
    assert {m.channel for m in poster.posted} == {"#usage-new", "#ltx-monitoring"}
    assert poster.ids() == ["c1", "c2", "u1", "u2"]


def test_dry_run_reads_only_and_creates_no_log(db: Path) -> None:
    report = run_once(db, None, dry_run=True)
    assert report.messages_printed == 3
    con = duckdb.connect(str(db), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
    finally:
        con.close()
    assert "main_alerting" not in schemas
    assert log_rows(db) == []


def test_record_failure_is_reported_and_alerts_stay_unlogged(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: DeliveryLog, deliveries: list[Delivery]) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(DeliveryLog, "record", broken)
    poster = ScriptedPoster()
    report = run_once(db, poster)
    assert not report.ok and all("posted but not recorded" in f for f in report.failures)
    assert log_rows(db) == []  # nothing claimed delivered that is not in the log: next run re-posts (never lost)


def test_all_clear_is_posted_once_per_day(tmp_path: Path) -> None:
    path = tmp_path / "quiet.duckdb"
    create_marts(path, [usage_alert("u1")])
    poster = ScriptedPoster()
    assert run_once(path, poster, all_clear=True).ok
    channels = sorted(m.channel for m in poster.posted)
    assert channels == ["#api", "#studio", "#usage"]  # usage has an alert; api/studio get all-clear
    again = ScriptedPoster()
    assert run_once(path, again, all_clear=True).ok and again.posted == []


def test_no_alerts_no_message(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    create_marts(path, [])
    poster = ScriptedPoster()
    assert run_once(path, poster).ok and poster.attempts == 0


def test_delivery_log_table_keyed_by_alert_and_channel(tmp_path: Path) -> None:
    path = tmp_path / "log.duckdb"
    create_marts(path, [])
    backend = DuckDBBackend(path, "main_marts", "main_alerting")
    try:
        log = DeliveryLog(backend)
        log.ensure()
        log.ensure()  # idempotent
        now = dt.datetime(2026, 11, 22, 6, 0)
        rows = [Delivery("a1", "#x", DAY, "product", "warning", "1.1", "r1", now),
                Delivery("a1", "#y", DAY, "product", "warning", "1.2", "r1", now)]  # fmt: skip
        log.record(rows)
        log.record(rows[:1])  # a duplicate is ignored by the key, never a second row
        assert log.delivered(["a1", "a2"]) == {("a1", "#x"), ("a1", "#y")}
        assert len(log.rows()) == 2
        assert log.delivered([]) == set()
    finally:
        backend.close()


def test_missing_mart_or_column_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    duckdb.connect(str(path)).close()
    backend = DuckDBBackend(path, "main_marts", "main_alerting")
    try:
        with pytest.raises(WarehouseError, match="not found"):
            read_alerts(backend, DAY, COST_DAY)
        backend.con.execute("create schema main_marts")
        backend.con.execute("create table main_marts.fct_alerts (alert_id varchar, alert_date date)")
        with pytest.raises(WarehouseError, match="lacks required column"):
            read_alerts(backend, DAY, COST_DAY)
    finally:
        backend.close()
    with pytest.raises(WarehouseError, match="does not exist"):
        DuckDBBackend(tmp_path / "nope.duckdb", "main_marts", "main_alerting")
    with pytest.raises(WarehouseError, match="not a valid identifier"):
        DuckDBBackend(path, 'main"; drop table x; --', "main_alerting")


def test_hostile_values_travel_as_parameters(tmp_path: Path) -> None:
    path = tmp_path / "q.duckdb"
    evil = "x'); drop table main_marts.fct_alerts; --"
    create_marts(path, [usage_alert(evil, scope=evil), usage_alert("ok")])
    poster = ScriptedPoster()
    assert run_once(path, poster).ok
    assert poster.ids() == ["ok", evil]
    assert run_once(path, ScriptedPoster()).already_delivered == 2


def test_duplicated_mart_row_is_posted_and_logged_once_per_channel(tmp_path: Path) -> None:
    path = tmp_path / "dup.duckdb"
    create_marts(path, [usage_alert("dup"), usage_alert("dup", scope="paying")])
    poster = ScriptedPoster()
    assert run_once(path, poster).ok
    assert log_rows(path) == [("dup", "#usage")]
    assert run_once(path, ScriptedPoster()).already_delivered == 2
