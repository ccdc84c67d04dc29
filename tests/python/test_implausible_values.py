"""Implausible per-user-day values (issue 14, finding 3).

A few out-of-bounds user-days are named by a warn test, stay visible in staging and are kept
out of every statistic (treated like a missing value), so they are never posted as an alert;
many of them stop the build on the same named test. No sum overflows on the way."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.python.conftest import failure_summary
from tests.python.raw_input_support import (
    ENTERPRISE,
    USAGE,
    assert_same_marts,
    build,
    copy_raw,
    last_usage_day,
    names_test,
    reading,
    reported,
    rewrite,
)

pytestmark = pytest.mark.dbt

BOUND_TESTS = {
    "num_tokens_consumed": "stg_web__user_days_tokens_consumed_within_bounds",
    "num_generate_image": "stg_web__user_days_image_generations_within_bounds",
    "num_generate_video": "stg_web__user_days_video_generations_within_bounds",
}
# (column, value) for four users of the last day: beyond INT64 sums, beyond INT64 itself, negative
IMPLAUSIBLE = (
    ("num_tokens_consumed", 2**62),
    ("num_generate_video", 2**62),
    ("num_generate_image", 1e30),
    ("num_tokens_consumed", -5),
)


def _rows_of_segmented_users(raw: Path, day: str, n: int) -> list[int]:
    """Rows of the day's file whose users are in no enterprise organisation, so that none is
    dropped as a member of an excluded organisation: their values would reach a segment."""
    members = set(pq.read_table(raw / ENTERPRISE).column("lt_id").to_pylist())
    ids = pq.read_table(raw / USAGE / f"{day}.parquet").column("lt_id").to_pylist()
    return [i for i, lt_id in enumerate(ids) if lt_id not in members][:n]


def _set_values(table: pa.Table, changes: list[tuple[int, str, object]]) -> pa.Table:
    for row, column, value in changes:
        values = table.column(column).to_pylist()
        values[row] = value
        kind = pa.float64() if any(isinstance(v, float) for v in values) else table.schema.field(column).type
        table = table.set_column(table.schema.get_field_index(column), column, pa.array(values, type=kind))
    return table


@pytest.fixture
def raw_set(small_raw: Path) -> Path:
    return small_raw


def test_a_few_implausible_values_warn_and_are_kept_out_of_the_statistics(raw_set: Path, tmp_path: Path) -> None:
    day = last_usage_day(raw_set)
    rows = _rows_of_segmented_users(raw_set, day, len(IMPLAUSIBLE))
    changes = [(row, column, value) for row, (column, value) in zip(rows, IMPLAUSIBLE, strict=True)]
    bad = copy_raw(raw_set, tmp_path / "bad")
    rewrite(bad, USAGE, lambda stem, t: _set_values(t, changes) if stem == day else t)
    # reference: the same user-days with those values missing (null) instead
    ref = copy_raw(raw_set, tmp_path / "ref")
    missing = [(row, column, None) for row, column, _ in changes]
    rewrite(ref, USAGE, lambda stem, t: _set_values(t, missing) if stem == day else t)

    res = build(bad, tmp_path / "bad.duckdb")
    out = res.stdout + res.stderr
    assert res.returncode == 0, failure_summary(out)
    for column, test_name in BOUND_TESTS.items():
        assert names_test(out, "WARN", test_name), (column, reported(out, "WARN"))
    res_ref = build(ref, tmp_path / "ref.duckdb", data_tests=False)  # the marts to compare with, nothing else
    assert res_ref.returncode == 0, failure_summary(res_ref.stdout + res_ref.stderr)

    # never in a statistic: every mart is the one built with those values missing
    assert_same_marts(tmp_path / "bad.duckdb", tmp_path / "ref.duckdb")
    # and nothing is silently lost: staging keeps the rows, flagged, with the reported values
    with duckdb.connect(str(tmp_path / "bad.duckdb"), read_only=True) as con:
        largest_alerted = con.execute("select max(abs(current_value)) from main_marts.fct_alerts").fetchone()[0]
        flagged = con.execute(
            "select raw_tokens_consumed, raw_image_generations, raw_video_generations, "
            "tokens_consumed, image_generations, video_generations "
            "from main_staging.stg_web__user_days where not is_within_bounds"
        ).fetchall()
    assert largest_alerted is None or largest_alerted < 1e12, largest_alerted
    assert len(flagged) == len(IMPLAUSIBLE), flagged
    assert sorted(max(abs(v) for v in row[:3]) for row in flagged) == [5, 2**62, 2**62, 1e30]
    assert all(None in row[3:] for row in flagged)


@pytest.mark.parametrize("column", sorted(BOUND_TESTS))
def test_implausible_values_for_many_users_stop_the_build_on_a_named_test(
    raw_set: Path, tmp_path: Path, column: str
) -> None:
    day = last_usage_day(raw_set)
    bad = copy_raw(raw_set, tmp_path / "bad")

    def everyone(stem: str, table: pa.Table) -> pa.Table:
        if stem != day:
            return table
        huge = pc.cast(pa.array([2**62] * table.num_rows), table.schema.field(column).type)
        return table.set_column(table.schema.get_field_index(column), column, huge)

    rewrite(bad, USAGE, everyone)
    res = build(bad, tmp_path / "bad.duckdb", select=reading(USAGE))
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    assert names_test(out, "FAIL", BOUND_TESTS[column]), failure_summary(out)
    # stopped by the test, not by an overflow or a cast inside a model
    assert not [line for line in out.splitlines() if "Error in model" in line], failure_summary(out)
