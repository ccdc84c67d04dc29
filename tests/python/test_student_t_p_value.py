"""The posting policy's t p-value (macro student_t_p_value: closed form for integer d.f. in
SQL) against an independent computation: Simpson integration of the Student-t density (log-
gamma normalisation), plus the closed forms for 1 and 2 d.f. The SQL is rendered from the
macro file itself and run on DuckDB. Also the numbers the docs and the policy's unit tests
quote (the worked example's p, the family-wise critical |z|), and macro usage_t_p_value (the usage
alert's p: the larger of the level and same-weekday-trend p-values) on both sides of the bar."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import jinja2
import pytest
import yaml

MACROS = Path(__file__).resolve().parents[2] / "macros"
MACRO = MACROS / "alerts" / "student_t_p_value.sql"
MAX_DF = 49
ALPHA = 1 / 14  # loud_chance_posts / loud_budget_days
FAMILY_WISE_ALPHA = ALPHA / 2  # the family-wise test's half of the budget


def _density(x: float, df: int) -> float:
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1) / 2 * math.log1p(x * x / df))


def reference_p(t: float, df: int, steps: int = 20_000) -> float:
    """P(|T| >= |t|) = 1 - 2 x integral_0^|t| density, by Simpson's rule."""
    h = abs(t) / steps
    total = _density(0, df) + _density(abs(t), df)
    total += sum((4 if i % 2 else 2) * _density(i * h, df) for i in range(1, steps))
    return 1 - 2 * total * h / 3


def macros(*paths: Path) -> Any:
    """The macro files as one Jinja module, with dbt's var() (dbt_project.yml), return() and dispatch to the
    default implementation."""
    project = yaml.safe_load((MACROS.parent / "dbt_project.yml").read_text())
    env = jinja2.Environment(extensions=["jinja2.ext.do"])  # noqa: S701 - renders SQL, not HTML
    module = env.from_string("\n".join(p.read_text() for p in paths)).make_module(
        {
            "var": lambda name: project["vars"][name],
            "return": lambda value: value,
            "adapter": SimpleNamespace(dispatch=lambda name, _package: getattr(module, f"default__{name}")),
        }
    )
    return module


def run_cases(expression: str, columns: str, cases: list[tuple[Any, ...]]) -> list[Any]:
    """`expression` (SQL over `columns`) evaluated on DuckDB for each case, in order."""
    con = duckdb.connect()
    con.execute(f"create table cases (i integer, {columns})")
    marks = ", ".join("?" * (len(cases[0]) + 1))
    con.executemany(f"insert into cases values ({marks})", [(i, *c) for i, c in enumerate(cases)])
    return [row[0] for row in con.execute(f"select {expression} as p from cases order by i").fetchall()]


def sql_p_values(cases: list[tuple[float, int]]) -> list[float | None]:
    return run_cases(macros(MACRO).student_t_p_value("t", "df", MAX_DF), "t double, df integer", cases)


def z_to_t(z: float, n: int) -> float:
    return z / math.sqrt(1 + 1 / n)


CASES = [(t, df) for df in (1, 2, 3, 4, 5, 8, 9, 10, 25, 48, 49) for t in (0.0, 0.5, 1.96, 2.86, 3.204, 4.5, 8.0)]


def test_macro_matches_numerical_integration_for_every_df() -> None:
    got = sql_p_values(CASES)
    for (t, df), p in zip(CASES, got, strict=True):
        assert p == pytest.approx(reference_p(t, df), abs=1e-9), (t, df)


def test_closed_forms_of_one_and_two_df() -> None:
    # df 1 (Cauchy): p = 1 - 2 atan(t) / pi; df 2: p = 1 - t / sqrt(2 + t^2)
    got = sql_p_values([(1.7, 1), (1.7, 2)])
    assert got[0] == pytest.approx(1 - 2 * math.atan(1.7) / math.pi, abs=1e-12)
    assert got[1] == pytest.approx(1 - 1.7 / math.sqrt(2 + 1.7**2), abs=1e-12)


def test_outside_the_supported_df_is_null_not_wrong() -> None:
    assert sql_p_values([(2.0, 0), (2.0, MAX_DF + 1), (2.0, -3)]) == [None, None, None]


def test_worked_example_is_not_family_wise_significant_but_is_on_its_own() -> None:
    # Free tokens, z 3.36 on a 10-point baseline: t = 3.204 with 9 d.f.
    (p,) = sql_p_values([(z_to_t(3.36, 10), 9)])
    assert p == pytest.approx(0.01077, abs=5e-5)
    assert 20 * p > FAMILY_WISE_ALPHA  # pure Bonferroni over 20 series: quiet
    assert p <= ALPHA  # its own p within the channel budget: loud by its large effect


@pytest.mark.parametrize(("family", "z_crit"), [(20, 4.5879), (12, 4.2259)])
def test_family_wise_critical_z_quoted_in_docs_and_unit_tests(family: int, z_crit: float) -> None:
    below, above = sql_p_values([(z_to_t(z_crit - 0.001, 10), 9), (z_to_t(z_crit + 0.001, 10), 9)])
    assert family * below > FAMILY_WISE_ALPHA >= family * above


def test_large_effect_critical_z_quoted_in_the_unit_tests() -> None:
    # the large-effect test: the series' own p within the whole budget
    below, above = sql_p_values([(z_to_t(2.1426 - 0.001, 10), 9), (z_to_t(2.1426 + 0.001, 10), 9)])
    assert below > ALPHA >= above


def test_cost_family_wise_critical_z_quoted_in_the_unit_tests() -> None:
    # cost_zscore: t with the pooled weekday sigma's 49 d.f., 5 metrics of a vertical
    below, above = sql_p_values([(2.8077 - 0.001, 49), (2.8077 + 0.001, 49)])
    assert 5 * below > FAMILY_WISE_ALPHA >= 5 * above


def usage_p_values(cases: list[tuple[float, int, float, float | None, float | None]]) -> list[float]:
    """macro usage_t_p_value on DuckDB for (z, points, value, trend_prediction, trend_stddev)."""
    module = macros(MACRO, MACROS / "alerts" / "usage_t_p_value.sql", MACROS / "cross_db" / "safe_divide.sql")
    expression = module.usage_t_p_value("z", "n", "v", "pred", "sd")
    return run_cases(expression, "z double, n integer, v double, pred double, sd double", cases)


def test_usage_p_value_is_the_larger_of_level_and_trend_on_both_sides_of_the_bar() -> None:
    # z 6 on 10 points passes the family-wise bar (x 20) on its own; the trend t on 8 d.f. then decides:
    # family-wise critical trend t 4.5869, so 4.5 (300,000 / 66,667) is quiet and 4.6667 (28 / 6) loud.
    # Without a trend (fewer than 3 points: null prediction) or with a zero trend sigma, the level alone.
    cases = [(6, 10, 1_300_000, 1_000_000, 300_000 / 4.5), (6, 10, 128, 100, 6), (6, 10, 130, None, None)]
    below, above, no_trend, flat = usage_p_values([*cases, (6, 10, 130, 100, 0)])
    level = reference_p(z_to_t(6, 10), 9)
    assert below == pytest.approx(reference_p(4.5, 8), abs=1e-9) and below > level
    assert above == pytest.approx(reference_p(28 / 6, 8), abs=1e-9)
    assert 20 * below > FAMILY_WISE_ALPHA >= 20 * above
    assert no_trend == pytest.approx(level, abs=1e-9) == flat
    assert 20 * level <= FAMILY_WISE_ALPHA


def test_usage_p_value_level_bar_when_the_trend_agrees() -> None:
    # a trend t far beyond the level's: the level test decides, at the family-wise critical |z| 4.5879
    below, above = usage_p_values([(4.5869, 10, 200, 100, 1), (4.5889, 10, 200, 100, 1)])
    assert below == pytest.approx(reference_p(z_to_t(4.5869, 10), 9), abs=1e-9)
    assert 20 * below > FAMILY_WISE_ALPHA >= 20 * above
