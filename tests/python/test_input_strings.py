"""Strings that reach the dbt SQL from outside (issue 25, weak items): the raw directory
(LTX_RAW_DIR), the run_date var and hand-edited mute rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.python.conftest import BIN, NO_UNIT_TESTS, REPO, dbt_env, failure_summary, run
from tests.python.raw_input_support import copy_raw

pytestmark = pytest.mark.dbt

PROJECT_FILES = ("dbt_project.yml", "selectors.yml", "profiles.yml", "macros", "models", "seeds", "tests/dbt")


def test_a_raw_directory_with_a_quote_is_read_as_written(small_raw: Path, tmp_path: Path) -> None:
    raw = copy_raw(small_raw, tmp_path / "o'brien; drop table x" / "raw")
    db = tmp_path / "q.duckdb"
    cmd = [str(BIN / "dbt"), "build", "--target", "duckdb", "--vars", "{run_date: 2026-11-23}", *NO_UNIT_TESTS]
    res = run([*cmd, "-s", "stg_web__user_days", "stg_enterprise__users"], env=dbt_env(raw, db))
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    with duckdb.connect(str(db), read_only=True) as con:
        (days,) = con.execute("select count(distinct dt) from main_staging.stg_web__user_days").fetchone()
    assert days == 30


@pytest.mark.parametrize("value", ["2026-11-23' or true --", "2026-02-30"])
def test_a_run_date_that_is_not_a_calendar_date_is_refused_before_any_sql(value: str, tmp_path: Path) -> None:
    vars_ = json.dumps({"run_date": value})
    cmd = [str(BIN / "dbt"), "compile", "--target", "duckdb", "-s", "stg_web__user_days", "--vars", vars_]
    res = run(cmd, env=dbt_env(tmp_path / "raw", tmp_path / "x.duckdb"))
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-2000:]
    assert "var run_date must be a" in out and value in out, out[-2000:]


def _project_copy(dst: Path) -> Path:
    for name in PROJECT_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name)
        else:
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dst / name)
    return dst


def test_mute_rows_with_windows_line_endings_load_and_a_typo_is_named(tmp_path: Path) -> None:
    project = _project_copy(tmp_path / "project")
    with (project / "seeds" / "alert_mutes.csv").open("ab") as f:
        f.write(b"free,tokens,usage_zscore,2026-02-01,2026-02-02,appended on Windows,me\r\n")
        f.write(b"free,tokns,usage_zscore,2026-02-01,2026-02-02,a typo,me\r\n")
    db = tmp_path / "m.duckdb"
    env = {**dbt_env(tmp_path / "raw", db), "DBT_PROFILES_DIR": str(project)}
    cmd = [str(BIN / "dbt"), "build", "--target", "duckdb", "--project-dir", str(project)]
    res = run([*cmd, "-s", "alert_mutes", "warn_alert_mutes_match_known_values"], env=env)
    out = res.stdout + res.stderr
    assert res.returncode == 0, failure_summary(out)
    assert any("WARN 1" in line and "warn_alert_mutes_match_known_values" in line for line in out.splitlines()), out
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select metric, reason from main_seeds.alert_mutes where created_by = 'me'").fetchall()
    assert sorted(rows) == [("tokens", "appended on Windows"), ("tokns", "a typo")]
