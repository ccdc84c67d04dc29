"""The benchmark harness logic (bench/), without running the benchmark: fast, tiny inputs."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from bench import compare, datagen, report, run_bench
from bench.timing import ProcessRun, checked, run_process, summarise
from ltx_synth.generate import GPU_DIR, USAGE_DIR, Config, generate

COLS = ("dt", "segment", "metric", "value")
D1, D2 = dt.date(2026, 11, 22), dt.date(2026, 11, 23)


# --- equality checker --------------------------------------------------------------------


def test_same_rows_in_another_order_and_float_noise_are_equal() -> None:
    a = [(D2, "free", "dau", 10.0), (D2, "paying", "dau", 3.0000000000001)]
    b = [(D2, "paying", "dau", 3.0), (D2, "free", "dau", 10.0)]
    assert compare.first_difference(COLS, a, b) is None


def test_a_value_beyond_the_tolerance_is_named_with_its_column() -> None:
    a = [(D2, "free", "dau", 10.0), (D2, "paying", "dau", 3.0)]
    b = [(D2, "free", "dau", 10.0), (D2, "paying", "dau", 3.0001)]
    diff = compare.first_difference(COLS, a, b)
    assert diff is not None
    assert "['value']" in diff and "'paying'" in diff and "3.0001" in diff


def test_null_differs_from_a_value_and_equals_null() -> None:
    assert compare.first_difference(COLS, [(D2, "free", "dau", None)], [(D2, "free", "dau", None)]) is None
    assert compare.first_difference(COLS, [(D2, "free", "dau", None)], [(D2, "free", "dau", 0.0)]) is not None


def test_a_missing_row_is_reported_with_the_side_that_has_it() -> None:
    a = [(D2, "free", "dau", 10.0)]
    b = [(D2, "free", "dau", 10.0), (D2, "heavy", "dau", 1.0)]
    diff = compare.first_difference(COLS, a, b)
    assert diff is not None and "incremental=1 full_refresh=2" in diff and "'heavy'" in diff and "full_refresh" in diff


def test_values_equal_tolerance_on_both_sides() -> None:
    assert compare.values_equal(1e9, 1e9 * (1 + 5e-10))
    assert not compare.values_equal(1e9, 1e9 * (1 + 5e-9))
    assert compare.values_equal("a", "a") and not compare.values_equal("a", "b")
    assert compare.values_equal(True, True) and not compare.values_equal(True, False)


def _db(path: Path, rows: list[tuple], with_date: bool = True) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema main_marts")
        if with_date:
            con.execute("create table main_marts.fct_x (dt date, segment varchar, value double, built_at timestamp)")
            con.executemany("insert into main_marts.fct_x values (?, ?, ?, now())", rows)
        else:
            con.execute("create table main_marts.fct_x (segment varchar, value double)")
    return path


def test_compare_relation_flags_a_difference_on_the_new_day(tmp_path: Path) -> None:
    inc = _db(tmp_path / "inc.duckdb", [(D1, "free", 1.0), (D2, "free", 2.0), (D2, "paying", 5.0)])
    full = _db(tmp_path / "full.duckdb", [(D1, "free", 1.0), (D2, "free", 2.0), (D2, "paying", 6.0)])
    out = compare.compare_relation(inc, full, "main_marts", "fct_x", D2)
    assert out["equal"] is False
    assert out["rows_incremental"] == out["rows_full_refresh"] == 2
    assert "['value']" in out["first_difference"] and "'paying'" in out["first_difference"]


def test_compare_relation_ignores_days_before_the_window_and_build_timestamps(tmp_path: Path) -> None:
    inc = _db(tmp_path / "inc.duckdb", [(D1, "free", 1.0), (D2, "free", 2.0)])
    full = _db(tmp_path / "full.duckdb", [(D1, "free", 99.0), (D2, "free", 2.0)])
    out = compare.compare_relation(inc, full, "main_marts", "fct_x", D2)
    assert out["equal"] is True and out["date_column"] == "dt" and out["rows_incremental"] == 1
    assert compare.compare_relation(inc, full, "main_marts", "fct_x", D1)["equal"] is False


def test_compare_relation_without_date_column_or_table_is_not_judged(tmp_path: Path) -> None:
    a = _db(tmp_path / "a.duckdb", [], with_date=False)
    b = _db(tmp_path / "b.duckdb", [], with_date=False)
    assert compare.compare_relation(a, b, "main_marts", "fct_x", D2)["equal"] is None
    assert compare.compare_relation(a, b, "main_marts", "fct_missing", D2)["equal"] is None


# --- targets and the results file --------------------------------------------------------


def test_targets_on_both_sides_of_each_threshold() -> None:
    ok = report.judge_targets(full_s=100.0, incremental_s=9.0, floor_s=1.0, noop_s=2.0, history=None)
    assert ok["incremental_over_full"] == 0.09 and ok["incremental_le_tenth_of_full"] is True
    assert ok["floor_plus_noop_s"] == 3.0 and ok["incremental_over_floor_plus_noop"] == 3.0
    assert ok["incremental_within_3x_floor_plus_noop"] is True
    bad = report.judge_targets(full_s=100.0, incremental_s=10.5, floor_s=1.0, noop_s=2.0, history=None)
    assert bad["incremental_le_tenth_of_full"] is False
    assert bad["incremental_within_3x_floor_plus_noop"] is False
    assert bad["incremental_over_floor_plus_noop"] == 3.5


def _results() -> dict:
    timing = {"median_s": 1.0, "runs_s": [1.0, 1.2, 0.9], "peak_rss_mb": 100.0}
    return {
        "user_day_rows": 5_000_000,
        "gpu_rows": 2_000_000,
        "days": 366,
        "full_refresh_s": 100.0,
        "incremental_day_s": 9.0,
        "raw_scan_floor_s": 1.0,
        "reference_query_s": 2.0,
        "dbt_noop_s": 2.0,
        "measured_at": "now",
        "mode": "default",
        "reps": 3,
        "machine": {
            "cpu_model": "CPU X",
            "cores": 2,
            "ram_gb": 8.0,
            "os": "Linux",
            "python": "3.11",
            "dbt_core": "1.11",
            "dbt_duckdb": "1.11",
            "duckdb": "2.0",
        },
        "load": {"before": [0.1], "after": [0.2], "note": ""},
        "data": {"users": 60000, "gpu_requests_per_day": 4000, "seed": 42, "new_day": "2026-11-23"}
        | {"new_day_user_day_rows": 1, "new_day_gpu_rows": 2},
        "timings": {k: timing for k in ("full_refresh", "incremental_day", "raw_scan_floor", "reference_query")}
        | {"dbt_noop": timing},
        "targets": report.judge_targets(100.0, 9.0, 1.0, 2.0, None),
        "equality": {"equal": True, "summary": "7/7 relations equal"},
        "dbt_top_models": {"full_refresh": [], "incremental_day": []},
        "detection_quality": {
            "usage": {"result": {"precision": 0.5, "recall": 1.0, "tp": 1, "fp": 1, "fn": 0}, "reason": None},
            "gpu_cost": {"result": None, "reason": "not on this branch"},
        },
    }


def test_results_file_has_the_headline_fields_and_markdown_states_the_machine(tmp_path: Path) -> None:
    r = _results()
    report.write_json(r, tmp_path / "results.json")
    back = json.loads((tmp_path / "results.json").read_text())
    for k in report.HEADLINE:
        assert back[k] == r[k]
    md = report.render_markdown(r)
    assert "CPU X, 2 cores, 8.0 GB RAM" in md and "| `incremental_day_s` | 1.000 |" in md
    assert "gpu_cost: not measured — not on this branch" in md and "precision" in md


def test_results_file_refuses_missing_headline_fields(tmp_path: Path) -> None:
    r = _results()
    del r["reference_query_s"]
    with pytest.raises(ValueError, match="reference_query_s"):
        report.write_json(r, tmp_path / "results.json")


# --- processes and medians ---------------------------------------------------------------


def test_run_process_reports_exit_status_and_checked_raises_with_the_log(tmp_path: Path) -> None:
    code = "import sys; print('hello from child'); sys.exit(3)"
    run = run_process([sys.executable, "-c", code], env={}, cwd=tmp_path, log_path=tmp_path / "l.log")
    assert run.returncode == 3 and run.wall_s > 0 and run.max_rss_mb > 1 and run.cpu_s > 0
    with pytest.raises(RuntimeError, match="hello from child"):
        checked(run, "child")


def test_summarise_takes_the_median_and_the_peak_memory(tmp_path: Path) -> None:
    runs = [ProcessRun(w, 0, m, tmp_path, c) for w, m, c in ((3.0, 10.0, 2.5), (1.0, 30.0, 0.5), (2.0, 20.0, 9.0))]
    assert summarise(runs) == {"median_s": 2.0, "runs_s": [3.0, 1.0, 2.0], "peak_rss_mb": 30.0, "median_cpu_s": 2.5}


def test_heavy_thresholds_follow_the_project_vars() -> None:
    assert run_bench.heavy_thresholds({"heavy_min_active_days": 4, "heavy_min_weekly_tokens": 900}) == (
        4,
        900,
        "dbt_project.yml vars",
    )
    assert run_bench.heavy_thresholds({})[:2] == (5, 0)


# --- the appended day ----------------------------------------------------------------------


def test_appended_day_is_what_the_generator_writes_for_that_day(tmp_path: Path) -> None:
    spec = datagen.DataSpec(seed=3, end_date=D1, days=20, users=300, gpu_requests_per_day=40)
    longer = generate(Config(seed=3, end_date=D2, days=21, users=300, gpu_requests_per_day=40), tmp_path / "g")
    assert not [a for a in longer["gpu_cost_anomalies"] + longer["usage_anomalies"] if a["dt"] == D2.isoformat()]
    datagen.generate_history(spec, tmp_path / "h")
    plain = datagen.append_day(spec, tmp_path / "h", with_anomalies=False)
    assert plain["day"] == D2.isoformat()
    for sub in (USAGE_DIR, GPU_DIR):
        mine = pq.read_table(tmp_path / "h" / sub / f"{D2}.parquet")
        theirs = pq.read_table(tmp_path / "g" / sub / f"{D2}.parquet")
        assert mine.equals(theirs), sub
    # with the labelled anomalies: same active users, paying tokens tripled
    spiked = datagen.append_day(spec, tmp_path / "h")
    assert spiked["user_day_rows"] == plain["user_day_rows"]
    assert not pq.read_table(tmp_path / "h" / USAGE_DIR / f"{D2}.parquet").equals(
        pq.read_table(tmp_path / "g" / USAGE_DIR / f"{D2}.parquet")
    )
    assert datagen.read_spec(tmp_path / "h") == spec
