"""``python -m bench.query floor|reference --raw-dir D --day YYYY-MM-DD``: run one bench query.

Run as its own process by the driver so its time is a whole process, like dbt's.
Prints one JSON line: rows returned, the query's own seconds, and the rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import duckdb

from bench.queries import FLOOR_SQL, REFERENCE_SQL, floor_params, reference_params


def _jsonable(v: object) -> object:
    return v.isoformat() if isinstance(v, dt.date) else v


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.query")
    p.add_argument("which", choices=["floor", "reference"])
    p.add_argument("--raw-dir", type=Path, required=True)
    p.add_argument("--day", type=dt.date.fromisoformat, required=True)
    p.add_argument("--heavy-min-active-days", type=int, default=5)
    p.add_argument("--heavy-min-tokens", type=int, default=0)
    a = p.parse_args(argv)
    if a.which == "floor":
        sql, params = FLOOR_SQL, floor_params(a.raw_dir, a.day)
    else:
        sql, params = (
            REFERENCE_SQL,
            reference_params(a.raw_dir, a.day, a.heavy_min_active_days, a.heavy_min_tokens),
        )
    con = duckdb.connect()
    started = time.perf_counter()
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    rows = cur.fetchall()
    seconds = time.perf_counter() - started
    out = {
        "query": a.which,
        "query_s": round(seconds, 4),
        "rows": len(rows),
        "result": [{c: _jsonable(v) for c, v in zip(cols, r, strict=True)} for r in rows],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
