"""scripts/check_code_budget.py finds a function over 60 lines and a package over its budget."""

from __future__ import annotations

from pathlib import Path

from scripts.check_code_budget import long_functions, main, total_lines


def _write(root: Path, body_lines: int) -> None:
    root.mkdir()
    body = "".join(f"    x{i} = {i}\n" for i in range(body_lines))
    (root / "m.py").write_text(f"def f() -> None:\n{body}\n\ndef g() -> None:\n    pass\n", encoding="utf-8")


def test_a_function_of_61_lines_fails_and_of_60_passes(tmp_path: Path) -> None:
    _write(tmp_path / "long", 60)  # def line + 60 = 61 lines
    _write(tmp_path / "ok", 59)
    assert [s.split()[1] for s in long_functions(tmp_path / "long")] == ["f"]
    assert long_functions(tmp_path / "ok") == []
    assert main([str(tmp_path / "long")]) == 1 and main([str(tmp_path / "ok")]) == 0


def test_the_line_budget(tmp_path: Path) -> None:
    _write(tmp_path / "p", 10)
    (tmp_path / "p" / "templates").mkdir()
    (tmp_path / "p" / "templates" / "page.html.j2").write_text("<p>\n{{ x }}\n</p>\n", encoding="utf-8")
    (tmp_path / "p" / "__pycache__").mkdir()
    (tmp_path / "p" / "__pycache__" / "m.txt").write_text("not counted\n", encoding="utf-8")
    total = total_lines(tmp_path / "p")
    assert total == 1 + 10 + 2 + 2 + 3  # f, its body, two blank lines, g; the template's 3 lines
    assert main([str(tmp_path / "p"), "--max-lines", str(total)]) == 0
    assert main([str(tmp_path / "p"), "--max-lines", str(total - 1)]) == 1
