"""Compare the key marts built on two engines (DuckDB and the BigQuery emulator), row by row.

Same rows (matched on each mart's grain), same columns, numbers equal to 1e-9 relative. The
first difference is reported with the key of the row it is in.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# mart -> its grain (the columns rows are matched on). Every one must exist on both engines.
KEY_MARTS: dict[str, tuple[str, ...]] = {
    "fct_usage_anomaly_scores": ("dt", "segment", "metric"),
    "fct_gpu_cost_daily": ("dt", "vertical"),
    "fct_alerts": ("alert_id",),
    "fct_alert_incidents": ("incident_id",),
    "fct_gpu_cost_alert_drivers": ("alert_id", "contributor_type", "contributor"),
    "fct_data_health": ("dt", "source"),
}

# the dbt invocation that built a mart (fct_alerts / fct_data_health.build_id): differs between engines by design
PER_BUILD_COLUMNS = frozenset({"build_id"})

REL_TOL = 1e-9
# numbers this close to zero are equal whatever their ratio (e.g. 0 vs 1e-17 from summation order)
ABS_TOL = 1e-12

Row = Mapping[str, Any]


class MartMismatch(AssertionError):
    """The two engines disagree on a mart; the message names the first differing row."""


def normalise(value: Any) -> Any:
    """One comparable form per value: datetimes naive UTC, Decimals as float, date stays date."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    return value


def values_equal(left: Any, right: Any) -> bool:
    """Equal as data: numbers to REL_TOL relative (ABS_TOL near zero), NaN = NaN, else ==."""
    left, right = normalise(left), normalise(right)
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
            return True
        return math.isclose(left, right, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(left == right)


def _index(rows: Iterable[Row], keys: Sequence[str], side: str, mart: str) -> dict[tuple[Any, ...], Row]:
    indexed: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        key = tuple(normalise(row[k]) for k in keys)
        if key in indexed:
            raise MartMismatch(f"{mart}: {side} has two rows for {dict(zip(keys, key, strict=True))}")
        indexed[key] = row
    return indexed


def _sort_key(key: tuple[Any, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((part is None, str(part)) for part in key)


def compare_mart(
    mart: str,
    keys: Sequence[str],
    left: Sequence[Row],
    right: Sequence[Row],
    left_name: str = "duckdb",
    right_name: str = "bigquery",
) -> int:
    """Raise MartMismatch at the first difference (in key order); return the number of rows compared."""
    left_cols = sorted(left[0]) if left else None
    right_cols = sorted(right[0]) if right else None
    if left_cols is not None and right_cols is not None and left_cols != right_cols:
        only_left = sorted(set(left_cols) - set(right_cols))
        only_right = sorted(set(right_cols) - set(left_cols))
        raise MartMismatch(f"{mart}: columns differ: only {left_name} {only_left}, only {right_name} {only_right}")
    left_rows = _index(left, keys, left_name, mart)
    right_rows = _index(right, keys, right_name, mart)
    for key in sorted(set(left_rows) | set(right_rows), key=_sort_key):
        where = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key, strict=True))
        if key not in right_rows:
            raise MartMismatch(f"{mart}: row ({where}) only on {left_name}: {dict(left_rows[key])}")
        if key not in left_rows:
            raise MartMismatch(f"{mart}: row ({where}) only on {right_name}: {dict(right_rows[key])}")
        lrow, rrow = left_rows[key], right_rows[key]
        for column in sorted(set(lrow) - PER_BUILD_COLUMNS):
            if not values_equal(lrow[column], rrow[column]):
                raise MartMismatch(
                    f"{mart}: row ({where}) column {column}: {left_name}={lrow[column]!r} {right_name}={rrow[column]!r}"
                )
    return len(left_rows)
