"""Read what dbt wrote under its target path: per-node timings and the built relations."""

from __future__ import annotations

import json
from pathlib import Path


def node_timings(run_results: Path) -> list[dict]:
    """Every executed node with its execution time, slowest first."""
    data = json.loads(run_results.read_text())
    rows = [
        {
            "unique_id": r["unique_id"],
            "status": r["status"],
            "execution_time_s": round(float(r.get("execution_time") or 0.0), 3),
        }
        for r in data.get("results", [])
    ]
    return sorted(rows, key=lambda r: r["execution_time_s"], reverse=True)


def model_timings(run_results: Path) -> list[dict]:
    return [r for r in node_timings(run_results) if r["unique_id"].startswith("model.")]


def top_models(run_results: Path, n: int = 5) -> list[dict]:
    return model_timings(run_results)[:n]


def built_models(manifest: Path) -> list[dict]:
    """Models that leave rows behind (table / incremental), with their schema, name and materialization."""
    data = json.loads(manifest.read_text())
    out = []
    for uid, node in data.get("nodes", {}).items():
        if node.get("resource_type") != "model":
            continue
        mat = node.get("config", {}).get("materialized")
        if mat not in ("table", "incremental"):
            continue
        out.append(
            {
                "unique_id": uid,
                "schema": node["schema"],
                "name": node.get("alias") or node["name"],
                "materialized": mat,
            }
        )
    return sorted(out, key=lambda m: m["unique_id"])


def time_by_resource_type(run_results: Path) -> dict[str, dict]:
    """Summed execution time and node count per resource type (model, test, unit_test, ...).

    With several threads the sums overlap in wall time; they say where the work is, not the wall clock.
    """
    out: dict[str, dict] = {}
    for r in node_timings(run_results):
        kind = r["unique_id"].split(".", 1)[0]
        slot = out.setdefault(kind, {"nodes": 0, "sum_execution_time_s": 0.0})
        slot["nodes"] += 1
        slot["sum_execution_time_s"] = round(slot["sum_execution_time_s"] + r["execution_time_s"], 3)
    return out
