"""`make lint`: no function in a package over 60 lines (issue 22); prints the package's total line count as
issue 22 counts it (every file: Python, templates, the routes file; blank lines and docstrings included), and
fails above --max-lines when given (alerting/: 5,000)."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

MAX_FUNCTION_LINES = 60


def long_functions(root: Path) -> list[str]:
    """`path:line name (n lines)` for every function or method longer than MAX_FUNCTION_LINES."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - start + 1
                if lines > MAX_FUNCTION_LINES:
                    out.append(f"{path}:{node.lineno} {node.name} ({lines} lines)")
    return out


def total_lines(root: Path) -> int:
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sum(len(p.read_text(encoding="utf-8").splitlines()) for p in files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path, nargs="?", default=Path("alerting"))
    parser.add_argument("--max-lines", type=int, default=None, help="fail when the package is longer")
    args = parser.parse_args(argv)
    problems = [f"{f}: over {MAX_FUNCTION_LINES} lines" for f in long_functions(args.root)]
    total = total_lines(args.root)
    if args.max_lines is not None and total > args.max_lines:
        problems.append(f"{args.root}/ has {total} lines, over the budget of {args.max_lines}")
    print(f"{args.root}/: {total} lines, no function over {MAX_FUNCTION_LINES} lines" if not problems else "")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
