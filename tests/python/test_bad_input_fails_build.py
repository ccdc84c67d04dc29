"""Bad raw input must stop `make build` on a test whose name says what broke."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.python.conftest import generate, make_build

pytestmark = pytest.mark.dbt


@pytest.mark.parametrize(
    ("flag", "failing_test"),
    [
        ("--duplicate-user-day", "stg_web__user_days_one_row_per_dt_lt_id"),
        ("--unknown-cost-category", "stg_gpu_costs__cost_category_is_known"),
        # staging passes (every row is well-formed); the GPU cost invariant says what broke
        ("--double-idle-attribution", "gpu_cost_invariant__attributed_idle_equals_idle_rows_cost"),
    ],
)
def test_make_build_fails_on_named_test(tmp_path: Path, flag: str, failing_test: str) -> None:
    raw = tmp_path / "raw"
    generate(raw, flag)
    res = make_build(raw, tmp_path / "x.duckdb")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    failed = [line for line in out.splitlines() if " FAIL " in line or "Failure in test" in line]
    assert any(failing_test in line for line in failed), out[-3000:]


def test_make_build_flags_a_negative_cost_and_goes_on(tmp_path: Path) -> None:
    """One impossible cost is bounded like usage (docs/data-inputs.md): a warning names it, the
    row is kept out of every statistic; tests/python/test_input_faults.py checks the marts."""
    raw = tmp_path / "raw"
    generate(raw, "--negative-cost")
    res = make_build(raw, tmp_path / "x.duckdb")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    warned = [line for line in out.splitlines() if " WARN " in line or "Warning in test" in line]
    assert any("stg_gpu_costs__row_cost_within_bounds" in line for line in warned), out[-3000:]


def test_clean_input_builds(small_raw: Path, tmp_path: Path) -> None:
    """generate()'s clean set, as every flag above starts from: the shared copy (read only)."""
    res = make_build(small_raw, tmp_path / "ok.duckdb")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    assert (tmp_path / "ok.duckdb").exists()
