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
        "action": "Test budget of {threshold_pct} cents exceeded.",
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
            " incident_id is not null from main_marts.fct_alerts where rule = ?",
            [NEW_RULE],
        ).fetchall()
    got = {(r[0], r[1]): r[2] for r in rows}
    assert got == expected
    for r in rows:
        assert r[3:7] == ("absolute", "trailing_7d", "engineering", pytest.approx(budget))
        assert r[7].endswith(f"Test budget of {round(budget * 100, 1)} cents exceeded.")
        assert r[8]
