"""Did the incremental run produce the same rows as a full refresh? (per relation, per day window)"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import duckdb

# columns that name the day a row is about, in order of preference
DATE_COLUMNS = ("dt", "alert_date", "date_day", "day")
# float columns are compared with this relative tolerance (sums in another order differ in the last bits)
REL_TOL = 1e-9
ABS_TOL = 1e-9


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sort_key(row: Sequence) -> tuple:
    # floats rounded for ordering only; the comparison itself uses the tolerance
    return tuple((1, "") if v is None else (0, f"{v:.6g}" if isinstance(v, float) else str(v)) for v in row)


def values_equal(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        fa, fb = float(a), float(b)  # type: ignore[arg-type]
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def first_difference(columns: Sequence[str], incremental: list[tuple], full: list[tuple]) -> str | None:
    """None when both row sets are equal (order-free, floats within tolerance), else the first difference."""
    inc, ref = sorted(incremental, key=_sort_key), sorted(full, key=_sort_key)
    for i, (a, b) in enumerate(zip(inc, ref, strict=False)):
        if len(a) != len(b) or not all(values_equal(x, y) for x, y in zip(a, b, strict=True)):
            diff = [c for c, x, y in zip(columns, a, b, strict=True) if not values_equal(x, y)]
            return (
                f"row {i} (sorted) differs in {diff}: incremental={dict(zip(columns, a, strict=True))} "
                f"full_refresh={dict(zip(columns, b, strict=True))}"
            )
    if len(inc) != len(ref):
        longer, name = (inc, "incremental") if len(inc) > len(ref) else (ref, "full_refresh")
        extra = longer[min(len(inc), len(ref))]
        return (
            f"row counts differ: incremental={len(inc)} full_refresh={len(ref)}; "
            f"first extra row only in {name}: {dict(zip(columns, extra, strict=True))}"
        )
    return None


def relation_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()


def fetch_window(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str], date_column: str, since: dt.date
) -> list[tuple]:
    cols = ", ".join(quote_ident(c) for c in columns)
    sql = f"select {cols} from {quote_ident(schema)}.{quote_ident(table)} where {quote_ident(date_column)} >= ?"  # noqa: S608 (identifiers from the catalog, quoted)
    return con.execute(sql, [since]).fetchall()


def compare_relation(incremental_db: Path, full_db: Path, schema: str, table: str, since: dt.date) -> dict:
    """Compare the rows of ``schema.table`` dated ``>= since`` in both DuckDB files.

    Columns ending in ``_at`` (build timestamps) are ignored. Returns a dict with
    ``equal`` (True / False / None when the relation has no date column or is missing).
    """
    with (
        duckdb.connect(str(incremental_db), read_only=True) as inc,
        duckdb.connect(str(full_db), read_only=True) as full,
    ):
        inc_cols, full_cols = relation_columns(inc, schema, table), relation_columns(full, schema, table)
        if not inc_cols or not full_cols:
            return {"relation": f"{schema}.{table}", "equal": None, "reason": "missing in one of the databases"}
        if [c for c, _ in inc_cols] != [c for c, _ in full_cols]:
            return {
                "relation": f"{schema}.{table}",
                "equal": False,
                "first_difference": f"columns differ: {inc_cols} vs {full_cols}",
            }
        names = [c for c, _ in inc_cols]
        date_column = next((c for c in DATE_COLUMNS if c in names), None)
        if date_column is None:
            return {"relation": f"{schema}.{table}", "equal": None, "reason": "no date column to select the new day"}
        compared = [c for c in names if not c.endswith("_at")]
        a = fetch_window(inc, schema, table, compared, date_column, since)
        b = fetch_window(full, schema, table, compared, date_column, since)
    diff = first_difference(compared, a, b)
    return {
        "relation": f"{schema}.{table}",
        "date_column": date_column,
        "since": since.isoformat(),
        "rows_incremental": len(a),
        "rows_full_refresh": len(b),
        "equal": diff is None,
        "first_difference": diff,
    }
