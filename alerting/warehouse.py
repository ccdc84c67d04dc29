"""Read the day's alerts (and drivers) from DuckDB or BigQuery — parameterised SQL only.

Values always travel as query parameters (DuckDB `$name`, BigQuery `@name` with
`ScalarQueryParameter` / `ArrayQueryParameter`); identifiers (schemas, datasets,
tables) come from configuration only and are validated before use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from alerting.model import ALERT_COLUMN_NAMES, Alert, Driver, alert_from_row, driver_from_row

log = logging.getLogger(__name__)

ALERTS_TABLE = "fct_alerts"
DRIVERS_TABLE = "fct_usage_alert_drivers"
# DESIGN.md §3.3 minimum columns of fct_alerts; the others have safe fallbacks
REQUIRED_ALERT_COLUMNS = (
    "alert_id",
    "alert_date",
    "domain",
    "team",
    "scope",
    "metric",
    "current_value",
    "baseline_mean",
    "baseline_stddev",
    "z_score",
    "pct_change",
    "severity",
    "direction",
    "is_suppressed",
    "rule",
    "drivers_summary",
    "recommended_action",
)
OPTIONAL_ALERT_COLUMNS = tuple(c for c in ALERT_COLUMN_NAMES if c not in REQUIRED_ALERT_COLUMNS)
DRIVER_COLUMNS = (
    "alert_id",
    "contributor_type",
    "contributor",
    "value",
    "baseline_mean",
    "delta",
    "share_of_delta",
    "contributor_rank",
)
COST_DOMAIN = "gpu_cost"

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,1023}$")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]{0,127}$")


class WarehouseError(RuntimeError):
    """The warehouse cannot be read (missing file/table/column, bad configuration)."""


def identifier(value: str, what: str, pattern: re.Pattern[str] = _IDENT) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise WarehouseError(f"{what} {value!r} is not a valid identifier")
    return value


class Backend(Protocol):
    """The little SQL surface the alerting module needs from a warehouse."""

    dialect: str

    def param(self, name: str) -> str: ...

    def in_list(self, column: str, param_name: str) -> str: ...

    def table(self, area: str, name: str) -> str: ...

    def columns(self, area: str, name: str) -> list[str]: ...

    def ensure_area(self, area: str) -> None: ...

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


# --- DuckDB ---------------------------------------------------------------------------------


class DuckDBBackend:
    """DuckDB file; marts in schema `main_marts`, the delivery log in `main_alerting`."""

    dialect = "duckdb"

    def __init__(self, path: str | Path, marts_schema: str, log_schema: str, read_only: bool = False) -> None:
        import duckdb

        self.path = Path(path)
        if not self.path.exists():
            raise WarehouseError(f"DuckDB file {self.path} does not exist: run `make build` (dbt build) first")
        self.areas = {
            "marts": identifier(marts_schema, "marts schema"),
            "alerting": identifier(log_schema, "delivery-log schema"),
        }
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.Error as exc:
            raise WarehouseError(f"cannot open {self.path}: {exc}") from None

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
        self.con.execute(f'create schema if not exists "{self.areas[area]}"')

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, dict(params or {}))
        if cur.description is None:
            return []
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


# --- BigQuery -------------------------------------------------------------------------------


def bq_parameter(name: str, value: Any) -> Any:
    """A google-cloud-bigquery query parameter typed from the Python value."""
    from google.cloud import bigquery

    def bq_type(v: Any) -> str:
        if isinstance(v, bool):
            return "BOOL"
        if isinstance(v, int):
            return "INT64"
        if isinstance(v, float):
            return "FLOAT64"
        if isinstance(v, dt.datetime):
            return "TIMESTAMP"
        if isinstance(v, dt.date):
            return "DATE"
        return "STRING"

    if isinstance(value, list | tuple | set | frozenset):
        values = list(value)
        return bigquery.ArrayQueryParameter(name, bq_type(values[0]) if values else "STRING", values)
    return bigquery.ScalarQueryParameter(name, bq_type(value), value)


class BigQueryBackend:
    """google-cloud-bigquery; marts dataset `<LTX_BQ_DATASET>_marts`, log dataset `..._alerting`."""

    dialect = "bigquery"

    def __init__(
        self,
        project: str,
        marts_dataset: str,
        log_dataset: str,
        location: str | None = None,
        api_endpoint: str | None = None,
        client: Any = None,
    ) -> None:
        self.project = identifier(project, "BigQuery project", _PROJECT)
        self.areas = {
            "marts": identifier(marts_dataset, "marts dataset"),
            "alerting": identifier(log_dataset, "delivery-log dataset"),
        }
        self.location = location or None
        if client is None:
            from google.cloud import bigquery

            kwargs: dict[str, Any] = {"project": self.project, "location": self.location}
            if api_endpoint:
                from google.api_core.client_options import ClientOptions
                from google.auth.credentials import AnonymousCredentials

                kwargs["client_options"] = ClientOptions(api_endpoint=api_endpoint)
                kwargs["credentials"] = AnonymousCredentials()
            client = bigquery.Client(**kwargs)
        self.client = client

    def param(self, name: str) -> str:
        return "@" + identifier(name, "parameter")

    def in_list(self, column: str, param_name: str) -> str:
        return f"{identifier(column, 'column')} in unnest({self.param(param_name)})"

    def _ref(self, area: str, name: str) -> str:
        return f"{self.project}.{self.areas[area]}.{identifier(name, 'table')}"

    def table(self, area: str, name: str) -> str:
        return f"`{self._ref(area, name)}`"

    def columns(self, area: str, name: str) -> list[str]:
        from google.api_core.exceptions import NotFound

        try:
            return [f.name.lower() for f in self.client.get_table(self._ref(area, name)).schema]
        except NotFound:
            return []

    def ensure_area(self, area: str) -> None:
        from google.cloud import bigquery

        dataset = bigquery.Dataset(f"{self.project}.{self.areas[area]}")
        if self.location:
            dataset.location = self.location
        self.client.create_dataset(dataset, exists_ok=True)

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(query_parameters=[bq_parameter(k, v) for k, v in (params or {}).items()])
        rows = self.client.query(sql, job_config=config, location=self.location).result()
        return [dict(row.items()) for row in rows]

    def close(self) -> None:
        self.client.close()


# --- configuration --------------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseConfig:
    target: str
    duckdb_path: str
    duckdb_marts_schema: str
    duckdb_log_schema: str
    bq_project: str | None
    bq_marts_dataset: str
    bq_log_dataset: str
    bq_location: str | None
    bq_api_endpoint: str | None


def config_from_env(target: str, env: Mapping[str, str] | None = None) -> WarehouseConfig:
    env = os.environ if env is None else env
    base = env.get("LTX_BQ_DATASET") or "ltx_monitoring"
    return WarehouseConfig(
        target=target,
        duckdb_path=env.get("LTX_DUCKDB_PATH") or "data/ltx_monitoring.duckdb",
        duckdb_marts_schema=env.get("LTX_DUCKDB_MARTS_SCHEMA") or "main_marts",
        duckdb_log_schema=env.get("LTX_DUCKDB_ALERTING_SCHEMA") or "main_alerting",
        bq_project=env.get("LTX_BQ_PROJECT") or None,
        bq_marts_dataset=env.get("LTX_BQ_MARTS_DATASET") or f"{base}_marts",
        bq_log_dataset=env.get("LTX_BQ_ALERTING_DATASET") or f"{base}_alerting",
        bq_location=env.get("LTX_BQ_LOCATION") or None,
        bq_api_endpoint=env.get("LTX_BQ_API_ENDPOINT") or None,
    )


def open_backend(config: WarehouseConfig, read_only: bool = False) -> Backend:
    if config.target == "duckdb":
        return DuckDBBackend(config.duckdb_path, config.duckdb_marts_schema, config.duckdb_log_schema, read_only)
    if config.target == "bigquery":
        if not config.bq_project:
            raise WarehouseError("LTX_BQ_PROJECT is not set (needed for --target bigquery)")
        return BigQueryBackend(
            config.bq_project,
            config.bq_marts_dataset,
            config.bq_log_dataset,
            config.bq_location,
            config.bq_api_endpoint,
        )
    raise WarehouseError(f"unknown target {config.target!r} (duckdb or bigquery)")


# --- reading alerts ---------------------------------------------------------------------------


def infer_unit(metric: str | None) -> str:
    """The unit of a metric when the mart carries none (older / foreign marts)."""
    m = (metric or "").lower()
    if m == "tokens":
        return "tokens"
    if m == "cost_per_request":
        return "usd_per_request"
    if m.endswith("_cost") or m == "cost":
        return "usd"
    if m.endswith("_rate"):
        return "rate"
    if m.endswith("_ratio"):
        return "ratio"
    return "count"


def fallback_alert_id(row: Mapping[str, Any]) -> str:
    """A deterministic id for a row that has none (so it can still be logged exactly once)."""
    key = "|".join(str(row.get(k)) for k in ("domain", "alert_date", "scope", "metric", "rule"))
    return "noid-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def _float(v: Any) -> float | None:
    return None if v is None else float(v)


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def row_to_alert(row: Mapping[str, Any]) -> Alert:
    alert_id = row.get("alert_id")
    if not alert_id:
        alert_id = fallback_alert_id(row)
        log.warning("an alert without alert_id (%s/%s): using %s", row.get("scope"), row.get("metric"), alert_id)
    return alert_from_row({**row, "alert_id": alert_id, "unit": row.get("unit") or infer_unit(row.get("metric"))})


def read_alerts(backend: Backend, usage_date: dt.date, cost_date: dt.date) -> list[Alert]:
    """Usage (and any non-cost) alerts of `usage_date`, cost alerts of the finalised `cost_date`."""
    present = set(backend.columns("marts", ALERTS_TABLE))
    if not present:
        raise WarehouseError(f"{backend.table('marts', ALERTS_TABLE)} not found: run dbt build first")
    missing = [c for c in REQUIRED_ALERT_COLUMNS if c not in present]
    if missing:
        raise WarehouseError(f"{ALERTS_TABLE} lacks required column(s): {', '.join(missing)}")
    select = [c for c in (*REQUIRED_ALERT_COLUMNS, *OPTIONAL_ALERT_COLUMNS) if c in present]
    p = backend.param
    sql = (
        f"select {', '.join(select)} from {backend.table('marts', ALERTS_TABLE)}"  # noqa: S608
        f" where (domain = {p('cost_domain')} and alert_date = {p('cost_date')})"
        f" or (coalesce(domain, '') <> {p('cost_domain')} and alert_date = {p('usage_date')})"
        " order by alert_id"
    )
    rows = backend.query(sql, {"cost_domain": COST_DOMAIN, "cost_date": cost_date, "usage_date": usage_date})
    return [row_to_alert(r) for r in rows]


def read_drivers(backend: Backend, alert_ids: Sequence[str]) -> dict[str, list[Driver]]:
    """Contributors per alert from fct_usage_alert_drivers; {} when that table does not exist."""
    present = set(backend.columns("marts", DRIVERS_TABLE))
    if not alert_ids or not present:
        return {}
    if not set(DRIVER_COLUMNS) <= present:
        log.warning("%s lacks some columns; using drivers_summary instead", DRIVERS_TABLE)
        return {}
    sql = (
        f"select {', '.join(DRIVER_COLUMNS)} from {backend.table('marts', DRIVERS_TABLE)}"  # noqa: S608
        f" where {backend.in_list('alert_id', 'alert_ids')} order by alert_id, contributor_rank"
    )
    out: dict[str, list[Driver]] = {}
    for r in backend.query(sql, {"alert_ids": list(alert_ids)}):
        out.setdefault(str(r["alert_id"]), []).append(driver_from_row(r))
    return out


def latest_alert_dates(backend: Backend) -> tuple[dt.date | None, dt.date | None]:
    """(latest usage/other alert_date, latest cost alert_date) among postable alerts — for hints."""
    p = backend.param
    sql = (
        "select"  # noqa: S608 - validated identifiers; values are parameters
        f" max(case when coalesce(domain, '') <> {p('cost_domain')} then alert_date end) as usage_day,"
        f" max(case when domain = {p('cost_domain')} then alert_date end) as cost_day"
        f" from {backend.table('marts', ALERTS_TABLE)} where not coalesce(is_suppressed, false)"
    )
    [row] = backend.query(sql, {"cost_domain": COST_DOMAIN})
    usage, cost = row.get("usage_day"), row.get("cost_day")
    return (_date(usage) if usage else None, _date(cost) if cost else None)
