"""The demo's GPU cost summary: finalised-day arithmetic, 2-decimal rounding, and
figures that equal the marts of the test set."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb

from alerting.cost_summary import (
    CostSummary,
    Driver,
    VerticalTotals,
    fetch_summary,
    format_summary,
)
from alerting.dates import finalised_cost_date
from tests.python.alerting_support import cost_alert
from tests.python.conftest import BIN, dbt_env, run


def test_cost_day_is_run_date_minus_finalisation() -> None:
    # run on 11-23 reads data day 11-22; cost finalises in 3 days -> 11-20
    # (the summary uses the alerting module's rule, so both always show the same cost day)
    assert finalised_cost_date(dt.date(2026, 11, 22), 3) == dt.date(2026, 11, 20)
    assert finalised_cost_date(dt.date(2026, 11, 22), 1) == dt.date(2026, 11, 22)


def test_format_rounds_to_two_decimals_and_totals() -> None:
    s = CostSummary(
        dt.date(2026, 11, 20),
        totals=[
            VerticalTotals("api", 1234.5678, 1000.004, 900.005, 300.0, 10.0, 3, 1, 300.00166),
            VerticalTotals("studio", 10.0, 8.0, 6.0, 1.0, 2.0, 0, 0, None),
        ],
        drivers=[Driver("API endpoint", "/v1/a", 450.126, 0.50013)],
        alerts=[
            cost_alert(
                "a",
                severity="warning",
                metric="failure_rate",
                unit="fraction",
                threshold_kind="absolute",
                current_value=0.25,
                baseline_mean=0.1,
                threshold=0.204,
                drivers_summary="x\n<!channel>",
            ),
            cost_alert(
                "b",
                severity="critical",
                team="studio",
                scope="studio",
                metric="infra_cost",
                threshold_kind="fraction_change",
                baseline_kind="previous_day",
                current_value=130.0,
                baseline_mean=100.0,
                threshold=0.15,
                drivers_summary=None,
            ),
            cost_alert(
                "c",
                severity="notice",
                metric="idle_inference_ratio",
                unit="ratio",
                threshold_kind="ratio",
                baseline_kind="trailing_7d",
                current_value=7.8571,
                baseline_mean=3.2,
                threshold=4.0,
                drivers_summary=None,
            ),
        ],
    )
    text = format_summary(s)
    assert "$1,234.57" in text and "$1,000.00" in text and "$300.00" in text
    # total row: 1244.5678 infra, customer 906.005 over 3 requests = 302.00
    assert "$1,244.57" in text and "$302.00" in text
    assert "n/a" in text  # studio has no requests: no cost per request
    assert "/v1/a: $450.13 (50.01%)" in text
    # critical first; the same value formatter and threshold wording as the Slack messages
    assert text.index("[CRITICAL]") < text.index("[WARNING]") < text.index("[NOTICE]")
    assert "API – Failure rate (team api): 25.0% vs rolling mean 10.0%, threshold above 20.4%" in text
    assert (
        "Studio – Infrastructure cost (team studio): $130.00 vs previous day $100.00, threshold change above 15.0%"
        in text
    )
    assert "7.86 : 1 vs 7-day average 3.20 : 1, threshold above 4.00 : 1" in text
    assert "      x <!channel>" in text  # one line: the newline from data is gone


def test_money_is_half_up_like_the_slack_messages() -> None:
    from alerting.values import format_value

    s = CostSummary(dt.date(2026, 11, 20), totals=[VerticalTotals("api", 0.125, 2.675, 0.0, 0.0, 0.0, 0, 0, None)])
    text = format_summary(s)
    assert "$0.13" in text and "$2.68" in text  # the old f"{x:,.2f}" printed $0.12 and $2.67
    assert format_value(0.125, "usd") == "$0.13"


def test_format_day_without_data() -> None:
    assert "no cost data" in format_summary(CostSummary(dt.date(2026, 1, 1)))


def test_summary_matches_marts(test_duckdb: Path) -> None:
    with duckdb.connect(str(test_duckdb), read_only=True) as con:
        day, infra, n_alerts = con.execute(
            """select d.dt, sum(d.infra_cost),
                      (select count(*) from main_marts.fct_alerts a where a.domain = 'gpu_cost' and a.alert_date = d.dt)
               from main_marts.fct_gpu_cost_daily d
               where d.dt = (select max(alert_date) from main_marts.fct_alerts where domain = 'gpu_cost')
               group by d.dt"""
        ).fetchone()
        s = fetch_summary(con, day)
    assert math.isclose(sum(t.infra_cost for t in s.totals), infra, rel_tol=1e-12)
    assert len(s.alerts) == n_alerts > 0
    api = next(t for t in s.totals if t.vertical == "api")
    endpoints = [d for d in s.drivers if d.breakdown == "API endpoint"]
    assert endpoints and sum(d.cost for d in endpoints) <= api.customer_fully_loaded_cost + 1e-9
    assert [d.cost for d in endpoints] == sorted((d.cost for d in endpoints), reverse=True)


def test_cli_prints_the_finalised_day(test_duckdb: Path, tmp_path: Path) -> None:
    env = dbt_env(tmp_path, test_duckdb)
    res = run([str(BIN / "python"), "-m", "alerting.cost_summary", "--date", "2026-11-22"], env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("GPU cost summary for 2026-11-20")
    assert "API" in res.stdout and "Studio" in res.stdout and "Total" in res.stdout


def test_idle_alerts_name_no_customer_and_customers_carry_only_their_inference(test_duckdb: Path) -> None:
    # issue 20: an idle spike was blamed on "Acme Studios +$183.87 (36 % of change)": idle
    # attributed to requests in proportion to their cost named the busiest customer
    with duckdb.connect(str(test_duckdb), read_only=True) as con:
        days = [
            d
            for (d,) in con.execute(
                """select distinct alert_date from main_marts.fct_alerts
                   where domain = 'gpu_cost' and metric = 'idle_cost' and is_postable order by 1"""
            ).fetchall()
        ]
        orgs = {
            o
            for (o,) in con.execute(
                "select distinct organization_name from main_marts.fct_gpu_cost_api_by_organization"
            ).fetchall()
        }
        processes = {
            p
            for (p,) in con.execute(
                "select distinct process_name from main_marts.fct_gpu_cost_studio_by_process"
            ).fetchall()
        }
        assert days and len(orgs) >= 3 and len(processes) >= 3
        for day in days:
            s = fetch_summary(con, day)
            idle = [a for a in s.alerts if a.metric in ("idle_cost", "idle_inference_ratio", "unattributed_idle_cost")]
            assert idle
            for a in idle:
                named = [n for n in orgs | processes if n in (a.drivers_summary or "")]
                assert not named and "gpu type" in (a.drivers_summary or ""), (day, a.drivers_summary)
            customer_inference = dict(
                con.execute(
                    "select vertical, customer_inference_cost from main_marts.fct_gpu_cost_daily where dt = ?", [day]
                ).fetchall()
            )
            orgs_shown = [d for d in s.drivers if d.breakdown == "API organisation"]
            assert sum(d.cost for d in orgs_shown) <= customer_inference["api"] + 1e-9
            assert "Largest customers (inference cost of their own requests" in format_summary(s)


def test_a_weekday_in_a_baseline_label_keeps_its_capital() -> None:
    alert = cost_alert("t", baseline_kind="same_weekday_transition", threshold_kind="fraction_change", threshold=0.3)
    text = format_summary(
        CostSummary(dt.date(2026, 11, 20), totals=[VerticalTotals("api", *[1.0] * 5, 1, 0, 1.0)], alerts=[alert])
    )
    assert "vs expected after a typical Friday change $14,000.00" in text
