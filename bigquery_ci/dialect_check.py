"""Parse every compiled model and test with sqlglot's BigQuery dialect.

The emulator is lenient in places (it runs on DuckDB); a statement sqlglot cannot read as BigQuery
SQL names a construct real BigQuery would likely reject, so the check fails naming the file.
sqlglot's reader is itself lenient (it accepts `x::int` or `cast(x as double)`), so a few
DuckDB/Postgres spellings BigQuery rejects are also refused at token level, and a statement
sqlglot only keeps as an opaque Command counts as unparsed.
"""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

_BIGQUERY = sqlglot.Dialect.get_or_raise("bigquery")
# token text (lower case) -> why BigQuery rejects it
_NOT_BIGQUERY = {
    "::": "`::` cast (BigQuery: cast(x as T))",
    "double": "type DOUBLE (BigQuery: FLOAT64)",
    "varchar": "type VARCHAR (BigQuery: STRING)",
}


def not_bigquery_tokens(sql: str) -> list[str]:
    """DuckDB-only spellings sqlglot would silently accept, found in the SQL's tokens."""
    found = []
    for token in _BIGQUERY.tokenize(sql):
        if token.token_type == sqlglot.TokenType.VAR:
            continue  # identifiers named like a type are fine
        reason = _NOT_BIGQUERY.get(token.text.lower())
        if reason and reason not in found:
            found.append(reason)
    return found


def parse_errors(sql_files: list[Path]) -> dict[Path, str]:
    """File -> first line of its parse error, for every file sqlglot cannot read as BigQuery."""
    errors: dict[Path, str] = {}
    for path in sql_files:
        sql = path.read_text()
        try:
            statements = sqlglot.parse(sql, read="bigquery")
        except (ParseError, TokenError) as exc:
            errors[path] = str(exc).splitlines()[0]
            continue
        if not any(statement is not None for statement in statements):
            errors[path] = "no SQL statement in the file"
        elif any(isinstance(statement, exp.Command) for statement in statements):
            errors[path] = "sqlglot could not parse a statement (kept it as an opaque Command)"
        elif found := not_bigquery_tokens(sql):
            errors[path] = "; ".join(found)
    return errors


def compiled_files(compiled_dir: Path) -> list[Path]:
    """Every compiled .sql under dbt's target/compiled (models, data tests, unit tests)."""
    return sorted(compiled_dir.rglob("*.sql"))
