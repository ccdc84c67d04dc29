"""The marts' contracts on the emulator, where dbt cannot enforce them (docs/bigquery.md, "Contracts").

Which models are contracted, and with which columns and types, comes from a manifest parsed for
the production target (`dbt parse --target bigquery`: the contracts as real BigQuery enforces
them, data types rendered for BigQuery). Each such table on the emulator must have exactly those
columns, in that order, with those types (tables.get).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# BigQuery's legacy type names (what tables.get reports) -> the standard SQL names of the contracts
ALIASES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "NUMERIC": "NUMERIC", "RECORD": "STRUCT"}


def normalise(data_type: str) -> str:
    name = data_type.strip().upper()
    return ALIASES.get(name, name)


def contracted_models(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{unique_id: node} of every model whose contract is enforced in this manifest."""
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("contract", {}).get("enforced")
    }


def contract_columns(node: Mapping[str, Any]) -> list[tuple[str, str]]:
    """[(column, normalised type)] in the YAML's order."""
    return [(name, normalise(col.get("data_type") or "")) for name, col in node["columns"].items()]


def problems(
    manifest: Mapping[str, Any], table_columns: Callable[[str], list[tuple[str, str]] | None], project: str
) -> tuple[list[str], list[str]]:
    """(problems, checked): each contracted model's table (in `project`) against its contract."""
    found, checked = [], []
    models = contracted_models(manifest)
    if not models:
        found.append("no contracted model in the bigquery manifest: nothing was checked")
    for node in sorted(models.values(), key=lambda n: n["name"]):
        table = f"{project}.{node['schema']}.{node['alias']}"
        actual = table_columns(table)
        wanted = contract_columns(node)
        if actual is None:
            found.append(f"{node['name']}: {table} not found")
            continue
        actual = [(name, normalise(kind)) for name, kind in actual]
        if actual != wanted:
            missing = [c for c in wanted if c not in actual]
            extra = [c for c in actual if c not in wanted]
            order = "" if missing or extra else " (same columns, another order)"
            found.append(f"{node['name']}: contract {missing} missing, table has {extra} beyond it{order}")
        else:
            checked.append(f"{node['name']}: {len(wanted)} columns, names, order and types as contracted")
    return found, checked
