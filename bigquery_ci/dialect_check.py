"""Parse every compiled model and test with sqlglot's BigQuery dialect.

The emulator is lenient in places (it runs on DuckDB); a statement sqlglot cannot read as BigQuery
SQL names a construct real BigQuery would likely reject, so the check fails naming the file.
"""

from __future__ import annotations

from pathlib import Path

import sqlglot
from sqlglot.errors import ParseError, TokenError


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
    return errors


def compiled_files(compiled_dir: Path) -> list[Path]:
    """Every compiled .sql under dbt's target/compiled (models, data tests, unit tests)."""
    return sorted(compiled_dir.rglob("*.sql"))
