"""Load the synthetic raw Parquet tables into BigQuery (an emulator in CI) with the real client.

The raw tables are created the way production has them: `dt`-partitioned BigQuery tables
(DDL `partition by dt`, optionally `require_partition_filter = true`), then filled with CSV
load jobs (the load format every emulator we use accepts). Floats are written with `repr`,
which round-trips a double exactly, so both engines see bit-identical inputs.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa  # type: ignore[import-untyped]  # pyarrow ships no type information
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from google.cloud import bigquery

_ARROW_TO_BQ = {
    pa.date32(): "DATE",
    pa.string(): "STRING",
    pa.large_string(): "STRING",
    pa.int64(): "INT64",
    pa.int32(): "INT64",
    pa.float64(): "FLOAT64",
    pa.bool_(): "BOOL",
}


@dataclass(frozen=True)
class RawTable:
    """One raw source table: its folder under the raw dir and the env var naming its dataset."""

    name: str
    dataset_var: str
    default_dataset: str
    partitioned: bool


RAW_TABLES = (
    RawTable("ltxstudio_agg_user_date", "LTX_USAGE_DATASET", "web", partitioned=True),
    RawTable("enterprise_users", "LTX_ENTERPRISE_DATASET", "web", partitioned=False),
    RawTable("gpu_request_attribution_and_cost", "LTX_GPU_COSTS_DATASET", "gpu_costs", partitioned=True),
)


def bq_type(arrow_type: pa.DataType) -> str:
    """BigQuery column type of a Parquet column; unknown types fail loudly (no silent coercion)."""
    try:
        return _ARROW_TO_BQ[arrow_type]
    except KeyError:
        raise ValueError(f"no BigQuery type for Parquet type {arrow_type}") from None


def csv_value(value: object) -> str:
    """One CSV field: NULL is an empty field, floats round-trip exactly, bools as true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def to_csv(table: pa.Table) -> bytes:
    """The table as CSV bytes: a header line (skipped by the load job), LF line ends, minimal quoting."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([csv_value(v) for v in row.values()])
    return out.getvalue().encode("utf-8")


def create_table_ddl(table_id: str, schema: pa.Schema, partitioned: bool, require_partition_filter: bool) -> str:
    """`create table` DDL as production has it: partitioned by the DATE column `dt`."""
    columns = ",\n  ".join(f"`{f.name}` {bq_type(f.type)}" for f in schema)
    ddl = f"create table `{table_id}` (\n  {columns}\n)"
    if partitioned:
        ddl += "\npartition by dt"
        if require_partition_filter:
            ddl += "\noptions (require_partition_filter = true)"
    return ddl


def load_raw(
    client: bigquery.Client,
    raw_dir: Path,
    project: str,
    datasets: dict[str, str],
    require_partition_filter: bool = False,
) -> dict[str, int]:
    """(Re)create every raw table under `project` and load its Parquet files; returns rows per table."""
    loaded: dict[str, int] = {}
    for raw in RAW_TABLES:
        files = sorted((raw_dir / raw.name).glob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"no Parquet files under {raw_dir / raw.name}")
        table = pa.concat_tables(pq.read_table(f) for f in files)
        dataset_id = f"{project}.{datasets[raw.dataset_var]}"
        client.create_dataset(dataset_id, exists_ok=True)
        table_id = f"{dataset_id}.{raw.name}"
        client.delete_table(table_id, not_found_ok=True)
        client.query(create_table_ddl(table_id, table.schema, raw.partitioned, require_partition_filter)).result()
        job_config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.CSV,
            schema=[bigquery.SchemaField(f.name, bq_type(f.type)) for f in table.schema],
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            # explicit: an emulator that guesses a header would otherwise drop the first row
            skip_leading_rows=1,
        )
        job = client.load_table_from_file(io.BytesIO(to_csv(table)), table_id, job_config=job_config)
        job.result()
        landed = client.get_table(table_id).num_rows
        if landed != table.num_rows:
            raise RuntimeError(f"{table_id}: loaded {landed} rows, Parquet has {table.num_rows}")
        loaded[raw.name] = table.num_rows
    return loaded
