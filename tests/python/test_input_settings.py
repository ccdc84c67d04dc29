"""Settings that reach the warehouse are validated (issue 25, weak items): timeouts from the
environment, an unreachable BigQuery endpoint, the default `--date` in UTC."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time

import pytest

from alerting.cli import utc_yesterday
from alerting.warehouse import MAX_LOCK_TIMEOUT_S, WarehouseError, config_from_env
from tests.python.conftest import BIN, REPO


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "-1", "0", "1e9", "soon"])
def test_a_lock_timeout_that_is_not_a_finite_positive_bounded_number_is_refused_by_name(value: str) -> None:
    with pytest.raises(WarehouseError, match="LTX_DUCKDB_LOCK_TIMEOUT"):
        config_from_env("duckdb", {"LTX_DUCKDB_LOCK_TIMEOUT": value})


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-5"])
def test_a_bigquery_timeout_is_validated_the_same_way(value: str) -> None:
    with pytest.raises(WarehouseError, match="LTX_BQ_TIMEOUT"):
        config_from_env("bigquery", {"LTX_BQ_TIMEOUT": value})


def test_valid_timeouts_and_defaults() -> None:
    assert config_from_env("duckdb", {"LTX_DUCKDB_LOCK_TIMEOUT": "0.5"}).timeout_s == 0.5
    limit = str(MAX_LOCK_TIMEOUT_S)
    assert config_from_env("duckdb", {"LTX_DUCKDB_LOCK_TIMEOUT": limit}).timeout_s == MAX_LOCK_TIMEOUT_S
    assert config_from_env("bigquery", {"LTX_BQ_TIMEOUT": "7"}).timeout_s == 7.0
    assert config_from_env("duckdb", {}).timeout_s == 600.0


def test_an_unreachable_bigquery_endpoint_fails_fast_with_one_line_and_exit_2() -> None:
    env = {
        **os.environ,
        "LTX_BQ_PROJECT": "p",
        "LTX_BQ_API_ENDPOINT": "http://127.0.0.1:9",  # nothing listens on the discard port
        "LTX_BQ_TIMEOUT": "3",
    }
    started = time.monotonic()
    res = subprocess.run(
        [str(BIN / "python"), "-m", "alerting", "run", "--target", "bigquery", "--dry-run", "--date", "2026-11-22"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,  # the client's own default retried for 600 s
    )
    assert time.monotonic() - started < 60
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr, res.stderr[-2000:]
    errors = [line for line in res.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "BigQuery unreachable" in errors[0] and "LTX_BQ_TIMEOUT" in errors[0], res.stderr


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 20:00 in New York on 11-22 is 01:00 UTC on 11-23: dbt's run date is 11-23, yesterday 11-22
        (dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), dt.date(2026, 11, 22)),
        # 01:00 in Tokyo on 11-23 is 16:00 UTC on 11-22: yesterday is 11-21, as for dbt
        (dt.datetime(2026, 11, 23, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=9))), dt.date(2026, 11, 21)),
        (dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC), dt.date(2026, 11, 22)),
    ],
)
def test_the_default_date_is_yesterday_in_utc_whatever_the_machine_zone(now: dt.datetime, expected: dt.date) -> None:
    assert utc_yesterday(now) == expected


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])
def test_the_cli_default_date_uses_utc_not_the_local_zone(zone: str) -> None:
    """UTC+14 (Kiribati) and UTC-12: at any hour of the day one of them has another local date than UTC."""
    env = {**os.environ, "TZ": zone}
    res = subprocess.run(
        [str(BIN / "python"), "-m", "alerting", "run", "--help"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    expected = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert f"(default: yesterday: {expected.isoformat()})" in " ".join(res.stdout.split()), res.stdout
