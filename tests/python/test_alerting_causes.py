"""Cost causes from the marts: fct_gpu_cost_decomposition rows (helper H2's shape) -> the Cause line.

Hand-computed cases: a one-organisation volume spike names the organisation; an idle spike on
flat traffic names nobody; a day with idle cost and no traffic says requests fell 100 % and
names no endpoint / model / organisation (they all fell to zero).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from alerting import compose
from alerting.causes import attach_causes
from alerting.compose import Digest
from alerting.model import Alert
from alerting.warehouse import DuckDBBackend
from tests.python.alerting_support import COST_DAY, DAY, cost_alert, create_marts
from tests.python.test_alerting_messages import text_of

COLUMNS = (
    "dt date, vertical varchar, component varchar, contributor_type varchar, contributor varchar,"
    " requests double, baseline_requests double, delta_usd double, share_of_change double, baseline_kind varchar,"
    " infra_change double, baseline_infra_cost double"
)
BASE = 300.0  # the day's infrastructure cost over its 7-day average: what every share is of
INSERT = f"insert into main_marts.fct_gpu_cost_decomposition values ({', '.join('?' * COLUMNS.count(','))}, ?)"


def whole(change: float) -> tuple:  # what the shares are of: infrastructure cost against its window
    return ("trailing_7d", change, BASE)


def total(vertical: str, component: str, delta: float, change: float, req: float | None = None,
          base: float | None = None) -> tuple:  # fmt: skip
    return (COST_DAY, vertical, component, "total", "all", req, base, delta, delta / change, *whole(change))


def detail(vertical: str, component: str, ctype: str, name: str, delta: float, change: float) -> tuple:
    return (COST_DAY, vertical, component, ctype, name, None, None, delta, delta / change, *whole(change))


DRIVERS = (
    "alert_id varchar, contributor_type varchar, contributor varchar, value double, baseline_value double,"
    " delta double, share_of_delta double, contributor_rank bigint, unit varchar, driver_metric varchar"
)


def add_drivers(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    con.execute(f"create table main_marts.fct_gpu_cost_alert_drivers ({DRIVERS})")
    con.executemany(f"insert into main_marts.fct_gpu_cost_alert_drivers values ({', '.join('?' * 10)})", rows)


def explained(db: Path, alert: Alert) -> tuple[Alert, str]:
    """The alert as attach_causes reads it from the marts in `db`, and its message's Cause / Drivers line."""
    backend = DuckDBBackend(db, "main_marts", "main_alerting", read_only=True)
    try:
        [with_cause] = attach_causes(backend, [alert])
    finally:
        backend.close()
    body = compose.digest(Digest("#x", (alert.team or "x",), DAY, COST_DAY, (with_cause,)))
    assert body is not None
    [cause] = [ln for ln in text_of(body).splitlines() if ln.startswith(("Cause: ", "Drivers: "))]
    return with_cause, cause


def cause_of(tmp_path: Path, vertical: str, rows: list[tuple], direction: str = "increase") -> str:
    db = tmp_path / "c.duckdb"
    alert = cost_alert(
        "c1", scope=vertical, team=vertical, metric="infra_cost", drivers_summary="from the mart", direction=direction
    )
    create_marts(db, [alert])
    con = duckdb.connect(str(db))
    con.execute(f"create table main_marts.fct_gpu_cost_decomposition ({COLUMNS})")
    con.executemany(INSERT, rows)
    con.close()
    return explained(db, alert)[1]


def test_one_org_volume_spike_names_the_org(tmp_path: Path) -> None:
    change = 500.0  # volume 420 + idle 80
    rows = [
        total("api", "request_volume", 420.0, change, 420.0, 260.0),
        total("api", "request_rate", 0.0, change, 420.0, 260.0),
        total("api", "idle", 80.0, change),
        detail("api", "request_volume", "organization", "Acme Studios", 400.0, change),
        detail("api", "request_volume", "organization", "Other", 20.0, change),
        detail("api", "request_volume", "endpoint", "/v1/video", 410.0, change),
        detail("api", "request_volume", "endpoint", "(mix)", 10.0, change),
    ]
    assert cause_of(tmp_path, "api", rows) == (
        "Cause: infrastructure cost +$500.00 (+166.7%) vs 7-day average $300.00:"
        " requests +61.5% (+$420.00, 84% of the change);"
        " idle +$80.00 (16% of the change);"
        " driven by endpoint /v1/video +$410.00 (82% of the change);"
        " driven by organization Acme Studios +$400.00 (80% of the change)"
    )


def test_idle_spike_on_flat_traffic_names_no_one(tmp_path: Path) -> None:
    change = 350.0
    rows = [
        total("studio", "idle", 348.26, change),
        total("studio", "request_volume", 1.05, change, 301.0, 300.1),
        total("studio", "request_rate", 0.69, change, 301.0, 300.1),
        detail("studio", "idle", "gpu_type", "H100", 120.0, change),
        detail("studio", "request_volume", "process", "render-farm", 1.0, change),
    ]
    cause = cause_of(tmp_path, "studio", rows)
    assert cause == (
        "Cause: infrastructure cost +$350.00 (+116.7%) vs 7-day average $300.00: idle +$348.26 (100% of the change);"
        " requests flat (+0.3%)"
    )
    assert "render-farm" not in cause


def test_idle_with_zero_traffic_says_requests_fell(tmp_path: Path) -> None:
    change = 100.0  # inference -150 (no request), idle +250
    rows = [
        total("api", "request_volume", -150.0, change, 0.0, 240.0),
        total("api", "request_rate", 0.0, change, 0.0, 240.0),
        total("api", "idle", 250.0, change),
    ]
    assert cause_of(tmp_path, "api", rows) == (
        "Cause: infrastructure cost +$100.00 (+33.3%) vs 7-day average $300.00: idle +$250.00 (250% of the change);"
        " requests -100.0% (-$150.00, -150% of the change)"
    )


def test_no_traffic_names_no_endpoint_model_or_org(tmp_path: Path) -> None:
    # the generated outage day: every request gone, the largest model / endpoint hold most of
    # the (negative) change only because they were the largest - no contributor is named
    change = -25.37  # requests -29.53, idle +4.16
    rows = [
        total("api", "request_volume", -29.53, change, 0.0, 118.0),
        total("api", "request_rate", 0.0, change, 0.0, 118.0),
        total("api", "idle", 4.16, change),
        detail("api", "request_volume", "model", "ltxv-13b", -15.74, change),
        detail("api", "request_volume", "endpoint", "/v1/text-to-video", -14.69, change),
        detail("api", "idle", "gpu_type", "H100", 4.0, change),
    ]
    cause = cause_of(tmp_path, "api", rows, "decrease")
    assert cause == (
        "Cause: infrastructure cost -$25.37 (-8.5%) vs 7-day average $300.00:"
        " requests -100.0% (-$29.53, 116% of the change);"
        " idle +$4.16 (-16% of the change)"
    ), cause
    # the same rows with traffic left (-90 %) name the model that fell most
    rows[0] = total("api", "request_volume", -29.53, change, 11.8, 118.0)
    (tmp_path / "with_traffic").mkdir()
    assert "driven by model ltxv-13b" in cause_of(tmp_path / "with_traffic", "api", rows, "decrease")


def test_without_the_mart_the_summary_stays(tmp_path: Path) -> None:
    db = tmp_path / "n.duckdb"
    create_marts(db, [cost_alert("c1")])
    backend = DuckDBBackend(db, "main_marts", "main_alerting", read_only=True)
    try:
        [alert] = attach_causes(backend, [cost_alert("c1")])
    finally:
        backend.close()
    assert alert.decomposition == () and alert.drivers == ()


def test_failure_spike_names_the_endpoint_not_the_cost_noise(tmp_path: Path) -> None:
    # issue 20: an API failure spike (99 % of the failed requests on one endpoint) was posted as
    # "Cause: idle ... driven by gpu type H100" - the day's cost noise - and never named the endpoint
    db = tmp_path / "f.duckdb"
    alert = cost_alert(
        "f1", metric="failure_rate", rule="cost_zscore", unit="ratio", is_incident_primary=True,
        current_value=0.31, baseline_mean=0.08, drivers_summary=None,
    )  # fmt: skip
    create_marts(db, [alert])
    con = duckdb.connect(str(db))
    con.execute(f"create table main_marts.fct_gpu_cost_decomposition ({COLUMNS})")
    con.executemany(
        INSERT,
        [total("api", "idle", 3.0, 5.0), total("api", "request_volume", 2.0, 5.0, 101.0, 100.0),
         detail("api", "idle", "gpu_type", "H100", 3.0, 5.0)],
    )  # fmt: skip
    add_drivers(con, [
        ("f1", "endpoint", "/v1/image-to-video", 101.0, 2.0, 99.0, 0.99, 1, "count", "failed_requests"),
        ("f1", "endpoint", "/v1/text-to-video", 3.0, 2.0, 1.0, 0.01, 2, "count", "failed_requests"),
    ])  # fmt: skip
    con.close()
    with_cause, cause = explained(db, alert)
    assert with_cause.decomposition == ()
    assert cause.startswith("Drivers: /v1/image-to-video (endpoint): 101 vs 2 expected (+99, 99% of change)"), cause
    assert "idle" not in cause and "H100" not in cause


def test_an_inference_cost_headline_is_explained_by_its_requests(tmp_path: Path) -> None:
    """Year 9, Studio, 2026-12-01: inference cost +30.8 % (WARNING) was explained by the infrastructure total,
    "idle +$36.43 (48% of the change)" first. Its cause is its requests: volume and cost per request, as shares of
    the inference change they add up to (20.98 + 5.12 = 26.10 = 110.90 - 84.80); a process holding 14.00 of it
    (54 %) is named, which at 19 % of the infrastructure change it was not."""
    db = tmp_path / "i.duckdb"
    alert = cost_alert("i1", scope="studio", team="engineering", metric="inference_cost", drivers_summary=None)
    create_marts(db, [alert])
    con = duckdb.connect(str(db))
    con.execute(f"create table main_marts.fct_gpu_cost_decomposition ({COLUMNS}, baseline_cost double)")
    infra = 75.54
    rows = [
        total("studio", "idle", 36.43, infra), total("studio", "unused", 7.81, infra),
        total("studio", "overhead", 5.20, infra),
        total("studio", "request_volume", 20.98, infra, 1558.0, 1249.0), total("studio", "request_rate", 5.12, infra),
        detail("studio", "request_volume", "process", "video_generation", 14.0, infra),
        detail("studio", "idle", "gpu_type", "H100", 23.68, infra),
    ]  # fmt: skip
    inference_base = {"request_volume": 84.80, "request_rate": 84.80}
    con.executemany(
        INSERT.replace(", ?)", ", ?, ?)"),
        [(*r, inference_base.get(r[2]) if r[3] == "total" else None) for r in rows],
    )
    add_drivers(con, [("i1", "process", "video_generation", 50.0, 36.0, 14.0, 0.54, 1, "usd", "inference_cost")])
    con.close()
    cause = explained(db, alert)[1]
    assert cause == (
        "Cause: inference cost +$26.10 (+30.8%) vs 7-day average $84.80: requests +24.7% (+$20.98, 80% of the change);"
        " cost per request +$5.12 (20% of the change);"
        " driven by process video_generation +$14.00 (54% of the change)"
    ), cause


# year 4, Studio, Saturday 2026-01-10: infrastructure cost $244.05 against $210.87 "expected after a typical Saturday
# change" (WARNING increase: it fell less than Saturdays do); against the previous day every cost category fell
# (-113.54 of 357.59) and against the 7-day average every component did (-93.85)
SATURDAY = [("overhead", 19.03, 27.09), ("unused", 28.54, 40.63), ("inference", 63.28, 100.26),
            ("idle", 133.20, 189.61)]  # fmt: skip
SATURDAY_PARTS = [("idle", -49.38), ("request_rate", -1.46), ("unused", -10.58), ("request_volume", -25.37),
                  ("overhead", -7.05)]  # fmt: skip


def transition_cause(tmp_path: Path, direction: str, sign: float, previous_day_sign: float) -> str:
    """The Saturday's marts with every delta times `sign` (the decomposition) and `previous_day_sign` (the drivers
    by cost category against the previous day), for an alert of `direction` against the typical transition."""
    db = tmp_path / "t.duckdb"
    alert = cost_alert(
        "t1", scope="studio", team="studio", metric="infra_cost", rule="day_over_day_jump", direction=direction,
        baseline_kind="same_weekday_transition", threshold_kind="fraction_change", threshold=0.1,
        current_value=244.05, baseline_mean=210.87, pct_change=244.05 / 210.87 - 1, drivers_summary=None,
    )  # fmt: skip
    create_marts(db, [alert])
    con = duckdb.connect(str(db))
    con.execute(f"create table main_marts.fct_gpu_cost_decomposition ({COLUMNS})")
    change = sign * sum(delta for _, delta in SATURDAY_PARTS)
    con.executemany(INSERT, [total("studio", part, sign * delta, change) for part, delta in SATURDAY_PARTS])
    con.execute(f"create table main_marts.fct_gpu_cost_alert_drivers ({DRIVERS}, baseline_kind varchar)")
    con.executemany(
        f"insert into main_marts.fct_gpu_cost_alert_drivers values ({', '.join('?' * 11)})",
        [("t1", "cost_category", name, base + previous_day_sign * (now - base), base,
          previous_day_sign * (now - base), None, rank, "usd", "infra_cost", "previous_day")
         for rank, (name, now, base) in enumerate(SATURDAY, 1)],
    )  # fmt: skip
    con.close()
    return explained(db, alert)[1]


def test_a_cause_that_fell_does_not_explain_a_rise(tmp_path: Path) -> None:
    """Both causes ran the other way: the line says so with the previous day's numbers (-113.54 / 357.59 =
    -31.8 %), instead of 'Cause: infrastructure cost -$93.85 (-27.5%) vs 7-day average ...' under an increase."""
    weekday = f"{COST_DAY:%A}"
    assert transition_cause(tmp_path, "increase", 1.0, 1.0) == (
        "Cause: no part rose: infrastructure cost -$113.54 (-31.8%) vs previous day $357.59;"
        f" high only against expected after a typical {weekday} change"
    )
    (tmp_path / "down").mkdir()  # the mirror: a decrease whose parts all rose
    assert transition_cause(tmp_path / "down", "decrease", -1.0, -1.0) == (
        "Cause: no part fell: infrastructure cost +$113.54 (+31.8%) vs previous day $357.59;"
        f" low only against expected after a typical {weekday} change"
    )


def test_a_cause_that_moved_the_alerts_way_is_kept(tmp_path: Path) -> None:
    """The other side of the sign: the previous day's categories rose, so they are the cause; the decomposition
    (fell against the 7-day average) is still left out. Both rising: the decomposition leads, as it always did."""
    drivers = transition_cause(tmp_path, "increase", 1.0, -1.0)
    assert drivers.startswith("Drivers: overhead (cost_category): $35.15 vs $27.09 (+$8.06"), drivers
    (tmp_path / "both").mkdir()
    both = transition_cause(tmp_path / "both", "increase", -1.0, -1.0)
    assert both.startswith("Cause: infrastructure cost +$93.84 (+31.3%) vs 7-day average $300.00: idle +$49.38"), both
