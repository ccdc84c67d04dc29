"""Read the day's alerts (and drivers) from DuckDB or BigQuery. Values always travel as query parameters;
identifiers (schemas, datasets, tables) come from configuration only and are validated before use."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alerting.model import ALERT_COLUMN_NAMES, Alert, alert_from_row, as_date

log = logging.getLogger(__name__)

ALERTS_TABLE = "fct_alerts"
DATA_HEALTH_TABLE = "fct_data_health"
# the DuckDB lock wait: a full `make build` takes minutes (the scheduler may start us meanwhile); longer than the
# longest build is a typo. BigQuery: an API call with its retries; an unreachable endpoint fails in minutes.
DEFAULT_LOCK_TIMEOUT_S, MAX_LOCK_TIMEOUT_S = 600.0, 6 * 3600.0
DEFAULT_BQ_TIMEOUT_S, MAX_BQ_TIMEOUT_S = 120.0, 3600.0
COST_DOMAIN, HEALTH_DOMAIN, COST_SOURCE = "gpu_cost", "data_health", "gpu_costs"  # gpu_costs: health of the cost day
_BQ_TYPES = ((bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"), (dt.datetime, "TIMESTAMP"), (dt.date, "DATE"))
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,127}$")


class WarehouseError(RuntimeError):
    """The warehouse cannot be read (missing file/table/column, bad configuration)."""


class WarehouseBusy(WarehouseError):
    exit_code = 4  # the CLI's "warehouse busy": the DuckDB file stayed locked by a build; nothing was lost


def identifier(value: str, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise WarehouseError(f"{what} {value!r} is not a valid identifier")
    return value


def _areas(marts: str, log: str, kind: str) -> dict[str, str]:
    return {"marts": identifier(marts, f"marts {kind}"), "alerting": identifier(log, f"delivery-log {kind}")}


class DuckDBBackend:
    """The file is held only while a query (or a `session()`) runs, so a `dbt build` can run while a run waits
    on Slack; a file locked by another process is retried with back-off up to `lock_timeout_s`, then WarehouseBusy."""

    dialect = "duckdb"

    def __init__(
        self, path: str | Path, marts_schema: str, log_schema: str, read_only: bool = False,
        lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    ) -> None:  # fmt: skip
        self.path, self.areas = Path(path), _areas(marts_schema, log_schema, "schema")
        if not self.path.exists():
            raise WarehouseError(f"DuckDB file {self.path} does not exist: run `make build` (dbt build) first")
        self.read_only, self.lock_timeout_s = read_only, lock_timeout_s
        self._con: Any = None
        self.lock_waits = 0

    def _connect(self) -> Any:
        import duckdb

        deadline, delay = time.monotonic() + self.lock_timeout_s, 0.1
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=self.read_only)
            except duckdb.Error as exc:
                text = str(exc).lower()
                if "lock" not in text or not ("conflicting" in text or "could not set" in text):
                    raise WarehouseError(f"cannot open {self.path}: {exc}") from None
                if time.monotonic() + delay > deadline:
                    raise WarehouseBusy(
                        f"{self.path} is locked by another process (a dbt build?) and stayed locked for"
                        f" {self.lock_timeout_s:.0f} s (LTX_DUCKDB_LOCK_TIMEOUT): nothing was posted or lost;"
                        " run again when the build has finished"
                    ) from None
                if self.lock_waits == 0:
                    log.info("%s is locked by another process; waiting (up to %.0f s)", self.path, self.lock_timeout_s)
                self.lock_waits += 1
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    @contextmanager
    def session(self) -> Iterator[None]:
        if self._con is not None:
            yield
            return
        self._con = self._connect()
        try:
            yield
        finally:
            con, self._con = self._con, None
            con.close()

    def param(self, name: str) -> str:
        return "$" + identifier(name, "parameter")

    def in_list(self, column: str, param_name: str) -> str:
        return f"list_contains({self.param(param_name)}, {identifier(column, 'column')})"

    def table(self, area: str, name: str) -> str:
        return f'"{self.areas[area]}"."{identifier(name, "table")}"'

    def columns(self, area: str, name: str) -> list[str]:
        rows = self.query(
            "select column_name from information_schema.columns"
            " where table_schema = $schema and table_name = $name order by ordinal_position",
            {"schema": self.areas[area], "name": name},
        )
        return [r["column_name"].lower() for r in rows]

    def ensure_area(self, area: str) -> None:
        self.query(f'create schema if not exists "{self.areas[area]}"')

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self.session():
            cur = self._con.execute(sql, dict(params or {}))
            if cur.description is None:
                return []
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        """Nothing to release: the file is held only within a query or a session."""


def bq_parameter(name: str, value: Any) -> Any:
    from google.cloud import bigquery

    values = list(value) if isinstance(value, list | tuple | set | frozenset) else None
    of = values[0] if values else value
    bq_type = next((bq for py, bq in _BQ_TYPES if isinstance(of, py)), "STRING")
    if values is None:
        return bigquery.ScalarQueryParameter(name, bq_type, value)
    return bigquery.ArrayQueryParameter(name, bq_type, values)


class BigQueryBackend:
    dialect = "bigquery"

    def __init__(
        self, project: str, marts_dataset: str, log_dataset: str, location: str | None = None,
        api_endpoint: str | None = None, client: Any = None, timeout_s: float = DEFAULT_BQ_TIMEOUT_S,
    ) -> None:  # fmt: skip
        self.project, self.timeout_s = identifier(project, "BigQuery project", _PROJECT), timeout_s
        self.endpoint = api_endpoint or "the BigQuery API"
        self.areas, self.location = _areas(marts_dataset, log_dataset, "dataset"), location or None
        if client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import bigquery

            endpoint = {"api_endpoint": api_endpoint} if api_endpoint else None  # the emulator: no credentials
            creds = AnonymousCredentials() if api_endpoint else None  # type: ignore[no-untyped-call]
            client = bigquery.Client(self.project, creds, location=self.location, client_options=endpoint)
        self.client = client

    def param(self, name: str) -> str:
        return "@" + identifier(name, "parameter")

    def in_list(self, column: str, param_name: str) -> str:
        return f"{identifier(column, 'column')} in unnest({self.param(param_name)})"

    def _ref(self, area: str, name: str) -> str:
        return f"{self.project}.{self.areas[area]}.{identifier(name, 'table')}"

    def table(self, area: str, name: str) -> str:
        return f"`{self._ref(area, name)}`"

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One API call within the timeout, retries included (the client's default: 600 s)."""
        import requests
        from google.api_core.exceptions import RetryError
        from google.cloud import bigquery

        unreachable = (RetryError, requests.exceptions.RequestException, TimeoutError)  # concurrent.futures' too
        retry = bigquery.DEFAULT_RETRY.with_deadline(self.timeout_s)
        try:
            return method(*args, **kwargs, timeout=self.timeout_s, retry=retry)
        except unreachable as exc:
            raise WarehouseError(
                f"BigQuery unreachable: {self.endpoint} did not answer within {self.timeout_s:.0f} s"
                f" (LTX_BQ_TIMEOUT; {type(exc).__name__}); nothing was posted"
            ) from None

    def columns(self, area: str, name: str) -> list[str]:
        from google.api_core.exceptions import NotFound

        try:
            return [f.name.lower() for f in self._call(self.client.get_table, self._ref(area, name)).schema]
        except NotFound:
            return []

    def ensure_area(self, area: str) -> None:
        from google.cloud import bigquery

        dataset = bigquery.Dataset(f"{self.project}.{self.areas[area]}")
        if self.location:
            dataset.location = self.location
        self._call(self.client.create_dataset, dataset, exists_ok=True)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=[bq_parameter(k, v) for k, v in (params or {}).items()])
        job = self._call(self.client.query, sql, job_config=config, location=self.location)
        return [dict(row.items()) for row in self._call(job.result)]

    def session(self) -> AbstractContextManager[None]:
        return nullcontext()  # nothing to hold: every query is its own job

    def close(self) -> None:
        self.client.close()


Backend = DuckDBBackend | BigQueryBackend


@dataclass(frozen=True)
class WarehouseConfig:
    target: str
    marts: str  # a DuckDB schema or a BigQuery dataset
    log: str  # the same for the delivery log and alert_feedback
    timeout_s: float  # DuckDB: the wait for a locked file; BigQuery: each API call
    duckdb_path: str = ""
    bq_project: str | None = None
    bq_location: str | None = None
    bq_api_endpoint: str | None = None


def config_from_env(target: str, env: Mapping[str, str]) -> WarehouseConfig:
    if target != "bigquery":
        return WarehouseConfig(
            "duckdb",
            marts=env.get("LTX_DUCKDB_MARTS_SCHEMA") or "main_marts",
            log=env.get("LTX_DUCKDB_ALERTING_SCHEMA") or "main_alerting",
            timeout_s=_seconds(env, "LTX_DUCKDB_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT_S, MAX_LOCK_TIMEOUT_S),
            duckdb_path=env.get("LTX_DUCKDB_PATH") or "data/ltx_monitoring.duckdb",
        )
    base = env.get("LTX_BQ_DATASET") or "ltx_monitoring"
    return WarehouseConfig(
        target,
        marts=env.get("LTX_BQ_MARTS_DATASET") or f"{base}_marts",
        log=env.get("LTX_BQ_ALERTING_DATASET") or f"{base}_alerting",
        timeout_s=_seconds(env, "LTX_BQ_TIMEOUT", DEFAULT_BQ_TIMEOUT_S, MAX_BQ_TIMEOUT_S),
        bq_project=env.get("LTX_BQ_PROJECT") or None,
        bq_location=env.get("LTX_BQ_LOCATION") or None,
        bq_api_endpoint=env.get("LTX_BQ_API_ENDPOINT") or None,
    )


def _seconds(env: Mapping[str, str], name: str, default: float, maximum: float) -> float:
    value = env.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise WarehouseError(f"{name}={value!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and 0 < seconds <= maximum):
        raise WarehouseError(f"{name}={value!r} must be a finite number of seconds above 0 and at most {maximum:.0f}")
    return seconds


def open_backend(c: WarehouseConfig, read_only: bool = False) -> Backend:
    if c.target != "bigquery":
        return DuckDBBackend(c.duckdb_path, c.marts, c.log, read_only, c.timeout_s)
    if not c.bq_project:
        raise WarehouseError("LTX_BQ_PROJECT is not set (needed for --target bigquery)")
    return BigQueryBackend(c.bq_project, c.marts, c.log, c.bq_location, c.bq_api_endpoint, timeout_s=c.timeout_s)


def between(backend: Backend, column: str, start: dt.date, end: dt.date) -> tuple[str, dict[str, Any]]:
    return f"{column} >= {backend.param('start')} and {column} <= {backend.param('end')}", {"start": start, "end": end}


def _select(backend: Backend, table: str, columns: str, where: str, params: Mapping[str, Any] | None = None,
            ) -> list[dict[str, Any]] | None:  # fmt: skip
    """The rows of a mart (None when it is not built). Names are this module's constants; values parameters."""
    if not backend.columns("marts", table):
        return None
    return backend.query(f"select {columns} from {backend.table('marts', table)} where {where}", params)  # noqa: S608


def _alerts(backend: Backend, where: str, params: Mapping[str, Any]) -> list[Alert]:
    table, present = backend.table("marts", ALERTS_TABLE), set(backend.columns("marts", ALERTS_TABLE))
    if not present:
        raise WarehouseError(f"{table} not found: run dbt build first")
    missing = [c for c in ALERT_COLUMN_NAMES if c not in present]
    if missing:
        raise WarehouseError(f"{ALERTS_TABLE} lacks column(s) {', '.join(missing)}: rebuild it with this project")
    sql = f"select {', '.join(ALERT_COLUMN_NAMES)} from {table} where {where} order by alert_date, alert_id"  # noqa: S608
    return [alert_from_row(r) for r in backend.query(sql, params)]


def on_cost_day(domain: str, scope: str) -> bool:
    """A series reported on the finalised cost day (cost alerts, and the data health of the GPU source)."""
    return domain == COST_DOMAIN or (domain == HEALTH_DOMAIN and scope == COST_SOURCE)


def read_alerts(backend: Backend, usage_date: dt.date, cost_date: dt.date) -> list[Alert]:
    """The run's alerts, held ones included: those `on_cost_day` of the finalised `cost_date`, the others of
    `usage_date`."""
    where = f"alert_date in ({backend.param('usage_date')}, {backend.param('cost_date')})"
    rows = _alerts(backend, where, {"usage_date": usage_date, "cost_date": cost_date})
    return [a for a in rows if a.alert_date == (cost_date if on_cost_day(a.domain, a.scope) else usage_date)]


def read_alerts_by_id(backend: Backend, alert_ids: Sequence[str]) -> list[Alert]:
    return _alerts(backend, backend.in_list("alert_id", "ids"), {"ids": list(alert_ids)}) if alert_ids else []


def read_alert_history(backend: Backend, since: dt.date, until: dt.date) -> list[Alert]:
    return _alerts(backend, *between(backend, "alert_date", since, until))


def read_data_health(backend: Backend, since: dt.date, until: dt.date) -> dict[tuple[dt.date, str], str] | None:
    rows = _select(backend, DATA_HEALTH_TABLE, "dt, source, status", *between(backend, "dt", since, until))
    if rows is None:
        return None
    return {(as_date(r["dt"]) or dt.date.min, str(r["source"])): str(r["status"]) for r in rows}


def build_mismatch(backend: Backend) -> str | None:
    """Why fct_alerts and fct_data_health are not of one dbt build (a build stopped half-way leaves new
    health beside old alerts), or None."""
    health = _select(backend, DATA_HEALTH_TABLE, "distinct build_id", "true")
    if health is None:
        return None
    alerts = _select(backend, ALERTS_TABLE, "distinct build_id", "true") or []
    builds = [", ".join(sorted(str(r["build_id"]) for r in rows)) for rows in (alerts, health)]
    if not builds[0] or builds[0] == builds[1]:
        return None
    return (
        f"{ALERTS_TABLE} (build {builds[0]}) and {DATA_HEALTH_TABLE} (build {builds[1]})"
        " come from different dbt builds: a build stopped half-way; run the daily build again"
    )


def latest_alert_dates(backend: Backend) -> tuple[dt.date | None, dt.date | None]:
    """(latest usage/other, latest cost) alert_date among postable alerts: a hint for an empty day."""
    p = backend.param
    sql = (
        f"select max(case when domain <> {p('cost')} then alert_date end) as usage_day,"  # noqa: S608
        f" max(case when domain = {p('cost')} then alert_date end) as cost_day"
        f" from {backend.table('marts', ALERTS_TABLE)} where is_postable"
    )
    [row] = backend.query(sql, {"cost": COST_DOMAIN})
    return as_date(row["usage_day"]), as_date(row["cost_day"])
