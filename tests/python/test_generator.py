"""The synthetic generator: deterministic, §3.2-shaped, invariants hold, labelled anomalies."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from ltx_synth.generate import (
    ENTERPRISE_SCHEMA,
    GPU_SCHEMA,
    USAGE_SCHEMA,
    Config,
    generate,
)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.parquet")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("raw")
    cfg = Config(seed=11, end_date=dt.date(2026, 11, 22), days=84, users=1500, gpu_requests_per_day=120)
    return out, generate(cfg, out)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    cfg = Config(seed=5, end_date=dt.date(2026, 3, 1), days=10, users=300, gpu_requests_per_day=40)
    generate(cfg, tmp_path / "a")
    generate(cfg, tmp_path / "b")
    generate(Config(**{**cfg.__dict__, "seed": 6}), tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_files_have_the_contract_schema(raw: tuple[Path, dict]) -> None:
    root, _ = raw
    expected = {
        "ltxstudio_agg_user_date": USAGE_SCHEMA,
        "enterprise_users": ENTERPRISE_SCHEMA,
        "gpu_request_attribution_and_cost": GPU_SCHEMA,
    }
    for sub, schema in expected.items():
        files = sorted((root / sub).glob("*.parquet"))
        assert files, sub
        assert pq.read_schema(files[0]).remove_metadata() == schema


def test_usage_shape(raw: tuple[Path, dict]) -> None:
    root, summary = raw
    con = duckdb.connect()
    usage = f"read_parquet('{root}/ltxstudio_agg_user_date/*.parquet')"
    ent = f"read_parquet('{root}/enterprise_users/*.parquet')"
    n, days, dup = con.execute(
        f"select count(*), count(distinct dt), count(*) - count(distinct (dt, lt_id)) from {usage}"
    ).fetchone()
    assert n == summary["user_day_rows"] and days == 84 and dup == 0
    tiers = {r[0] for r in con.execute(f"select distinct griffin_tier_name from {usage}").fetchall()}
    assert {"Free", "Lite", "Standard", "Pro", None} <= tiers
    orgs = dict(con.execute(f"select organization_name, count(*) from {ent} group by 1").fetchall())
    assert {"McCann", "Lightricks", "Popular Pays"} <= set(orgs)
    teams = {
        r[0] for r in con.execute(f"select distinct team_name from {ent} where organization_name = 'McCann'").fetchall()
    }
    assert teams == {"NY", "Paris"}
    pilots = con.execute(f"select count(distinct organization_id) from {ent} where contract_type = 'pilot'").fetchone()[
        0
    ]
    assert pilots >= 1
    # weekly seasonality: weekends lower overall, enterprise near zero
    weekday, weekend = con.execute(
        f"""select avg(n) filter (where dow not in (0, 6)), avg(n) filter (where dow in (0, 6))
            from (select dt, dayofweek(dt) as dow, count(*) as n from {usage} group by all)"""
    ).fetchone()
    assert weekend < 0.8 * weekday
    ent_weekday, ent_weekend = con.execute(
        f"""select avg(n) filter (where dow not in (0, 6)), coalesce(avg(n) filter (where dow in (0, 6)), 0)
            from (select dt, dayofweek(dt) as dow, count(*) as n from {usage} u
                  join {ent} e using (lt_id) group by all)"""
    ).fetchone()
    assert ent_weekend < 0.15 * ent_weekday


def test_gpu_attribution_invariant_and_shape(raw: tuple[Path, dict]) -> None:
    root, _ = raw
    con = duckdb.connect()
    gpu = f"read_parquet('{root}/gpu_request_attribution_and_cost/*.parquet')"
    worst = con.execute(
        f"""select max(abs(attr_idle - idle)), max(abs(attr_over - overhead)), min(idle), min(overhead)
            from (select dt, vertical,
                    sum(attributed_idle_cost) filter (where cost_category = 'inference') as attr_idle,
                    sum(row_cost) filter (where cost_category = 'idle') as idle,
                    sum(attributed_overhead_cost) filter (where cost_category = 'inference') as attr_over,
                    sum(row_cost) filter (where cost_category = 'overhead') as overhead
                  from {gpu} group by all)"""
    ).fetchone()
    assert worst[0] < 1e-9 and worst[1] < 1e-9 and worst[2] > 0 and worst[3] > 0
    cats = dict(con.execute(f"select cost_category, count(*) from {gpu} group by 1").fetchall())
    assert set(cats) == {"inference", "idle", "overhead", "unused"}
    bad = con.execute(
        f"""select count(*) from {gpu} where (cost_category = 'inference') != (request_id is not null)
            or (cost_category != 'inference' and (attributed_idle_cost != 0 or attributed_overhead_cost != 0))"""
    ).fetchone()[0]
    assert bad == 0
    results = dict(con.execute(f"select result, count(*) from {gpu} where result is not null group by 1").fetchall())
    assert set(results) == {"success", "failed", "timeout"}
    lt_share = con.execute(f"select avg(is_lt_team::int) from {gpu} where cost_category = 'inference'").fetchone()[0]
    assert 0.01 < lt_share < 0.15


def test_a_gpu_type_without_requests_leaves_its_idle_unattributed_not_nan(tmp_path: Path) -> None:
    """At a few requests a day some days have no request on one GPU type: its idle and overhead were divided by a
    zero weight and every request of the day got NaN attributed costs. They stay with the idle rows instead."""
    generate(Config(seed=3, end_date=dt.date(2026, 11, 22), days=364, users=100, gpu_requests_per_day=3), tmp_path)
    gpu = f"read_parquet('{tmp_path}/gpu_request_attribution_and_cost/*.parquet')"
    con = duckdb.connect()
    missing = con.execute(
        f"""select count(*) from (select dt, vertical, count(distinct gpu_type) filter (where cost_category = 'idle')
                > count(distinct gpu_type) filter (where cost_category = 'inference') as lacking
              from {gpu} group by all) where lacking"""
    ).fetchone()[0]
    assert missing > 0  # the case happens in this data
    nan, over = con.execute(
        f"""select count(*) filter (where isnan(attributed_idle_cost) or isnan(attributed_overhead_cost)),
                   count(*) filter (where attr > idle + 1e-9)
            from {gpu} join (select dt, vertical, sum(attributed_idle_cost) filter (where cost_category = 'inference')
                               as attr, sum(row_cost) filter (where cost_category = 'idle') as idle
                             from {gpu} group by all) using (dt, vertical)"""
    ).fetchone()
    assert nan == 0 and over == 0


def test_ground_truth_lists_the_injected_anomalies(raw: tuple[Path, dict]) -> None:
    root, summary = raw
    truth = json.loads((root / "ground_truth.json").read_text())
    assert truth["usage_anomalies"] == summary["usage_anomalies"] and len(truth["usage_anomalies"]) == 8
    assert len(truth["gpu_cost_anomalies"]) >= 2
    first_scorable = dt.date(2026, 11, 22) - dt.timedelta(days=84 - 1 - 70)
    for a in truth["usage_anomalies"]:
        assert dt.date.fromisoformat(a["dt"]) >= first_scorable  # a full 10-week baseline exists
        assert a["direction"] in ("increase", "decrease")
    con = duckdb.connect()
    # a tokens anomaly really moves the segment's tokens on that day
    spike = next((a for a in truth["usage_anomalies"] if a["kind"] == "dau"), None)
    if spike:
        day = dt.date.fromisoformat(spike["dt"])
        usage = f"read_parquet('{root}/ltxstudio_agg_user_date/*.parquet')"
        same_dow = [day - dt.timedelta(days=7 * k) for k in range(0, 4)]
        counts = [con.execute(f"select count(*) from {usage} where dt = ?", [d]).fetchone()[0] for d in same_dow]
        assert counts[0] < max(counts[1:])


@pytest.mark.parametrize(
    ("flag", "check"),
    [
        (
            "duplicate_user_day",
            "select count(*) - count(distinct (dt, lt_id)) from read_parquet('{r}/ltxstudio_agg_user_date/*.parquet')",
        ),
        (
            "negative_cost",
            "select count(*) from read_parquet('{r}/gpu_request_attribution_and_cost/*.parquet') where row_cost < 0",
        ),
        (
            "unknown_cost_category",
            "select count(*) from read_parquet('{r}/gpu_request_attribution_and_cost/*.parquet') "
            "where cost_category not in ('inference', 'idle', 'overhead', 'unused')",
        ),
    ],
)
def test_corruption_switches_corrupt_exactly_one_thing(tmp_path: Path, flag: str, check: str) -> None:
    cfg = Config(seed=1, end_date=dt.date(2026, 2, 1), days=3, users=200, gpu_requests_per_day=30, **{flag: True})
    generate(cfg, tmp_path)
    assert duckdb.connect().execute(check.format(r=tmp_path)).fetchone()[0] == 1


def test_demo_flag_labels_the_last_day_and_the_cost_evaluation_day(tmp_path: Path) -> None:
    end = dt.date(2026, 11, 22)
    cfg = Config(seed=2, end_date=end, days=80, users=400, gpu_requests_per_day=40, anomaly_on_last_day=True)
    truth = generate(cfg, tmp_path)
    last = [a for a in truth["usage_anomalies"] if a["dt"] == end.isoformat()]
    assert len(last) == 1 and last[0]["segment"] == "free" and last[0]["direction"] == "increase"
    cost_day = (end - dt.timedelta(days=2)).isoformat()
    assert [a["kind"] for a in truth["gpu_cost_anomalies"] if a["dt"] == cost_day] == ["idle_spike"]
    plain = generate(Config(**{**cfg.__dict__, "anomaly_on_last_day": False}), tmp_path / "plain")
    assert all(a["dt"] != end.isoformat() for a in plain["usage_anomalies"])


def test_scenario_switches_are_labelled_and_do_what_they_say(tmp_path: Path) -> None:
    end = dt.date(2026, 11, 22)
    monday, outage = dt.date(2026, 11, 16), dt.date(2026, 11, 12)
    cfg = Config(
        seed=4,
        end_date=end,
        days=30,
        users=300,
        gpu_requests_per_day=400,
        cost_anomalies=0,
        gpu_weekend_factor=(("studio", 0.5),),
        org_volume_spike=monday,
        studio_idle_spike=monday,
        api_outage=outage,
        usage_level_shifts=(("free", "tokens", dt.date(2026, 11, 9), 14, 0.5),),
    )
    truth = generate(cfg, tmp_path)
    kinds = {(a["dt"], a["vertical"]): a["kind"] for a in truth["gpu_cost_anomalies"]}
    assert kinds == {
        (monday.isoformat(), "api"): "volume_spike",
        (monday.isoformat(), "studio"): "idle_spike",
        (outage.isoformat(), "api"): "zero_traffic",
    }
    assert truth["usage_level_shifts"] == [
        {
            "start": "2026-11-09",
            "end": "2026-11-22",
            "segment": "free",
            "metric": "tokens",
            "factor": 0.5,
            "direction": "decrease",
        }
    ]
    con = duckdb.connect()
    gpu = f"read_parquet('{tmp_path}/gpu_request_attribution_and_cost/*.parquet')"

    def requests(day: dt.date, vertical: str, where: str = "true") -> int:
        return con.execute(
            f"select count(*) from {gpu} where dt = ? and vertical = ? and cost_category = 'inference' and {where}",
            [day, vertical],
        ).fetchone()[0]

    assert requests(outage, "api") == 0 and requests(outage, "studio") > 0
    idle_rows = con.execute(
        f"select sum(row_cost) from {gpu} where dt = ? and vertical = 'api' and cost_category = 'idle'", [outage]
    ).fetchone()[0]
    assert idle_rows > 0
    spike = "organization_name = 'Pixel Forge' and endpoint = '/v1/image-to-video'"
    assert requests(monday, "api", spike) > 3 * requests(monday - dt.timedelta(days=7), "api", spike)
    # Studio weekends at half the weekday level
    assert requests(dt.date(2026, 11, 15), "studio") < 0.7 * requests(dt.date(2026, 11, 13), "studio")


def test_partial_last_day_keeps_a_fraction_of_the_last_days_users_and_labels_it(tmp_path: Path) -> None:
    end = dt.date(2026, 11, 22)
    cfg = Config(seed=3, end_date=end, days=5, users=2000, gpu_requests_per_day=30)
    full = generate(cfg, tmp_path / "full")
    part = generate(Config(**{**cfg.__dict__, "partial_last_day": 0.4}), tmp_path / "part")
    assert "partial_loads" not in full  # off by default: the default output is unchanged
    assert part["partial_loads"] == [{"dt": "2026-11-22", "source": "usage", "fraction": 0.4}]
    usage = "ltxstudio_agg_user_date"
    for f in sorted((tmp_path / "full").rglob("*.parquet")):
        rel = f.relative_to(tmp_path / "full")
        if rel != Path(usage, f"{end.isoformat()}.parquet"):
            assert f.read_bytes() == (tmp_path / "part" / rel).read_bytes(), rel  # every other file identical
    kept = pq.read_table(tmp_path / "part" / usage / f"{end.isoformat()}.parquet").to_pylist()
    whole = pq.read_table(tmp_path / "full" / usage / f"{end.isoformat()}.parquet").to_pylist()
    # exactly the users whose number mod 100 is below 40, rows unchanged
    assert kept == [r for r in whole if int(r["lt_id"][1:]) % 100 < 40]
    assert 0.3 < len(kept) / len(whole) < 0.5


def test_holidays_behave_like_a_weekend_and_are_listed(tmp_path: Path) -> None:
    # Thursday 2026-11-19 made a holiday: fewer active users than the ordinary Thursday before,
    # about as many as on a weekend; every other day's files are unchanged
    end, holiday = dt.date(2026, 11, 22), dt.date(2026, 11, 19)
    cfg = Config(seed=5, end_date=end, days=14, users=3000, gpu_requests_per_day=60)
    plain = generate(cfg, tmp_path / "plain")
    hol = generate(Config(**{**cfg.__dict__, "holidays": (holiday, dt.date(2025, 1, 1))}), tmp_path / "hol")
    assert "holidays" not in plain
    assert hol["holidays"] == ["2026-11-19"]  # days outside the data are not listed
    usage = tmp_path / "hol" / "ltxstudio_agg_user_date"
    rows = {d: pq.read_table(usage / f"{d.isoformat()}.parquet").num_rows for d in (holiday, dt.date(2026, 11, 12))}
    assert rows[holiday] < 0.8 * rows[dt.date(2026, 11, 12)]
    for f in sorted((tmp_path / "plain").rglob("*.parquet")):
        rel = f.relative_to(tmp_path / "plain")
        if holiday.isoformat() not in rel.name:
            assert f.read_bytes() == (tmp_path / "hol" / rel).read_bytes(), rel


def test_user_growth_adds_newcomers_over_the_period_and_leaves_enterprise_alone(tmp_path: Path) -> None:
    # growth 0.5 a year over 364 days: the regular users who may be active grow 1.5x from the
    # first to the last weeks; the enterprise members are unchanged, and on the first day the
    # users active with growth are the ones active without it, less the newcomers
    cfg = Config(seed=5, end_date=dt.date(2026, 11, 22), days=364, users=3000, gpu_requests_per_day=10)
    grown = generate(Config(**{**cfg.__dict__, "user_growth": 0.5}), tmp_path / "grown")
    assert grown["user_growth"] == 0.5
    con = duckdb.connect()
    users = tmp_path / "grown" / "ltxstudio_agg_user_date"
    members = tmp_path / "grown" / "enterprise_users" / "*.parquet"

    def distinct_users(first: dt.date, enterprise: bool) -> int:
        days = [f"'{users / (first + dt.timedelta(days=d)).isoformat()}.parquet'" for d in range(28)]
        member = "in" if enterprise else "not in"
        [(count,)] = con.sql(
            f"select count(distinct lt_id) from read_parquet([{', '.join(days)}]) "
            f"where lt_id {member} (select lt_id from read_parquet('{members}'))"
        ).fetchall()
        return int(count)

    start, last = dt.date(2025, 11, 24), dt.date(2026, 10, 26)
    regular = distinct_users(last, enterprise=False) / distinct_users(start, enterprise=False)
    enterprise = distinct_users(last, enterprise=True) / distinct_users(start, enterprise=True)
    assert 1.3 < regular < 1.7, regular
    assert 0.9 < enterprise < 1.1, enterprise
    plain = tmp_path / "plain"
    generate(cfg, plain)
    first = f"ltxstudio_agg_user_date/{cfg.start_date.isoformat()}.parquet"
    grown_ids = set(pq.read_table(tmp_path / "grown" / first).column("lt_id").to_pylist())
    plain_ids = set(pq.read_table(plain / first).column("lt_id").to_pylist())
    assert 0 < len(grown_ids) < len(plain_ids)
    assert grown_ids <= plain_ids
