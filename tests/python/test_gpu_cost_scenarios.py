"""The cost scenarios of issue 12 on generated data: weekly seasonality, a one-org one-endpoint
volume spike and a Studio idle spike on the same Monday, an API outage day (idle, no traffic).
The decomposition names the organisation / endpoint for the volume spike and only idle for the
Studio spike; the outage day builds (the attribution invariants account for idle no request can
carry) and keeps metric rows; ordinary Mondays do not jump against the weekday-aware
day-over-day baseline while the raw day-over-day does."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.python.conftest import BIN, dbt_env, failure_summary, run

pytestmark = pytest.mark.dbt

END = dt.date(2026, 11, 22)  # a Sunday
SPIKE_MONDAY = dt.date(2026, 11, 16)
OUTAGE = dt.date(2026, 11, 5)  # a Thursday


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scenarios")
    raw, db = root / "raw", root / "db.duckdb"
    args = ["--seed", "5", "--end-date", END.isoformat(), "--days", "77", "--users", "300"]
    args += ["--gpu-requests-per-day", "600", "--cost-anomalies", "0", "--gpu-weekend-factor", "studio=0.6"]
    args += ["--org-volume-spike", SPIKE_MONDAY.isoformat(), "--studio-idle-spike", SPIKE_MONDAY.isoformat()]
    args += ["--api-outage", OUTAGE.isoformat()]
    res = run([str(BIN / "python"), "-m", "ltx_synth", "--out", str(raw), *args])
    assert res.returncode == 0, res.stderr
    res = run(
        [str(BIN / "dbt"), "build", "--target", "duckdb", "--vars", "{run_date: '2026-11-25'}"], env=dbt_env(raw, db)
    )
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    return db


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_volume_spike_is_request_volume_named_by_org_and_endpoint(built: Path) -> None:
    rows = dict(
        (ctype, (contributor, share))
        for ctype, contributor, share in _rows(
            built,
            """select contributor_type, contributor, share_of_change from main_marts.fct_gpu_cost_decomposition
               where dt = ? and vertical = 'api' and component = 'request_volume' and contributor_rank = 1""",
            [SPIKE_MONDAY],
        )
    )
    cause = _rows(
        built,
        """select component from main_marts.fct_gpu_cost_decomposition
           where dt = ? and vertical = 'api' and component_rank = 1""",
        [SPIKE_MONDAY],
    )
    assert cause == [("request_volume",)]
    assert rows["organization"][0] == "Pixel Forge" and rows["organization"][1] > 0.5
    assert rows["endpoint"][0] == "/v1/image-to-video" and rows["endpoint"][1] > 0.5


def test_studio_idle_spike_blames_idle_and_no_process(built: Path) -> None:
    total = dict(
        _rows(
            built,
            """select component, share_of_change from main_marts.fct_gpu_cost_decomposition
               where dt = ? and vertical = 'studio' and contributor_type = 'total'""",
            [SPIKE_MONDAY],
        )
    )
    assert total["idle"] > 0.9
    assert abs(total["request_volume"]) < 0.1 and abs(total["request_rate"]) < 0.1
    biggest_process = _rows(
        built,
        """select max(abs(share_of_change)) from main_marts.fct_gpu_cost_decomposition
           where dt = ? and vertical = 'studio' and contributor_type in ('process', 'model')""",
        [SPIKE_MONDAY],
    )[0][0]
    assert biggest_process < 0.1


def test_outage_day_builds_and_keeps_metric_rows(built: Path) -> None:
    daily = _rows(
        built,
        """select requests, inference_rows, idle_cost, unattributed_idle_cost
           from main_marts.fct_gpu_cost_daily where dt = ? and vertical = 'api'""",
        [OUTAGE],
    )
    requests, inference_rows, idle, unattributed = daily[0]
    assert requests == 0 and inference_rows == 0 and idle > 0
    assert unattributed == pytest.approx(idle)
    metrics = dict(
        _rows(
            built,
            """select metric, z_score from main_intermediate.int_gpu_costs__metric_baselines
               where dt = ? and vertical = 'api' and metric in ('idle_share_of_infra', 'unattributed_idle_cost')""",
            [OUTAGE],
        )
    )
    assert set(metrics) == {"idle_share_of_infra", "unattributed_idle_cost"}
    assert metrics["idle_share_of_infra"] > 3  # the share jumps (rolling baseline)
    assert (
        _rows(
            built,
            "select count(*) from main_marts.fct_gpu_cost_decomposition where dt = ? and vertical = 'api'",
            [OUTAGE],
        )[0][0]
        > 5
    )


def test_ordinary_mondays_jump_raw_but_not_against_the_weekday_transition(built: Path) -> None:
    raw_jumps, weekday_jumps, evaluated = _rows(
        built,
        """select count(*) filter (where (value - previous_day_value) / previous_day_value > 0.15),
                  count(*) filter (where dod_change_vs_expected > 0.15),
                  count(dod_change_vs_expected)
           from main_intermediate.int_gpu_costs__metric_baselines
           where metric = 'infra_cost' and vertical = 'studio' and dayofweek(dt) = 1 and dt != ?""",
        [SPIKE_MONDAY],
    )[0]
    assert evaluated >= 4
    assert raw_jumps >= evaluated  # Studio weekends at 60 %: every Monday jumps > 15 % raw
    assert weekday_jumps == 0
    spike = _rows(
        built,
        """select dod_change_vs_expected from main_intermediate.int_gpu_costs__metric_baselines
           where metric = 'infra_cost' and vertical = 'studio' and dt = ?""",
        [SPIKE_MONDAY],
    )[0][0]
    assert spike > 0.15  # the real Monday spike still stands out
