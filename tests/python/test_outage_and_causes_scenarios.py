"""Issue 20 "What is posted is true", end to end on generated data (ltx_synth scenarios):

* an API outage (idle / overhead / unused as usual, no request; API is most of the request
  rows, so the day's rows fall below half of the same weekday's) is complete in
  fct_data_health - judged on the infrastructure rows - and its idle_without_traffic CRITICAL
  is posted to the API team, not held as incomplete data;
* an API failure spike (85 % of /v1/image-to-video's requests fail) is posted naming the
  endpoint, not the day's cost noise;
* an API idle spike (idle x3, traffic unchanged) names no organisation, endpoint or model:
  not in drivers_summary, fct_gpu_cost_alert_drivers or the message.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.python.conftest import BIN, NO_UNIT_TESTS, dbt_env, failure_summary, run

pytestmark = pytest.mark.dbt

END = dt.date(2026, 11, 22)
RUN_DATE = dt.date(2026, 11, 25)  # costs finalised through 11-22
OUTAGE = dt.date(2026, 11, 12)  # a Thursday
FAILURE_SPIKE = dt.date(2026, 11, 17)  # a Tuesday
IDLE_SPIKE = dt.date(2026, 11, 20)  # a Friday: its 7-day window does not hold the outage
FAILED_ENDPOINT = "/v1/image-to-video"
ORGS = ("Acme Studios", "Nimbus Media", "Pixel Forge", "Orbit & Co <Films>", "Orbit &amp; Co", "Self-serve")
ENDPOINTS = ("/v1/text-to-video", "/v1/image-to-video", "/v1/text-to-image")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("truth")
    raw, db = root / "raw", root / "db.duckdb"
    args = ["--seed", "11", "--end-date", END.isoformat(), "--days", "56", "--users", "200"]
    args += ["--gpu-requests-per-day", "200", "--usage-anomalies", "0", "--cost-anomalies", "0"]
    args += ["--gpu-volume-factor", "api=3", "--api-outage", OUTAGE.isoformat()]
    args += ["--api-failure-spike", FAILURE_SPIKE.isoformat(), "--api-idle-spike", IDLE_SPIKE.isoformat()]
    res = run([str(BIN / "python"), "-m", "ltx_synth", "--out", str(raw), *args])
    assert res.returncode == 0, res.stderr
    res = run(
        [str(BIN / "dbt"), "build", "--target", "duckdb", "--vars", f"{{run_date: '{RUN_DATE}'}}", *NO_UNIT_TESTS],
        env=dbt_env(raw, db),
    )
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    return db


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _api_sections(db: Path, cost_day: dt.date) -> list[str]:
    """The dry run of the morning whose cost day is ``cost_day``: the Block Kit text of every
    section of the API channel's new messages."""
    usage_day = cost_day + dt.timedelta(days=2)  # run date = usage day + 1, cost day = run date - 3
    res = run(
        [str(BIN / "python"), "-m", "alerting", "run", "--dry-run", "--target", "duckdb", "--date", str(usage_day)],
        env=dbt_env(db.parent / "raw", db),
    )
    assert res.returncode in (0, 3), res.stdout[-3000:] + res.stderr[-3000:]
    sections: list[str] = []
    for chunk in res.stdout.split("===== ")[1:]:
        head, _, body = chunk.partition(" =====\n")
        if "api" not in head.split(" · ")[0] or "--- Block Kit JSON ---" not in body:
            continue
        payload = json.loads(body.split("--- Block Kit JSON ---\n", 1)[1])
        sections += [b["text"]["text"] for b in payload["blocks"] if b.get("type") == "section"]
    return sections


def test_api_outage_is_posted_to_the_api_team_not_held_as_incomplete(built: Path) -> None:
    [(rows, judged, expected, status, reason)] = _rows(
        built,
        """select row_count, judged_rows, expected_rows, status, status_reason from main_marts.fct_data_health
           where dt = ? and source = 'gpu_costs'""",
        [OUTAGE],
    )
    [(week_before,)] = _rows(
        built,
        "select row_count from main_marts.fct_data_health where dt = ? and source = 'gpu_costs'",
        [OUTAGE - dt.timedelta(days=7)],
    )
    assert rows < 0.5 * week_before  # every row counted, the outage would look like a partial load
    assert status == "complete" and judged == expected, (judged, expected, reason)
    assert "outage, not a partial load" in reason
    alerts = _rows(
        built,
        """select rule, severity, team, is_postable, hold_reason from main_marts.fct_alerts
           where domain = 'gpu_cost' and scope = 'api' and alert_date = ?""",
        [OUTAGE],
    )
    assert ("idle_without_traffic", "critical", "api", True, None) in alerts
    assert all(hold != "incomplete_data" for *_, hold in alerts)
    assert not _rows(
        built, "select 1 from main_marts.fct_alerts where domain = 'data_health' and alert_date = ?", [OUTAGE]
    )
    sections = [s for s in _api_sections(built, OUTAGE) if "*API – " in s]
    assert sections and any("CRITICAL" in s.split("\n", 1)[0] for s in sections), sections
    assert not any("incomplete" in s.lower() for s in sections)


def test_failure_spike_message_names_the_failed_endpoint(built: Path) -> None:
    summaries = _rows(
        built,
        """select drivers_summary from main_marts.fct_alerts
           where domain = 'gpu_cost' and scope = 'api' and metric = 'failure_rate' and alert_date = ?""",
        [FAILURE_SPIKE],
    )
    assert summaries and all(f"endpoint {FAILED_ENDPOINT} +" in s for (s,) in summaries), summaries
    sections = [s for s in _api_sections(built, FAILURE_SPIKE) if "*API – " in s]
    assert sections, "the failure spike is in no API message"
    [incident] = [s for s in sections if "Failure rate" in s.split("\n", 1)[0]]
    assert FAILED_ENDPOINT in incident and "Cause:" not in incident, incident


def test_idle_spike_names_no_organisation_endpoint_or_model(built: Path) -> None:
    alerts = _rows(
        built,
        """select alert_id, metric, drivers_summary from main_marts.fct_alerts
           where domain = 'gpu_cost' and scope = 'api' and alert_date = ?""",
        [IDLE_SPIKE],
    )
    assert {m for _, m, _ in alerts} >= {"idle_cost", "infra_cost"}
    customers = ORGS + ENDPOINTS + ("ltxv-",)
    for _, metric, summary in alerts:
        assert not [c for c in customers if c in (summary or "")], (metric, summary)
    named = _rows(
        built,
        f"""select distinct contributor_type from main_marts.fct_gpu_cost_alert_drivers
            where alert_id in ({", ".join("?" for _ in alerts)})""",
        [a for a, _, _ in alerts],
    )
    assert {t for (t,) in named} <= {"gpu_type", "cost_category"}, named
    sections = [s for s in _api_sections(built, IDLE_SPIKE) if "*API – " in s]
    idle_first = re.compile(r"^Cause: infrastructure cost [^\n:]*: idle ", re.M)
    assert sections and all(idle_first.search(s) for s in sections), sections
    for s in sections:
        assert not [c for c in customers if c in s], s
