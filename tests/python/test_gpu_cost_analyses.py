"""The demo's GPU cost day (analyses/gpu_cost_day.sql, gpu_cost_top_customers.sql, shown by `dbt show`):
figures that equal the marts of the test set, customers ranked by the inference cost of their own requests."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import duckdb

from tests.python.conftest import REPO


def analysis(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    """The analysis run on the built marts: `ref('x')` is the relation dbt renders, main_marts.x."""
    sql = (REPO / "analyses" / f"{name}.sql").read_text()
    sql = re.sub(r"\{\{\s*ref\('(\w+)'\)\s*\}\}", r"main_marts.\1", sql)
    cursor = con.execute(sql)
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def test_cost_day_is_the_last_finalised_day_and_adds_up(test_duckdb: Path) -> None:
    with duckdb.connect(str(test_duckdb), read_only=True) as con:
        rows = analysis(con, "gpu_cost_day")
        [(day, infra, requests)] = con.execute(
            """select dt, sum(infra_cost), sum(requests) from main_marts.fct_gpu_cost_daily
               where dt = (select max(dt) from main_marts.fct_gpu_cost_daily where is_finalised) group by dt"""
        ).fetchall()
    assert [r["vertical"] for r in rows] == ["api", "studio", "total"]
    assert {r["dt"] for r in rows} == {day}
    total = rows[-1]
    assert math.isclose(total["infra_usd"], round(infra, 2), abs_tol=0.005) and total["requests"] == requests
    assert math.isclose(sum(r["infra_usd"] for r in rows[:-1]), total["infra_usd"], abs_tol=0.011)
    assert all(r["idle_usd"] <= r["infra_usd"] and r["customer_usd"] <= r["infra_usd"] for r in rows)


def test_top_customers_carry_only_their_inference(test_duckdb: Path) -> None:
    # issue 20: idle attributed to requests in proportion to their cost named the busiest customer
    with duckdb.connect(str(test_duckdb), read_only=True) as con:
        rows = analysis(con, "gpu_cost_top_customers")
        customer_inference = dict(
            con.execute(
                """select vertical, customer_inference_cost from main_marts.fct_gpu_cost_daily
                   where dt = (select max(dt) from main_marts.fct_gpu_cost_daily where is_finalised)"""
            ).fetchall()
        )
    by: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["breakdown"], []).append(r)
    assert set(by) == {"api endpoint", "api model", "api organisation", "studio process"}
    for breakdown, ranked in by.items():
        assert [r["customer_rank"] for r in ranked] == list(range(1, len(ranked) + 1)) and len(ranked) <= 3
        assert [r["inference_usd"] for r in ranked] == sorted((r["inference_usd"] for r in ranked), reverse=True)
        assert 0 < sum(r["share_pct"] for r in ranked) <= 100.15  # each share rounded to 0.1
        vertical = breakdown.split()[0]
        assert sum(r["inference_usd"] for r in ranked) <= customer_inference[vertical] + 0.02


def test_idle_alerts_name_no_customer(test_duckdb: Path) -> None:
    # issue 20: an idle spike was blamed on "Acme Studios +$183.87 (36 % of change)"
    with duckdb.connect(str(test_duckdb), read_only=True) as con:
        idle = con.execute(
            """select alert_date, drivers_summary from main_marts.fct_alerts where domain = 'gpu_cost'
               and metric in ('idle_cost', 'idle_inference_ratio', 'unattributed_idle_cost') and is_postable"""
        ).fetchall()
        names = {
            n
            for (n,) in con.execute(
                """select organization_name from main_marts.fct_gpu_cost_api_by_organization
                   union select process_name from main_marts.fct_gpu_cost_studio_by_process"""
            ).fetchall()
        }
    assert idle and len(names) >= 6
    for day, summary in idle:
        assert not [n for n in names if n in (summary or "")] and "gpu type" in (summary or ""), (day, summary)
