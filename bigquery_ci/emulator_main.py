"""Entry point of the BigQuery emulator (bqemulator), run with the emulator's own venv (.venv-bq).

Two local patches, both outside what our SQL means, applied before the server starts:

1. No DuckDB `spatial` extension: bqemulator installs it at start-up (GEOGRAPHY support) from the
   DuckDB extension site, which CI cannot reach. We use no GEOGRAPHY, so it is skipped.
2. `ARRAY_AGG(DISTINCT x IGNORE NULLS)`: bqemulator 1.4.0 rewrites IGNORE NULLS to
   `FILTER (WHERE NOT <operand> IS NULL)` and keeps the DISTINCT inside the operand, which is
   invalid SQL. dbt-bigquery's insert_overwrite script emits exactly this construct to find the
   partitions to replace, so every incremental run would fail. The patch filters on the value
   under DISTINCT (what BigQuery means).
3. `SET (x) = (SELECT AS STRUCT ...)` with ONE target: bqemulator 1.4.0 assigns the whole struct
   to x instead of its field (BigQuery destructures the struct into the parenthesised targets),
   so dbt-bigquery's `dbt_partitions_for_replacement` became a struct and the MERGE failed.
   The patch marks the parenthesised form and destructures a one-field struct for it.

The patches change only how the emulator executes BigQuery SQL that real BigQuery runs as is;
nothing in the project depends on them.

Usage: python bigquery_ci/emulator_main.py start   (options: bqemulator's, env BQEMU_*)
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from bqemulator.cli import main
from bqemulator.scripting import interpreter, parser
from bqemulator.scripting.ast import SetStmt
from bqemulator.sql.rewriter import aggregate_variants
from bqemulator.storage import engine
from sqlglot import exp

_original_filter_target = aggregate_variants._filter_target


def _filter_target(agg_operand: exp.Expression) -> exp.Expression:
    if isinstance(agg_operand, exp.Distinct) and len(agg_operand.expressions) == 1:
        agg_operand = agg_operand.expressions[0]
    return _original_filter_target(agg_operand)


def _skip_spatial(self: engine.DuckDBEngine) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _TupleSetStmt(SetStmt):
    """`SET (a, ...) = ...`: the parenthesised form, which destructures a struct."""


_original_parse_set = parser.Parser._parse_set


def _parse_set(self: parser.Parser) -> SetStmt:
    following = self._cursor.peek()  # the token after SET
    stmt = _original_parse_set(self)
    if following.kind == "PUNCT" and following.value == "(":
        return _TupleSetStmt(targets=stmt.targets, source_expr=stmt.source_expr)
    return stmt


_original_exec_set = interpreter.ScriptInterpreter._exec_set


async def _exec_set(self: Any, stmt: SetStmt) -> None:
    if isinstance(stmt, _TupleSetStmt) and len(stmt.targets) == 1:
        value = await self._eval_expr_scalar(stmt.source_expr)
        if isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))
        self._frames.set(stmt.targets[0], value)
        return
    await _original_exec_set(self, stmt)


engine.DuckDBEngine._load_spatial = _skip_spatial
aggregate_variants._filter_target = _filter_target
parser.Parser._parse_set = _parse_set
interpreter.ScriptInterpreter._exec_set = _exec_set

if __name__ == "__main__":
    sys.exit(main())
