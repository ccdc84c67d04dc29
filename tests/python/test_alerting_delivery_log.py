"""Delivery-log semantics: recorded only after ok, re-runs post nothing twice, failures retried."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from alerting.delivery_log import DeliveryLog, LogEntry
from alerting.render.slack import Limits
from alerting.routing import Routing, parse_routing
from alerting.runner import RunOptions, RunReport, run
from alerting.transport.base import CHAT, PostResult
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
from tests.python.delivery_support import team_routes


@dataclass(frozen=True)
class Posted:
    channel: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None


ROUTING = parse_routing(
    {"default_channel": "#ltx-monitoring", "routes": team_routes(product="#usage", api="#api", studio="#studio")}, {}
)


class ScriptedPoster:
    """In-process transport: `fail(message)` decides failures; remembers what was 'posted'.

    The transport does not know alert ids: `ids()` reads them back from the delivery log
    rows this poster's messages produced (bound by `run_once`).
    """

    name = "slack"
    capabilities = CHAT

    def __init__(self, fail: Callable[[Posted], bool] = lambda m: False) -> None:
        self.fail = fail
        self.posted: list[Posted] = []
        self.attempts = 0
        self.db: Path | None = None
        self.before: set[tuple[str, str]] = set()

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        thread_ts: str | None = None,
        broadcast: bool = False,
        *,
        delivery_key: str | None = None,
    ) -> PostResult:
        self.attempts += 1
        message = Posted(channel, text, list(blocks), thread_ts)
        if self.fail(message):
            return PostResult(ok=False, error="boom")
        self.posted.append(message)
        return PostResult(ok=True, ts=f"1.{len(self.posted)}", channel_id="C" + channel.strip("#").upper())

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> PostResult:
        return PostResult(ok=True, ts="F1", channel_id=channel_id)

    def ids(self) -> list[str]:
        assert self.db is not None
        return sorted(a for a, c in set(log_rows(self.db)) - self.before)


def run_once(
    db: Path, poster: ScriptedPoster | None, dry_run: bool = False, routing: Routing = ROUTING, **opts: object
) -> RunReport:
    backend = DuckDBBackend(db, "main_marts", "main_alerting", read_only=dry_run)
    if poster is not None:
        poster.db, poster.before = db, set(log_rows(db))
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
    limits = Limits(blocks_per_message=6)  # a few incidents per message: the digest needs several
    second_fails = ScriptedPoster(fail=lambda m: "M03" in m.text)  # the message that carries metric m03
    report = run_once(path, second_fails, limits=limits)
    assert not report.ok and len(second_fails.posted) >= 2  # the other messages of the digest still went out
    first = second_fails.ids()
    assert "u03" not in first and len(first) >= 5
    retry = ScriptedPoster()
    assert run_once(path, retry, limits=limits).ok
    # exactly the failed message's alerts are retried: nothing twice, nothing lost
    assert "u03" in retry.ids() and not set(retry.ids()) & set(first)
    assert sorted(first + retry.ids()) == [f"u{i:02d}" for i in range(10)]
    assert len(log_rows(path)) == 10


def test_late_alert_is_posted_alone_on_rerun(db: Path) -> None:
    assert run_once(db, ScriptedPoster()).ok
    add_alerts(db, [usage_alert("u-late", scope="heavy")])
    poster = ScriptedPoster()
    assert run_once(db, poster).ok
    assert poster.ids() == ["u-late"]


def test_routing_change_delivers_to_the_new_channel(db: Path) -> None:
    assert run_once(db, ScriptedPoster()).ok
    moved = parse_routing({"default_channel": "#ltx-monitoring", "routes": team_routes(product="#usage-new")}, {})
    poster = ScriptedPoster()
    assert run_once(db, poster, routing=moved).ok
    # the product alerts go to the new channel; api/studio now fall back to the default channel
    assert {m.channel for m in poster.posted} == {"#usage-new", "#ltx-monitoring"}
    assert poster.ids() == ["c1", "c2", "u1", "u2"]


def test_dry_run_reads_only_and_creates_no_log(db: Path) -> None:
    report = run_once(db, None, dry_run=True)
    assert report.messages_posted == 3  # printed
    con = duckdb.connect(str(db), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
    finally:
        con.close()
    assert "main_alerting" not in schemas
    assert log_rows(db) == []


def test_record_failure_is_reported_and_alerts_stay_unlogged(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: DeliveryLog, deliveries: list[LogEntry]) -> None:
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


def entry(key: str, dest: str, kind: str = "post", **kw: Any) -> LogEntry:
    base: dict[str, Any] = dict(
        delivery_key=key, destination=dest, kind=kind, alert_id=key, incident_id="i1", alert_date=DAY,
        series_key="usage|free|tokens|usage_zscore", severity="warning", direction="increase", z_score=3.1,
        current_value=10.0, team="product", channel_id="C1", message_ts="1.1", thread_ts="1.1", run_id="r1",
        delivered_at=dt.datetime(2026, 11, 22, 6, 0),
    )  # fmt: skip
    base.update(kw)
    return LogEntry(**base)


@pytest.fixture
def empty_log(tmp_path: Path) -> Iterator[tuple[DeliveryLog, DuckDBBackend]]:
    path = tmp_path / "log.duckdb"
    create_marts(path, [])
    backend = DuckDBBackend(path, "main_marts", "main_alerting")
    try:
        log = DeliveryLog(backend)
        log.ensure()
        yield log, backend
    finally:
        backend.close()


def test_delivery_log_table_keyed_by_destination(empty_log: tuple[DeliveryLog, DuckDBBackend]) -> None:
    log, backend = empty_log
    log.ensure()  # idempotent
    rows = [entry("a1", "slack:#x"), entry("a1", "slack:#y", z_score=None, direction=None)]
    log.record(rows)
    log.record(rows[:1])  # a duplicate is ignored by the key, never a second row
    assert log.delivered_keys("slack:#x", ["a1", "a2"]) == {"a1"}
    assert log.delivered_keys("teams:#x", ["a1"]) == set()  # another platform is another destination
    assert len(backend.query("select * from main_alerting.alert_delivery_log")) == 2
    assert log.delivered_keys("slack:#x", []) == set()
    back = log.entries(DAY)
    assert sorted((e.destination, e.z_score, e.direction) for e in back) == [("slack:#x", 3.1, "increase"),
                                                                            ("slack:#y", None, None)]  # fmt: skip
    assert log.entries(DAY + dt.timedelta(days=1)) == []


def test_the_look_back_reads_the_threads_it_touches_whole(empty_log: tuple[DeliveryLog, DuckDBBackend]) -> None:
    """A thread's opening post older than the look-back is still read (what it announced decides whether a
    later loud alert is news: tests/python/test_alerting_lifecycle.py); a thread with nothing recent is not."""
    log, _ = empty_log
    old = DAY - dt.timedelta(days=30)
    log.record([
        entry("opening", "slack:#x", alert_date=old),
        entry("reply", "slack:#x", kind="repeat", message_ts="2.2", alert_date=DAY),
        entry("other", "slack:#x", message_ts="3.3", thread_ts="3.3", alert_date=old),
    ])  # fmt: skip
    assert [e.delivery_key for e in log.entries(DAY)] == ["opening", "reply"]
    assert log.entries(DAY + dt.timedelta(days=1)) == []
    assert len(log.entries(old)) == 3


def test_missing_mart_or_column_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "none.duckdb"
    duckdb.connect(str(path)).close()
    backend = DuckDBBackend(path, "main_marts", "main_alerting")
    try:
        with pytest.raises(WarehouseError, match="not found"):
            read_alerts(backend, DAY, COST_DAY)
        backend.query("create schema main_marts")
        backend.query("create table main_marts.fct_alerts (alert_id varchar, alert_date date)")
        with pytest.raises(WarehouseError, match="lacks column"):
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
