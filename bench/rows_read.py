"""Raw rows read per dbt run, from DuckDB's own query profiles.

``python -m bench.rows_read --raw-dir D --out F.json -- build [--full-refresh] ...`` runs the
dbt command in this process through ``dbt.cli.main.dbtRunner`` with dbt-duckdb's cursor
wrapper instrumented: every statement dbt executes runs with DuckDB profiling on, and the
statement's profile (``get_profiling_information(format="json")``) is read once its result
is complete (before the cursor's next statement, or at close). Each Parquet scan in the
profile names its file glob (``Filename(s)``), which maps to one raw table under
``LTX_RAW_DIR``; the rows it emitted (``rows_scanned``, after the filters DuckDB pushed into
the scan) and the row groups it read are summed per raw table and per dbt node (from dbt's
query comment). The instrumented run is separate from the timed ones: profiling costs time.

The same scans give the BigQuery estimate: the ``dt`` bounds DuckDB applied to a scan
(constant filters and resolved scalar-subquery filters such as ``incremental_start_date``;
join-derived "optional" filters are ignored) are what partition pruning could use on
BigQuery; bounds x the raw table's rows per day = rows BigQuery would read (an estimate:
see ``docs/benchmark.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# the raw tables of DESIGN.md §3.2: directory under LTX_RAW_DIR == source table name
USAGE_TABLE = "ltxstudio_agg_user_date"
ENTERPRISE_TABLE = "enterprise_users"
GPU_TABLE = "gpu_request_attribution_and_cost"
RAW_TABLES = (USAGE_TABLE, ENTERPRISE_TABLE, GPU_TABLE)
DATED_TABLES = (USAGE_TABLE, GPU_TABLE)  # partitioned by day (dt); enterprise_users is a snapshot
DATE_COLUMN = "dt"

PROFILING_SETTINGS = (
    "SET enable_profiling = 'no_output'",
    "SET profiling_mode = 'detailed'",
    "SET profiling_coverage = 'ALL'",
)
PARQUET_FUNCTIONS = ("READ_PARQUET", "PARQUET_SCAN")
_NODE_ID = re.compile(r'"node_id"\s*:\s*"([^"]+)"')


# --- reading one profile -----------------------------------------------------------------


@dataclass(frozen=True)
class Scan:
    """One Parquet scan operator of one statement."""

    files: str  # the profile's ``Filename(s)``: a path or glob as written in the SQL
    rows: int  # rows the scan emitted (DuckDB ``rows_scanned``: after filters pushed into the scan)
    row_groups_scanned: int | None
    row_groups_total: int | None
    filters: str  # ``Filters`` and ``Dynamic Filters`` joined with " AND "


def _int(v: object) -> int | None:
    if v is None or v == "":
        return None
    return int(float(v))


def parquet_scans(profile: Mapping) -> list[Scan]:
    """Every Parquet scan in a DuckDB JSON profile (``get_profiling_information(format='json')``)."""
    out: list[Scan] = []
    stack = list(profile.get("operator") or profile.get("children") or [])
    while stack:
        node = stack.pop()
        stack.extend(node.get("children") or [])
        info = node.get("extra_info") or {}
        if not isinstance(info, dict):
            continue
        files = info.get("Filename(s)", info.get("File", ""))
        function = str(info.get("Function", "")).upper()
        # DuckDB leaves "Function" out of a file scan without filters or projections (e.g. the
        # first row of a table under LIMIT 1): a scan that names its files is still one
        if function not in PARQUET_FUNCTIONS and (function or not files):
            continue
        rows = node.get("rows_scanned")
        if rows is None:  # older profiles name the emitted rows differently
            rows = node.get("operator_cardinality", node.get("intermediate_rows", 0))
        if isinstance(files, list):
            files = ", ".join(str(f) for f in files)
        filters = " AND ".join(
            str(info[k]) if not isinstance(info[k], list) else " AND ".join(map(str, info[k]))
            for k in ("Filters", "Dynamic Filters")
            if info.get(k)
        )
        out.append(
            Scan(
                files=str(files),
                rows=int(rows or 0),
                row_groups_scanned=_int(node.get("row_groups_scanned")),
                row_groups_total=_int(node.get("total_row_groups_to_scan")),
                filters=filters,
            )
        )
    return out


def raw_table_of(files: str, raw_dir: Path) -> str | None:
    """The raw table a scanned path/glob belongs to: its first directory under ``raw_dir``; else None."""
    root = os.path.normpath(os.path.abspath(raw_dir))
    for one in (p.strip().strip("'\"[]") for p in files.split(",")):
        if not one:
            continue
        path = os.path.normpath(os.path.abspath(one))
        if os.path.commonpath([root, path]) != root:
            continue
        first = os.path.relpath(path, root).split(os.sep)[0]
        if first in RAW_TABLES:
            return first
    return None


def node_id_of(sql: str) -> str:
    """dbt's node id from its query comment (``/* {"app": "dbt", ..., "node_id": "model.x.y"} */``)."""
    m = _NODE_ID.search(sql[:2000])
    return m.group(1) if m else "(no node)"


# --- dt bounds of a scan: what partition pruning could use -------------------------------

_DATE = r"'(\d{4}-\d{2}-\d{2})'(?:::DATE)?"
_CMP = re.compile(rf"\b{DATE_COLUMN}\s*(>=|<=|=|>|<)\s*{_DATE}")
_CMP_REVERSED = re.compile(rf"{_DATE}\s*(>=|<=|=|>|<)\s*{DATE_COLUMN}\b")
_IN = re.compile(rf"\b{DATE_COLUMN}\s+IN\s*\(([^()]*)\)")
_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "=": "="}


def _drop_optional(text: str) -> str:
    """Remove ``optional: (...)`` terms: join-derived filters DuckDB may skip; BigQuery cannot prune on them."""
    out, i = [], 0
    while i < len(text):
        j = text.find("optional:", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        k = j + len("optional:")
        while k < len(text) and text[k] == " ":
            k += 1
        if k < len(text) and text[k] == "(":
            depth = 0
            while k < len(text):
                depth += text[k] == "("
                depth -= text[k] == ")"
                k += 1
                if depth == 0:
                    break
        else:  # unparenthesised: up to the next AND
            nxt = text.find(" AND ", k)
            k = len(text) if nxt < 0 else nxt
        i = k
    return "".join(out)


def dt_bounds(filters: str) -> tuple[dt.date | None, dt.date | None]:
    """Inclusive (first, last) day a scan's filters allow on ``dt``; None = unbounded on that side.

    Only conjunctions are understood: a filter with OR (outside optional terms) is taken as
    unbounded (every partition), which over- rather than under-states what BigQuery reads.
    """
    text = _drop_optional(filters)
    if re.search(r"\bOR\b", text):
        return None, None
    lo: dt.date | None = None
    hi: dt.date | None = None

    def tighten(op: str, day: dt.date) -> None:
        nonlocal lo, hi
        if op in (">=", ">", "="):
            d = day + dt.timedelta(days=1) if op == ">" else day
            lo = d if lo is None else max(lo, d)
        if op in ("<=", "<", "="):
            d = day - dt.timedelta(days=1) if op == "<" else day
            hi = d if hi is None else min(hi, d)

    for op, day in _CMP.findall(text):
        tighten(op, dt.date.fromisoformat(day))
    for day, op in _CMP_REVERSED.findall(text):
        tighten(_FLIP[op], dt.date.fromisoformat(day))
    for body in _IN.findall(text):
        days = [dt.date.fromisoformat(d) for d in re.findall(_DATE, body)]
        if days:
            tighten(">=", min(days))
            tighten("<=", max(days))
    return lo, hi


def rows_in_bounds(rows_per_day: Mapping[dt.date, int], lo: dt.date | None, hi: dt.date | None) -> int:
    return sum(n for d, n in rows_per_day.items() if (lo is None or d >= lo) and (hi is None or d <= hi))


# --- collecting over a run -----------------------------------------------------------------


@dataclass
class Collector:
    """Thread-safe sums of the Parquet scans of every profiled statement of one dbt run."""

    raw_dir: Path
    statements: int = 0
    unprofiled: int = 0  # statements whose profile could not be read (listed by error)
    errors: dict[str, int] = field(default_factory=dict)
    scans: list[dict] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_profile(self, node_id: str, profile_json: str | None, error: str | None = None) -> None:
        with self._lock:
            self.statements += 1
            if profile_json is None:
                self.unprofiled += 1
                key = (error or "no profile")[:120]
                self.errors[key] = self.errors.get(key, 0) + 1
                return
            for s in parquet_scans(json.loads(profile_json)):
                self.scans.append(
                    {
                        "node_id": node_id,
                        "table": raw_table_of(s.files, self.raw_dir),
                        "files": s.files,
                        "rows": s.rows,
                        "row_groups_scanned": s.row_groups_scanned,
                        "row_groups_total": s.row_groups_total,
                        "filters": s.filters,
                    }
                )


def summarise_scans(scans: Iterable[dict], rows_per_day: Mapping[str, Mapping[dt.date, int]] | None = None) -> dict:
    """Per raw table: rows read, row groups, scans; per node; and the BigQuery estimate when day counts are given.

    ``rows_per_day``: {table: {day: rows}} for the dated tables and {table: {None: rows}} for
    the undated ones (read whole on BigQuery).
    """
    tables: dict[str, dict] = {
        t: {"rows": 0, "scans": 0, "row_groups_scanned": 0, "row_groups_total": 0} for t in RAW_TABLES
    }
    by_node: dict[str, dict[str, int]] = {}
    other_parquet_rows = 0
    bq: dict[str, int] = dict.fromkeys(RAW_TABLES, 0)
    bq_by_node: dict[str, dict[str, int]] = {}
    for s in scans:
        t = s["table"]
        if t is None:
            other_parquet_rows += s["rows"]
            continue
        slot = tables[t]
        slot["rows"] += s["rows"]
        slot["scans"] += 1
        slot["row_groups_scanned"] += s["row_groups_scanned"] or 0
        slot["row_groups_total"] += s["row_groups_total"] or 0
        node = by_node.setdefault(s["node_id"], {})
        node[t] = node.get(t, 0) + s["rows"]
        if rows_per_day is not None:
            counts = rows_per_day.get(t, {})
            est = rows_in_bounds(counts, *dt_bounds(s["filters"])) if t in DATED_TABLES else sum(counts.values())
            bq[t] += est
            bn = bq_by_node.setdefault(s["node_id"], {})
            bn[t] = bn.get(t, 0) + est
    out = {
        "raw_rows_read": {t: v["rows"] for t, v in tables.items()},
        "tables": tables,
        "by_node": dict(sorted(by_node.items(), key=lambda kv: -sum(kv[1].values()))),
        "other_parquet_rows": other_parquet_rows,
    }
    if rows_per_day is not None:
        out["bigquery_estimate_rows"] = bq
        out["bigquery_estimate_by_node"] = dict(sorted(bq_by_node.items(), key=lambda kv: -sum(kv[1].values())))
    return out


def raw_rows_per_day(raw_dir: Path) -> dict[str, dict]:
    """{table: {day: rows}} for the dated raw tables, {table: {None: rows}} for the snapshot; from Parquet metadata."""
    import pyarrow.parquet as pq

    out: dict[str, dict] = {}
    for t in RAW_TABLES:
        counts: dict = {}
        for f in sorted((raw_dir / t).glob("*.parquet")):
            n = pq.ParquetFile(f).metadata.num_rows
            if t in DATED_TABLES:
                day = dt.date.fromisoformat(f.stem)  # the layout writes one file per day, named by the day
                counts[day] = counts.get(day, 0) + n
            else:
                counts[None] = counts.get(None, 0) + n
        out[t] = counts
    return out


def raw_layout(raw_dir: Path) -> dict[str, dict[str, int]]:
    """{table: {"files", "row_groups", "rows"}} from Parquet metadata: turns row groups read into days read."""
    import pyarrow.parquet as pq

    out = {}
    for t in RAW_TABLES:
        files = sorted((raw_dir / t).glob("*.parquet"))
        metas = [pq.ParquetFile(f).metadata for f in files]
        out[t] = {
            "files": len(files),
            "row_groups": sum(m.num_row_groups for m in metas),
            "rows": sum(m.num_rows for m in metas),
        }
    return out


# --- instrumenting dbt-duckdb ---------------------------------------------------------------


def install(collector: Collector) -> Callable[[], None]:
    """Wrap dbt-duckdb's cursor wrapper: profile every statement, read each profile once it is complete.

    A SELECT's profile is final only after its result has been fetched, so a statement's
    profile is read right before the cursor's next statement, commit, rollback or close (or at
    ``collector.flush()``). A string with several statements is split (``extract_statements``) so
    that each gets its own profile. Returns a function that restores the wrapper.
    """
    from dbt.adapters.duckdb.environments import local

    wrapper = local.DuckDBCursorWrapper
    if getattr(wrapper, "_bench_rows_read", False):
        raise RuntimeError("dbt-duckdb cursor wrapper is already instrumented")
    original_execute = wrapper.execute
    open_cursors: list = []
    registry_lock = threading.Lock()

    def collect(self) -> None:
        pending = self.__dict__.pop("_bench_pending", None)
        if pending is None:
            return
        try:
            profile = self._cursor.get_profiling_information(format="json")
        except Exception as exc:  # report, don't hide: counted as unprofiled with the reason
            collector.add_profile(pending, None, f"{type(exc).__name__}: {exc}")
            return
        collector.add_profile(pending, profile)

    def execute(self, sql, bindings=None):
        collect(self)
        if not self.__dict__.get("_bench_profiling"):
            for setting in PROFILING_SETTINGS:
                self._cursor.execute(setting)
            self.__dict__["_bench_profiling"] = True
            with registry_lock:
                open_cursors.append(self)
        node = node_id_of(sql)
        statements = self._cursor.extract_statements(sql) if bindings is None and ";" in sql else []
        if len(statements) > 1:
            for st in statements[:-1]:
                original_execute(self, st)
                if self._cursor.description is not None:
                    self._cursor.fetchall()  # a result is complete (and profiled) once fetched
                self.__dict__["_bench_pending"] = node
                collect(self)
            result = original_execute(self, statements[-1])
        else:
            result = original_execute(self, sql, bindings)
        self.__dict__["_bench_pending"] = node
        return result

    def close(self):
        collect(self)
        return self._cursor.close()

    def rollback(self):  # dbt-duckdb rolls back when it releases a connection: that would replace the profile
        collect(self)
        return self._cursor.rollback()

    def commit(self):
        collect(self)
        return self._cursor.commit()

    def flush() -> None:
        with registry_lock:
            for cur in open_cursors:
                try:
                    collect(cur)
                except Exception as exc:  # a cursor closed behind our back: its last profile is lost, say so
                    collector.add_profile("(flush)", None, f"{type(exc).__name__}: {exc}")

    saved = {name: wrapper.__dict__.get(name) for name in ("execute", "close", "rollback", "commit")}
    wrapper.execute = execute
    wrapper.close = close
    wrapper.rollback = rollback
    wrapper.commit = commit
    wrapper._bench_rows_read = True
    collector.flush = flush  # type: ignore[attr-defined]

    def uninstall() -> None:
        for name, original in saved.items():
            if original is None:
                delattr(wrapper, name)
            else:
                setattr(wrapper, name, original)
        del wrapper._bench_rows_read

    return uninstall


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("usage: python -m bench.rows_read --raw-dir D --out F.json -- <dbt args>", file=sys.stderr)
        return 2
    cut = argv.index("--")
    p = argparse.ArgumentParser(prog="python -m bench.rows_read")
    p.add_argument("--raw-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args(argv[:cut])
    dbt_args = argv[cut + 1 :]

    from dbt.cli.main import dbtRunner

    collector = Collector(a.raw_dir)
    install(collector)
    res = dbtRunner().invoke(dbt_args)
    collector.flush()  # type: ignore[attr-defined]
    summary = summarise_scans(collector.scans, raw_rows_per_day(a.raw_dir))
    out = {
        "dbt_args": dbt_args,
        "success": bool(res.success),
        "statements_profiled": collector.statements - collector.unprofiled,
        "statements_unprofiled": collector.unprofiled,
        "unprofiled_reasons": collector.errors,
        **summary,
        "scans": collector.scans,
    }
    a.out.write_text(json.dumps(out, indent=2, default=str) + "\n")
    print(json.dumps({"success": out["success"], "raw_rows_read": out["raw_rows_read"]}))
    return 0 if res.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
