"""Slim CI on DuckDB, as the pull-request workflow runs it on BigQuery (docs/development.md).

A copy of the project in a temp dir; "production" is the small reference build (schema `main`)
with its manifest as the state; the change appends a comment to one model. Then
`dbt ls --select state:modified+ --state <prod>` must select exactly that model and its children
(counted here from the production manifest's child map), and
`dbt build --select state:modified+ --defer --state <prod>` into another schema of the same file
(`pr`, as a PR's own BigQuery datasets) must build only those, reading every other parent from
production's relations.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.python.conftest import BIN, NO_UNIT_TESTS, REPO, dbt_env, failure_summary, run
from tests.python.raw_input_support import RUN_DATE

CHANGED = "int_alerts__data_health_candidates"
PROFILE = """\
ltx_monitoring:
  target: prod
  outputs:
    prod: {{type: duckdb, path: "{db}", schema: main, threads: 2, settings: {{TimeZone: UTC}}}}
    pr: {{type: duckdb, path: "{db}", schema: pr, threads: 2, settings: {{TimeZone: UTC}}}}
"""


def descendants(manifest: dict, unique_id: str) -> set[str]:
    seen, todo = set(), [unique_id]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(manifest["child_map"].get(node, []))
    return seen


def schema_tables(db: Path, schema: str) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select table_name from information_schema.tables where table_schema = ?", [schema])
        return {r[0] for r in rows.fetchall()}


@pytest.mark.dbt
def test_state_modified_selects_the_change_and_its_children_and_defers_parents(
    small_raw: Path, small_reference_db: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    for part in ("models", "macros", "seeds", "tests/dbt"):
        shutil.copytree(REPO / part, project / part)
    for name in ("dbt_project.yml", "selectors.yml"):
        shutil.copy(REPO / name, project / name)
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(small_reference_db, db)
    (project / "profiles.yml").write_text(PROFILE.format(db=db))
    env = {**dbt_env(small_raw, db), "DBT_PROFILES_DIR": str(project)}
    dbt_vars = ["--vars", f"{{run_date: {RUN_DATE}}}"]

    def dbt(*args: str) -> str:
        res = run([str(BIN / "dbt"), *args, "--project-dir", str(project), *dbt_vars], env=env)
        assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
        return res.stdout

    prod = tmp_path / "prod_state"
    dbt("parse", "--target", "prod", "--target-path", str(prod))
    manifest = json.loads((prod / "manifest.json").read_text())
    [changed_id] = [uid for uid, n in manifest["nodes"].items() if n["name"] == CHANGED]
    wanted = {manifest["nodes"][uid]["name"] for uid in descendants(manifest, changed_id) if uid.startswith("model.")}
    all_models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert 1 < len(wanted) < len(all_models) / 2, wanted  # a change with children, far from everything

    sql = next((project / "models").rglob(f"{CHANGED}.sql"))
    sql.write_text(sql.read_text() + "\n-- slim CI test: a change that touches nothing else\n")
    state = ["--state", str(prod), "--target", "pr", "--target-path", str(tmp_path / "pr_target")]
    listed = dbt("ls", "--select", "state:modified+", "--resource-type", "model", "--output", "name", "--quiet", *state)
    assert set(listed.split()) == wanted

    dbt("build", "--select", "state:modified+", "--defer", *state, *NO_UNIT_TESTS)
    built = {t for schema in ("pr_intermediate", "pr_marts", "pr_staging", "pr") for t in schema_tables(db, schema)}
    assert built == wanted, f"built {sorted(built)}"  # views and tables alike: nothing else was built
    run_results = json.loads((tmp_path / "pr_target" / "run_results.json").read_text())
    models_run = {r["unique_id"].split(".")[-1] for r in run_results["results"] if r["unique_id"].startswith("model.")}
    assert models_run == wanted
    # the changed model's parents are production's relations (schema main_*), not the PR's
    compiled = next((tmp_path / "pr_target" / "compiled").rglob(f"{CHANGED}.sql")).read_text()
    assert '"main_marts"' in compiled or '"main_intermediate"' in compiled, compiled[:2000]
    assert '"pr_' not in compiled
    with duckdb.connect(str(db), read_only=True) as con:
        prod_rows = con.execute("select count(*) from main_marts.fct_alerts").fetchone()
        pr_rows = con.execute("select count(*) from pr_marts.fct_alerts").fetchone()
    assert prod_rows == pr_rows and prod_rows and prod_rows[0] > 0
