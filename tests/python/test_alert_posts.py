"""What reached people is queryable (issue 20): the delivery log is a dbt source, read by fct_alert_posts
(one row per message and incident, loud or quiet) and fct_alert_threads (an incident's life across days)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from alerting.delivery_log import _COLUMN_TYPES, COLUMNS, DeliveryLog, LogEntry
from alerting.warehouse import DuckDBBackend
from tests.python.conftest import BIN, REPO, dbt_env, failure_summary, run
from tests.python.delivery_support import LOUD_KINDS

SOURCES = REPO / "models/staging/alerting/_alerting__sources.yml"
MODELS = REPO / "models/staging/alerting/_alerting__models.yml"
D = dt.date(2026, 11, 20)


def test_the_source_declares_the_delivery_log_columns_and_types() -> None:
    [source] = yaml.safe_load(SOURCES.read_text())["sources"]
    [table] = [t for t in source["tables"] if t["name"] == "alert_delivery_log"]
    declared = {c["name"]: c["data_type"] for c in table["columns"]}
    assert list(declared) == list(COLUMNS)
    assert declared == _COLUMN_TYPES


def _kinds() -> list[str]:
    """Every delivery kind: the log's contract, the accepted values of stg_alerting__deliveries.kind."""
    [model] = [m for m in yaml.safe_load(MODELS.read_text())["models"] if m["name"] == "stg_alerting__deliveries"]
    [kind] = [c for c in model["columns"] if c["name"] == "kind"]
    return list(kind["data_tests"][0]["accepted_values"]["arguments"]["values"])


def _entry(kind: str, message_ts: str, thread_ts: str, day: dt.date, n: int, **kw: object) -> LogEntry:
    base: dict[str, object] = dict(
        delivery_key=f"{kind}-{n}", destination="slack:#usage", kind=kind, alert_id=f"a{n}", incident_id="inc1",
        alert_date=day, series_key="usage|free|dau|usage_zscore", severity="warning", direction="decrease",
        z_score=-3.5, current_value=10.0, team="product", channel_id="C1", message_ts=message_ts,
        thread_ts=thread_ts, run_id="r", delivered_at=dt.datetime.combine(day, dt.time(6, n % 60)),
    )  # fmt: skip
    base.update(kw)
    return LogEntry(**base)  # type: ignore[arg-type]


@pytest.mark.dbt
def test_posts_and_threads_from_the_delivery_log(small_raw: Path, small_reference_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "posts.duckdb"
    shutil.copy(small_reference_db, db)
    thread = [
        _entry("post", "1.1", "1.1", D - dt.timedelta(days=2), 1, severity="critical"),
        _entry("post", "1.1", "1.1", D - dt.timedelta(days=2), 2),  # same message, same incident: one post
        _entry("chart", "F1", "1.1", D - dt.timedelta(days=2), 3, alert_id=None),
        _entry("repeat", "2.2", "1.1", D - dt.timedelta(days=1), 4, incident_id="inc2"),
        _entry("broadcast", "3.3", "1.1", D, 5, incident_id="inc3", series_key="usage|free|tokens|usage_zscore"),
        _entry("resolved", "4.4", "1.1", D + dt.timedelta(days=3), 6, alert_id=None),
    ]
    no_incident, kinds = {"all_clear", "pipeline_health"}, _kinds()
    others = [
        _entry(kind, f"9.{i}", f"9.{i}", D, 10 + i, incident_id=None if kind in no_incident else f"x{i}")
        for i, kind in enumerate(k for k in kinds if k not in {"post", "chart", "repeat", "broadcast", "resolved"})
    ]
    backend = DuckDBBackend(db, "main_marts", "main_alerting")
    log = DeliveryLog(backend)
    log.ensure()
    log.record([*thread, *others])
    backend.close()
    res = run(
        [str(BIN / "dbt"), "build", "--target", "duckdb", "--select", "stg_alerting__deliveries+"],
        env=dbt_env(small_raw, db),
    )
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    with duckdb.connect(str(db), read_only=True) as con:
        posts = con.execute(
            "select kind, is_loud, is_top_level, alerts, severity from main_marts.fct_alert_posts order by kind"
        ).fetchall()
        [threads] = con.execute(
            "select opening_incident_id, incidents, first_alert_date, last_alert_date, resolved_at is not null,"
            " posts, loud_posts, worst_severity from main_marts.fct_alert_threads where thread_ts = '1.1'"
        ).fetchall()
    # every kind classified as the tests classify it (delivery_support.LOUD_KINDS), never re-listed here
    assert {(k, loud) for k, loud, *_ in posts} == {(k, k in LOUD_KINDS) for k in kinds}
    assert [(a, s) for k, _, _, a, s in posts if k == "post"] == [(2, "critical")]
    assert threads == ("inc1", 3, D - dt.timedelta(days=2), D, True, 5, 2, "critical")
