"""`dt` is a UTC calendar day whatever the machine's time zone (issue 14, finding 4).

The same data with `dt` stored as TIMESTAMP WITH TIME ZONE (an instant of that UTC day)
instead of DATE, built on a machine whose zone is west (New York) or east (Tokyo) of UTC,
gives the marts of the DATE input built in UTC; DATE input built in New York does too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tests.python.conftest import failure_summary
from tests.python.raw_input_support import GPU, USAGE, assert_same_marts, build, copy_raw, rewrite

pytestmark = pytest.mark.dbt


def _dt_as_timestamptz(hour_utc: int) -> Callable[[str, pa.Table], pa.Table]:
    """dt as the instant `hour_utc`:00 UTC of its day, typed TIMESTAMP WITH TIME ZONE."""

    def change(_stem: str, table: pa.Table) -> pa.Table:
        naive = pc.cast(table.column("dt"), pa.timestamp("us"))
        instant = pc.add(pc.cast(naive, pa.int64()), hour_utc * 3_600_000_000)
        utc = pc.cast(pc.cast(instant, pa.timestamp("us")), pa.timestamp("us", tz="UTC"))
        return table.set_column(table.schema.get_field_index("dt"), "dt", utc)

    return change


@pytest.fixture
def raw_set(small_raw: Path) -> Path:
    return small_raw


@pytest.fixture
def reference_db(small_reference_db: Path) -> Path:
    """DATE input, built with the machine in UTC (the session's build of the small set)."""
    return small_reference_db


# midnight UTC is the previous day in New York; 23:00 UTC is the next day in Tokyo
@pytest.mark.parametrize(("machine_tz", "hour_utc"), [("America/New_York", 0), ("Asia/Tokyo", 23)])
def test_timestamptz_dt_gives_the_marts_of_date_dt(
    raw_set: Path, reference_db: Path, tmp_path: Path, machine_tz: str, hour_utc: int
) -> None:
    raw = copy_raw(raw_set, tmp_path / "raw")
    for table in (USAGE, GPU):
        rewrite(raw, table, _dt_as_timestamptz(hour_utc))
    db = tmp_path / "tz.duckdb"
    res = build(raw, db, {"TZ": machine_tz}, data_tests=False)
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    assert_same_marts(db, reference_db)


def test_date_dt_built_in_new_york_gives_the_same_marts(raw_set: Path, reference_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "ny.duckdb"
    res = build(raw_set, db, {"TZ": "America/New_York"}, data_tests=False)
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    assert_same_marts(db, reference_db)
