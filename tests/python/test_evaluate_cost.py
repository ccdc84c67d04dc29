"""evaluate_cost_alerts: hand-counted precision / recall on a tiny warehouse, and
every injected cost anomaly of the test set is found."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from ltx_synth.evaluate_cost import evaluate_cost_alerts
from tests.python.conftest import REPO


def _warehouse(path: Path, alerts: list[tuple], last_finalised: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema main_marts")
        con.execute(
            "create table main_marts.fct_alerts (alert_date date, domain varchar, scope varchar, rule varchar, "
            "metric varchar, severity varchar, is_suppressed boolean, drivers_summary varchar)"
        )
        con.executemany("insert into main_marts.fct_alerts values (?, ?, ?, ?, ?, ?, ?, ?)", alerts)
        con.execute("create table main_marts.fct_gpu_cost_daily (dt date, is_finalised boolean)")
        con.execute("insert into main_marts.fct_gpu_cost_daily values (?, true)", [last_finalised])


def test_counts_by_day_and_vertical(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    truth = {
        "gpu_cost_anomalies": [
            {"dt": "2026-10-01", "vertical": "api", "kind": "idle_spike"},
            {"dt": "2026-10-10", "vertical": "studio", "kind": "failure_spike", "driver": {"process_name": "upscale"}},
            {"dt": "2026-10-20", "vertical": "api", "kind": "inference_spike", "driver": {"endpoint": "/v1/x"}},
            {"dt": "2026-11-30", "vertical": "api", "kind": "idle_spike"},  # not finalised yet
        ]
    }
    (raw / "ground_truth.json").write_text(json.dumps(truth))
    g, u = "gpu_cost", "usage"
    alerts = [
        ("2026-10-01", g, "api", "cost_zscore", "idle_cost", "critical", False, ""),
        ("2026-10-01", g, "api", "day_over_day_jump", "infra_cost", "warning", False, ""),  # same day: one TP
        ("2026-10-10", g, "studio", "cost_zscore", "failure_rate", "warning", False, "process upscale +5 failed"),
        ("2026-10-20", g, "api", "cost_zscore", "inference_cost", "notice", False, ""),  # notice: not counted
        ("2026-10-20", g, "studio", "cost_zscore", "inference_cost", "warning", False, ""),  # wrong vertical: FP
        ("2026-10-05", g, "api", "day_over_day_jump", "infra_cost", "warning", True, ""),  # suppressed: ignored
        ("2026-10-06", g, "api", "day_over_day_jump", "infra_cost", "critical", False, ""),  # FP
        ("2026-10-07", u, "free", "usage_zscore", "dau", "critical", False, ""),  # other domain
    ]
    db = tmp_path / "w.duckdb"
    _warehouse(db, alerts, "2026-11-20")
    r = evaluate_cost_alerts(raw, db)
    assert (r["tp"], r["fp"], r["fn"]) == (2, 2, 1)
    assert r["precision"] == 0.5 and r["recall"] == round(2 / 3, 4)
    assert r["anomalies_injected"] == 4 and r["anomalies_evaluable"] == 3
    by_day = {a["dt"]: a for a in r["anomalies"]}
    assert by_day["2026-10-10"]["driver_named"] is True
    assert by_day["2026-10-20"]["found"] is False and by_day["2026-11-30"]["evaluable"] is False
    assert r["day_verticals_per_rule"]["without_anomaly"] == {"cost_zscore": 1, "day_over_day_jump": 1}
    only_z = evaluate_cost_alerts(raw, db, rules=["cost_zscore"])
    assert (only_z["tp"], only_z["fp"], only_z["fn"]) == (2, 1, 1)


@pytest.mark.dbt
def test_every_injected_cost_anomaly_of_the_test_set_is_found(test_duckdb: Path) -> None:
    raw = Path(os.environ.get("LTX_TEST_RAW_DIR", REPO / "data/test/raw"))
    r = evaluate_cost_alerts(raw if raw.is_absolute() else REPO / raw, test_duckdb)
    assert r["anomalies_evaluable"] >= 3
    assert r["recall"] == 1.0, r["anomalies"]
    # the anomalies with a known driver name it in the alert's drivers_summary
    assert all(a["driver_named"] is not False for a in r["anomalies"] if a["found"]), r["anomalies"]
