"""A cost rule is one declaration: adding an entry to the `alert_rules` var (here through
`--vars`, no file edited) makes it fire in fct_alerts, with its threshold kind, team and
action, and pass the mart's tests (accepted rule names come from the same declaration).
The expected alerts are computed here, independently, from the daily totals."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.python.conftest import BIN, REPO, dbt_env, failure_summary, run

pytestmark = pytest.mark.dbt

RUN_DATE = dt.date(2026, 11, 23)
FINALISED_THROUGH = RUN_DATE - dt.timedelta(days=3)
NEW_RULE = "infra_cost_above_test_budget"


def test_a_rule_added_by_declaration_reaches_fct_alerts(test_duckdb: Path, tmp_path: Path) -> None:
    db = tmp_path / "rules.duckdb"
    shutil.copy(test_duckdb, db)
    with duckdb.connect(str(db), read_only=True) as con:
        totals = con.execute(
            "select dt, vertical, infra_cost from main_intermediate.int_gpu_costs__daily_totals where dt <= ?",
            [FINALISED_THROUGH],
        ).fetchall()
    # a budget between the days' costs: some days breach it, some do not, some reach 2x (critical)
    budget = sorted(c for _, _, c in totals)[len(totals) * 3 // 4]
    expected = {
        (d, v): ("critical" if c >= 2 * budget else "warning") for d, v, c in totals if c is not None and c > budget
    }
    assert 0 < len(expected) < len(totals)

    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    rules = dict(project["vars"]["alert_rules"])
    assert NEW_RULE not in rules
    rules[NEW_RULE] = {
        "domain": "gpu_cost",
        "metrics": ["infra_cost"],
        "baseline_kind": "trailing_7d",
        "threshold_kind": "absolute",
        "threshold": "test_infra_budget_usd",
        "team": "engineering",
        "action": "Test budget of {threshold_pct} cents exceeded on {day}.",
    }
    dbt_vars = json.dumps({"alert_rules": rules, "test_infra_budget_usd": budget, "run_date": RUN_DATE.isoformat()})
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    res = run(
        [str(BIN / "dbt"), "build", "--select", "int_alerts__gpu_cost_evaluated+", "--exclude", "test_type:unit",
         "--vars", dbt_vars],
        env=dbt_env(raw_dir if raw_dir.is_absolute() else REPO / raw_dir, db),
    )  # fmt: skip
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select alert_date, scope, severity, threshold_kind, baseline_kind, team, threshold, recommended_action,"
            " incident_id is not null, calendar_event from main_marts.fct_alerts where rule = ?",
            [NEW_RULE],
        ).fetchall()
    got = {(r[0], r[1]): r[2] for r in rows}
    assert got == expected
    for r in rows:
        # the threshold shown is the band crossed: a critical shows the critical factor x the budget
        factor = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]["cost_threshold_critical_factor"]
        band = budget * (factor if r[2] == "critical" else 1)
        assert r[3:7] == ("absolute", "trailing_7d", "engineering", pytest.approx(band))
        declared = f"Test budget of {round(budget * 100, 1)} cents exceeded on {r[0].isoformat()}."
        expected_day = f"{r[2].upper()}: expected on a known event day; look into it only if it outlasts the event."
        assert r[7] == expected_day if r[9] else r[7].endswith(declared), r  # a holiday's action: the event's
        assert r[8]
    assert any(r[9] is None for r in rows)  # the declared action is checked on ordinary days too


def _z_alerts(db: Path) -> dict[tuple[str, str], float]:
    """{(alert_id, severity): |z|} of the z-band rules (usage_zscore, cost_zscore) in fct_alerts."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select alert_id, severity, abs(z_score) from main_marts.fct_alerts"
            " where rule in ('usage_zscore', 'cost_zscore')"
        ).fetchall()
    return {(a, s): round(z, 9) for a, s, z in rows}  # two builds may differ in the last bit of a float sum


def test_changed_bands_build_with_their_unit_tests(test_duckdb: Path, tmp_path: Path) -> None:
    """README's "change a threshold" recipe: `dbt build --vars '{z_notice: 2.5}'` (and a cost band)
    passes - unit tests included: each pins the vars its fixture is built around - and fct_alerts
    loses exactly the z alerts at or below the new notice edge (issue 20: ERROR=1 SKIP=112)."""
    db = tmp_path / "bands.duckdb"
    shutil.copy(test_duckdb, db)
    before = _z_alerts(db)
    dropped = {k for k, z in before.items() if z <= 2.5 + 1e-9}
    assert 0 < len(dropped) < len(before)
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    res = run(
        [str(BIN / "dbt"), "build", "--full-refresh", "--select", "fct_usage_anomaly_scores+",
         "int_alerts__gpu_cost_evaluated+", "--vars", "{z_notice: 2.5, cost_z_notice: 2.5}"],
        env=dbt_env(raw_dir if raw_dir.is_absolute() else REPO / raw_dir, db),
    )  # fmt: skip
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    for unit_test in ("usage_scores_worked_example_thresholds", "gpu_cost_alert_rules_both_sides_of_every_threshold"):
        assert any(unit_test in ln and " PASS " in ln for ln in res.stdout.splitlines()), unit_test
    after = _z_alerts(db)
    assert after == {k: z for k, z in before.items() if k not in dropped}


def test_shipped_bands_are_the_playbooks() -> None:
    # the severity data tests read the band vars (so a changed band is checked with its own
    # edges); that the shipped defaults are the playbook's is checked here
    shipped = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]
    for prefix in ("z_", "cost_z_"):
        assert [shipped[f"{prefix}{band}"] for band in ("notice", "warning", "critical")] == [2, 3, 4.5]


def test_an_action_map_without_a_metric_is_a_compile_error(test_duckdb: Path, tmp_path: Path) -> None:
    """cost_zscore declares its action per metric; dropping one metric's text must stop the build, not post an
    alert with no action."""
    rules = yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]["alert_rules"]
    action = dict(rules["cost_zscore"]["action"])
    assert set(action) == set(rules["cost_zscore"]["metrics"])
    del action["failure_rate"]
    rules["cost_zscore"] = {**rules["cost_zscore"], "action": action}
    raw_dir = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    res = run(
        [str(BIN / "dbt"), "compile", "--select", "int_alerts__gpu_cost_candidates", "--vars",
         json.dumps({"alert_rules": rules})],
        env=dbt_env(raw_dir if raw_dir.is_absolute() else REPO / raw_dir, tmp_path / "compile.duckdb"),
    )  # fmt: skip
    assert res.returncode != 0
    assert "alert rule cost_zscore: no action for metric(s) failure_rate" in res.stdout + res.stderr
