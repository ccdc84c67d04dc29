"""BigQuery materialisation checks on dbt's manifest (compiled for the BigQuery adapter).

* every incremental model: `insert_overwrite`, partitioned by day on a DATE column it has,
  clustering (where set) on at most 4 of its columns;
* partition pruning: in the INCREMENTAL compile, every read of a dt-partitioned raw table
  (directly or through views, which BigQuery inlines) is filtered on `dt` in the SELECT that
  reads it, so the daily run scans only the reprocess window and works on sources created with
  `require_partition_filter = true`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

PARTITION_COLUMN = "dt"
_COMPARISONS = (exp.GTE, exp.GT, exp.LTE, exp.LT, exp.EQ, exp.Between, exp.In)

Manifest = Mapping[str, Any]


def _relation_key(relation_name: str) -> tuple[str, ...]:
    return tuple(part.strip('`"').lower() for part in relation_name.split("."))


def _table_key(table: exp.Table) -> tuple[str, ...]:
    return tuple(part.lower() for part in (table.catalog, table.db, table.name) if part)


def incremental_models(manifest: Manifest) -> dict[str, Mapping[str, Any]]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }


def materialisation_problems(manifest: Manifest) -> list[str]:
    """Strategy / partitioning / clustering problems of the incremental models."""
    problems: list[str] = []
    for node in incremental_models(manifest).values():
        name, config = node["name"], node["config"]
        columns = {c.lower() for c in node["columns"]}
        if config.get("incremental_strategy") != "insert_overwrite":
            problems.append(
                f"{name}: incremental_strategy {config.get('incremental_strategy')!r}, not insert_overwrite"
            )
        partition = config.get("partition_by") or {}
        if not isinstance(partition, Mapping) or partition.get("data_type") != "date":
            problems.append(f"{name}: not partitioned by a DATE column (partition_by={partition!r})")
        else:
            if partition.get("granularity", "day") != "day":
                problems.append(f"{name}: partition granularity {partition.get('granularity')!r}, not day")
            if str(partition.get("field", "")).lower() not in columns:
                problems.append(f"{name}: partition column {partition.get('field')!r} is not a documented column")
        cluster = config.get("cluster_by") or []
        cluster = [cluster] if isinstance(cluster, str) else list(cluster)
        if len(cluster) > 4:
            problems.append(f"{name}: {len(cluster)} clustering columns (BigQuery allows 4)")
        for column in cluster:
            if column.lower() not in columns:
                problems.append(f"{name}: clustering column {column!r} is not a documented column")
    return problems


def partitioned_inputs(manifest: Manifest) -> dict[tuple[str, ...], str]:
    """Relation -> source name, for dt-partitioned raw tables and the views that read them."""
    partitioned = {
        uid: f"source {src['source_name']}.{src['name']}"
        for uid, src in manifest["sources"].items()
        if PARTITION_COLUMN in {c.lower() for c in src["columns"]}
    }
    relations = {uid: manifest["sources"][uid]["relation_name"] for uid in partitioned}
    changed = True
    while changed:  # views over partitioned inputs, transitively
        changed = False
        for uid, node in manifest["nodes"].items():
            if uid in partitioned or node["resource_type"] != "model":
                continue
            if node["config"].get("materialized") not in ("view", "ephemeral"):
                continue
            reached = [partitioned[d] for d in node["depends_on"]["nodes"] if d in partitioned]
            if reached:
                partitioned[uid] = reached[0]
                relations[uid] = node["relation_name"]
                changed = True
    return {_relation_key(relations[uid]): origin for uid, origin in partitioned.items() if relations[uid]}


def _filtered_on_partition(table: exp.Table) -> bool:
    select = table.find_ancestor(exp.Select)
    where = select.args.get("where") if select is not None else None
    if where is None:
        return False
    alias = table.alias_or_name.lower()
    for column in where.find_all(exp.Column):
        if column.name.lower() != PARTITION_COLUMN or column.table.lower() not in ("", alias):
            continue
        if column.find_ancestor(*_COMPARISONS) is not None:
            return True
    return False


def partition_filter_problems(manifest: Manifest) -> tuple[list[str], list[str]]:
    """(problems, checked reads) for the partitioned reads in the incremental compile of each model."""
    inputs = partitioned_inputs(manifest)
    problems: list[str] = []
    checked: list[str] = []
    for node in incremental_models(manifest).values():
        sql = node.get("compiled_code")
        if not sql:
            problems.append(f"{node['name']}: no compiled SQL in the manifest")
            continue
        for table in sqlglot.parse_one(sql, read="bigquery").find_all(exp.Table):
            origin = inputs.get(_table_key(table))
            if origin is None:
                continue
            read = f"{node['name']} reads {table.name} ({origin})"
            if _filtered_on_partition(table):
                checked.append(read + f": filtered on {PARTITION_COLUMN}")
            else:
                problems.append(
                    read + f" without a filter on {PARTITION_COLUMN} (full scan; fails with require_partition_filter)"
                )
    return problems, checked


def ddl_problems(manifest: Manifest, run_dir: Path) -> tuple[list[str], list[str]]:
    """(problems, found) for the `create or replace table` dbt ran for each incremental model's FULL build:
    `partition by <field>` and `cluster by <columns>` as configured (the emulator does not report
    clustering through tables.get, so the DDL is where it is checked)."""
    problems: list[str] = []
    found: list[str] = []
    for node in incremental_models(manifest).values():
        path = run_dir / node["package_name"] / node["original_file_path"]
        if not path.exists():
            problems.append(f"{node['name']}: no run SQL at {path}")
            continue
        ddl = " ".join(path.read_text().split()).lower()
        partition = (node["config"].get("partition_by") or {}).get("field", "")
        cluster = node["config"].get("cluster_by") or []
        cluster = [cluster] if isinstance(cluster, str) else list(cluster)
        wanted = [f"partition by {partition}".lower()]
        if cluster:
            wanted.append(("cluster by " + ", ".join(cluster)).lower())
        missing = [clause for clause in wanted if clause not in ddl]
        if "create or replace table" not in ddl or missing:
            problems.append(f"{node['name']}: full-build DDL lacks {missing or 'create or replace table'} ({path})")
        else:
            found.append(f"{node['name']}: {' '.join(wanted)}")
    return problems, found
