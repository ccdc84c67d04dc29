"""Faults in raw input lose nothing and post nothing false (issue 25, bugs 4-6).

One full build followed by one `make daily`-style run on a copy of the small set, carrying
three corruptions whose expectations do not interfere:

* rows dated 2099-01-01 and 1970-01-01 (bug 6): quarantined (in no model), named with their
  date by a warn test, and they never move the incremental window: the next day is built;
* cost rows of 1e300, +inf and -5 on the day the first run's cost alerts evaluate
  (bug 5): flagged in staging, kept out of every cost statistic and alert, named by a test,
  and that day's cost alerts held as incomplete data;
* the new day's usage file with `num_tokens_consumed` renamed (bug 4): the day is
  `incomplete` with a reason naming the column, so no "Current: 0 ... -100 %" alert is
  postable.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import BIN, NO_UNIT_TESTS, dbt_env, failure_summary, run
from tests.python.raw_input_support import GPU, USAGE, copy_raw, names_test, reported

pytestmark = pytest.mark.dbt

NEW_DAY = "2026-11-22"  # the small set's last day: arrives with the daily run
FIRST_RUN, DAILY_RUN = "2026-11-22", "2026-11-23"
COST_DAY = "2026-11-19"  # FIRST_RUN - cost_finalisation_days: the day its cost alerts evaluate
BAD_DATES = ("2099-01-01", "1970-01-01")


def _redate(table: pa.Table, day: str) -> pa.Table:
    dates = pa.array([dt.date.fromisoformat(day)] * table.num_rows, type=table.schema.field("dt").type)
    return table.set_column(table.schema.get_field_index("dt"), "dt", dates)


def _corrupt(raw: Path, aside: Path) -> None:
    aside.mkdir()
    for table in (USAGE, GPU):
        (raw / table / f"{NEW_DAY}.parquet").rename(aside / f"{table}.parquet")
        first = pq.read_table(raw / table / "2026-11-01.parquet").slice(0, 1)
        for day in BAD_DATES:
            pq.write_table(_redate(first, day), raw / table / f"stray_{day}.parquet")
    cost_file = raw / GPU / f"{COST_DAY}.parquet"
    costs = pq.read_table(cost_file)
    values = costs.column("row_cost").to_pylist()
    values[0], values[1], values[2] = 1e300, math.inf, -5.0  # three inference rows
    pq.write_table(costs.set_column(costs.schema.get_field_index("row_cost"), "row_cost", pa.array(values)), cost_file)


def _deliver_new_day(raw: Path, aside: Path) -> None:
    (aside / f"{GPU}.parquet").rename(raw / GPU / f"{NEW_DAY}.parquet")
    usage = pq.read_table(aside / f"{USAGE}.parquet")
    names = ["tokens_consumed" if n == "num_tokens_consumed" else n for n in usage.column_names]
    pq.write_table(usage.rename_columns(names), raw / USAGE / f"{NEW_DAY}.parquet")


def _dbt(raw: Path, db: Path, *args: str) -> str:
    res = run([str(BIN / "dbt"), "build", "--target", "duckdb", *args, *NO_UNIT_TESTS], env=dbt_env(raw, db))
    out = res.stdout + res.stderr
    assert res.returncode == 0, failure_summary(out)
    return out


@pytest.fixture(scope="module")
def faulty_build(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    work = tmp_path_factory.mktemp("faults")
    raw, db = copy_raw(small_raw, work / "raw"), work / "faults.duckdb"
    _corrupt(raw, work / "aside")
    first = _dbt(raw, db, "--full-refresh", "--vars", json.dumps({"run_date": FIRST_RUN}))
    _deliver_new_day(raw, work / "aside")
    daily_vars = json.dumps({"run_date": DAILY_RUN, "test_window_days": 7})
    daily = _dbt(raw, db, "--selector", "daily", "--vars", daily_vars)
    return db, first, daily


def _query(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_stray_dates_are_quarantined_named_and_never_move_the_window(faulty_build: tuple[Path, str, str]) -> None:
    db, first, daily = faulty_build
    for model in ("stg_web__user_days", "stg_gpu_costs__request_costs"):
        (lo, hi), *_ = _query(db, f"select min(dt), max(dt) from main_staging.{model}")
        assert (str(lo), str(hi)) == ("2026-10-24", NEW_DAY), model  # the next day built, nothing stray
    health = {
        s: (status, rows)
        for s, status, rows in _query(
            db, "select source, status, row_count from main_marts.fct_data_health where dt = date '2026-11-22'"
        )
    }
    # delivered, not "missing" (usage is incomplete for its renamed column, see below)
    assert health["gpu_costs"][0] == "complete" and health["usage"][0] == "incomplete", health
    assert all(rows > 0 for _, rows in health.values()), health
    (days, lo, hi), *_ = _query(db, "select count(*), min(dt), max(dt) from main_marts.fct_data_health")
    assert (str(lo), str(hi)) == ("2026-10-24", "2026-11-22") and days <= 2 * 30, (days, lo, hi)
    for out in (first, daily):
        assert names_test(out, "WARN", "assert_raw_dates_within_expected_range"), reported(out, "WARN")
    named = _query(db, "select source, dt from main_dbt_test__audit.assert_raw_dates_within_expected_range")
    assert sorted((s, str(d)) for s, d, *_ in named) == sorted(
        (s, d) for s in ("gpu_costs", "usage") for d in BAD_DATES
    ), named


def test_an_impossible_cost_is_flagged_and_reaches_no_statistic_or_alert(faulty_build: tuple[Path, str, str]) -> None:
    db, first, daily = faulty_build
    flagged = _query(
        db,
        "select dt, raw_row_cost, row_cost from main_staging.stg_gpu_costs__request_costs where not is_within_bounds",
    )
    assert sorted((str(d), raw, cost) for d, raw, cost in flagged) == [
        (COST_DAY, -5.0, None),
        (COST_DAY, 1e300, None),
        (COST_DAY, math.inf, None),
    ]
    for out in (first, daily):
        assert names_test(out, "WARN", "stg_gpu_costs__row_cost_within_bounds"), reported(out, "WARN")
    (largest_cost,), *_ = _query(db, "select max(abs(infra_cost)) from main_marts.fct_gpu_cost_daily")
    assert largest_cost is not None and largest_cost < 1e6, largest_cost
    (largest_alert,), *_ = _query(db, "select max(abs(current_value)) from main_marts.fct_alerts")
    assert largest_alert is not None and math.isfinite(largest_alert) and largest_alert < 1e9, largest_alert
    (status, reason), *_ = _query(
        db,
        "select status, status_reason from main_marts.fct_data_health "
        f"where source = 'gpu_costs' and dt = '{COST_DAY}'",
    )
    assert status == "incomplete" and "max_row_cost_usd" in reason, (status, reason)
    postable = _query(
        db,
        "select metric, rule from main_marts.fct_alerts "
        f"where domain = 'gpu_cost' and alert_date = '{COST_DAY}' and is_postable",
    )
    assert postable == [], postable


def test_a_renamed_usage_column_holds_the_day_with_a_reason_naming_it(faulty_build: tuple[Path, str, str]) -> None:
    db, first, daily = faulty_build
    (status, reason), *_ = _query(
        db, f"select status, status_reason from main_marts.fct_data_health where source = 'usage' and dt = '{NEW_DAY}'"
    )
    assert status == "incomplete" and "num_tokens_consumed" in reason, (status, reason)
    # the file itself is named by a warn test (one file x one missing column)
    assert any("warn_raw_files_missing_columns" in line and "WARN 1" in line for line in daily.splitlines()), reported(
        daily, "WARN"
    )
    assert not any("warn_raw_files_missing_columns" in line and "WARN" in line for line in first.splitlines())
    usage = _query(
        db,
        "select metric, current_value, pct_change, is_postable, hold_reason from main_marts.fct_alerts "
        f"where domain = 'usage' and alert_date = '{NEW_DAY}'",
    )
    assert any(metric == "tokens" and value == 0 for metric, value, *_ in usage), usage  # the false alert exists ...
    assert not [row for row in usage if row[3]], usage  # ... and nothing of that day is postable
    assert {row[4] for row in usage} <= {"incomplete_data", "enterprise_weekend", "insufficient_baseline"}, usage
    health_alert = _query(
        db,
        "select drivers_summary, is_postable from main_marts.fct_alerts "
        f"where domain = 'data_health' and scope = 'usage' and alert_date = '{NEW_DAY}'",
    )
    assert health_alert and all("num_tokens_consumed" in s for s, _ in health_alert), health_alert
