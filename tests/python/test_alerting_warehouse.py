"""Warehouse access: parameters (never formatted values), BigQuery parameter types, env config."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from google.cloud import bigquery

from alerting.causes import attach_causes
from alerting.delivery_log import DeliveryLog, LogEntry
from alerting.routing import parse_routing
from alerting.runner import RunOptions, run
from alerting.values import unit_for_metric
from alerting.warehouse import (
    BigQueryBackend,
    WarehouseError,
    bq_parameter,
    config_from_env,
    open_backend,
    read_alerts,
)
from tests.python.alerting_support import COST_DAY, DAY, create_marts, usage_alert


class FakeBQ:
    """Records what google-cloud-bigquery would be asked; answers from canned rows."""

    def __init__(self, rows: list[dict[str, Any]], columns: list[str]) -> None:
        self.rows = rows
        self.columns = columns
        self.queries: list[tuple[str, list[Any]]] = []
        self.datasets: list[str] = []
        self.timeouts: list[float] = []  # every API call's timeout (and its retry deadline)

    def _bounded(self, timeout: float, retry: Any) -> None:
        assert retry.deadline == timeout, (retry.deadline, timeout)
        self.timeouts.append(timeout)

    def get_table(self, ref: str, timeout: float, retry: Any) -> Any:
        self._bounded(timeout, retry)
        fields = [bigquery.SchemaField(c, "STRING") for c in self.columns]
        return type("T", (), {"schema": fields})()

    def create_dataset(self, dataset: Any, timeout: float, retry: Any, exists_ok: bool = False) -> None:
        self._bounded(timeout, retry)
        self.datasets.append(f"{dataset.project}.{dataset.dataset_id}")

    def query(self, sql: str, timeout: float, retry: Any, job_config: Any = None, location: Any = None) -> Any:
        self._bounded(timeout, retry)
        self.queries.append((sql, list(job_config.query_parameters)))
        rows = self.rows if sql.startswith("select alert_id,") else []
        fake = self

        class Job:
            def result(self_inner, timeout: float, retry: Any) -> list[Any]:
                fake._bounded(timeout, retry)
                return [type("Row", (), {"items": lambda self, r=r: r.items()})() for r in rows]

        return Job()

    def close(self) -> None:
        pass


def test_bigquery_parameters_are_typed() -> None:
    p = bq_parameter("d", dt.date(2026, 11, 21))
    assert (p.name, p.type_, p.value) == ("d", "DATE", dt.date(2026, 11, 21))
    assert bq_parameter("t", dt.datetime(2026, 11, 21, 6)).type_ == "TIMESTAMP"
    assert bq_parameter("b", True).type_ == "BOOL"
    assert bq_parameter("i", 3).type_ == "INT64"
    assert bq_parameter("f", 0.5).type_ == "FLOAT64"
    assert bq_parameter("s", "<!channel>").type_ == "STRING"
    arr = bq_parameter("ids", ["a", "b"])
    assert isinstance(arr, bigquery.ArrayQueryParameter) and arr.array_type == "STRING" and arr.values == ["a", "b"]
    assert bq_parameter("none", []).array_type == "STRING"


def test_bigquery_queries_use_parameters_and_qualified_tables() -> None:
    from tests.python.alerting_support import ALERT_COLUMNS

    alert = usage_alert("id'1")
    row = {name: getattr(alert, name) for name, _ in ALERT_COLUMNS}
    fake = FakeBQ([row], [n for n, _ in ALERT_COLUMNS])
    backend = BigQueryBackend("my-proj", "ltx_monitoring_marts", "ltx_monitoring_alerting", "US", client=fake)
    alerts = read_alerts(backend, DAY, COST_DAY)
    assert [a.alert_id for a in alerts] == ["id'1"]
    sql, params = fake.queries[0]
    assert "`my-proj.ltx_monitoring_marts.fct_alerts`" in sql
    assert "@usage_date" in sql and "@cost_date" in sql and DAY.isoformat() not in sql
    assert {(p.name, p.type_) for p in params} == {("usage_date", "DATE"), ("cost_date", "DATE")}

    log = DeliveryLog(backend)
    log.ensure()
    assert fake.datasets == ["my-proj.ltx_monitoring_alerting"]
    ddl = [q for q, _ in fake.queries if q.startswith("create table")]
    assert ddl[0].startswith("create table if not exists `my-proj.ltx_monitoring_alerting.alert_delivery_log`")
    assert "delivered_at TIMESTAMP" in ddl[0] and "primary key" not in ddl[0]  # BigQuery enforces no keys
    assert ddl[1].startswith("create table if not exists `my-proj.ltx_monitoring_alerting.alert_delivery_claims`")
    log.delivered_keys("slack:#c", ["x"])
    # every API call is bounded by the backend's timeout, retries included (default 120 s)
    assert fake.timeouts and set(fake.timeouts) == {120.0}
    assert "delivery_key in unnest(@keys)" in fake.queries[-1][0]
    now = dt.datetime(2026, 11, 22, 6)
    log.record(
        [LogEntry("id'1", "slack:#c", "post", "id'1", "inc", DAY, "usage|free|dau|r", "warning", "increase", 3.2,
                  None, "product", "C1", "1.1", "1.1", "r", now)]
    )  # fmt: skip
    sql, params = fake.queries[-1]
    assert "id'1" not in sql and "@alert_id_0" in sql and "on conflict" not in sql
    assert "cast(null as FLOAT64)" in sql  # a null travels typed, not as an untyped parameter
    assert {p.name: p.type_ for p in params}["delivered_at_0"] == "TIMESTAMP"
    log.claim("slack:#c", ["id'1"], "run-1")
    insert, select, release = [q for q, _ in fake.queries if "alert_delivery_claims" in q][-3:]  # lost: released
    assert "current_timestamp()" in insert and "timestamp_sub(current_timestamp(), interval @ttl second)" in select
    assert release.startswith("delete from") and "run_id = @run" in release


def test_bigquery_config_from_env_and_validation() -> None:
    cfg = config_from_env("bigquery", {"LTX_BQ_PROJECT": "p1", "LTX_BQ_DATASET": "mon", "LTX_BQ_LOCATION": "EU"})
    assert (cfg.marts, cfg.log, cfg.bq_location) == ("mon_marts", "mon_alerting", "EU")
    cfg2 = config_from_env(
        "bigquery", {"LTX_BQ_PROJECT": "p1", "LTX_BQ_MARTS_DATASET": "m", "LTX_BQ_ALERTING_DATASET": "l"}
    )
    assert (cfg2.marts, cfg2.log) == ("m", "l")
    with pytest.raises(WarehouseError, match="LTX_BQ_PROJECT"):
        open_backend(config_from_env("bigquery", {}))
    with pytest.raises(WarehouseError, match="not a valid identifier"):
        BigQueryBackend("p1", "marts`; drop", "log", client=FakeBQ([], []))


def test_bigquery_emulator_endpoint_uses_anonymous_credentials() -> None:
    from google.auth.credentials import AnonymousCredentials

    backend = BigQueryBackend("test-project", "m", "l", api_endpoint="http://127.0.0.1:9050")
    assert isinstance(backend.client._credentials, AnonymousCredentials)
    assert backend.client._connection.API_BASE_URL == "http://127.0.0.1:9050"
    backend.close()


@pytest.mark.parametrize(
    ("metric", "unit"),
    [("tokens", "tokens"), ("dau", "count"), ("idle_cost", "usd"), ("cost_per_request", "usd_per_request"),
     ("failure_rate", "fraction"), ("idle_inference_ratio", "ratio"), ("rows", "rows")],
)  # fmt: skip
def test_unit_for_metric(metric: str, unit: str) -> None:
    assert unit_for_metric(metric) == unit


def test_drivers_table_is_optional(tmp_path: Path) -> None:
    path = tmp_path / "nodrivers.duckdb"
    create_marts(path, [usage_alert("u1", drivers_summary="Pro +5 (100% of change)")], with_drivers=False)
    backend = open_backend(config_from_env("duckdb", {"LTX_DUCKDB_PATH": str(path)}), read_only=True)
    try:
        assert attach_causes(backend, [usage_alert("u1")])[0].drivers == ()
        out = io.StringIO()
        routing = parse_routing({"default_channel": "#d"}, {})
        run(backend, routing, None, RunOptions(usage_date=DAY, cost_date=COST_DAY, dry_run=True), out)
        assert "Drivers: Pro +5 (100% of change)" in out.getvalue()
        out2 = io.StringIO()
        run(backend, routing, None, RunOptions(usage_date=DAY + dt.timedelta(days=1), cost_date=COST_DAY,
                                               dry_run=True), out2)  # fmt: skip
        assert f"Hint: latest usage alerts: --date {DAY.isoformat()}" in out2.getvalue()
    finally:
        backend.close()
