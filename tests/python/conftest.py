from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
# The end-to-end builds leave out dbt's unit tests: they check the SQL on fixed fixture rows,
# whatever the raw input, vars or time zone, and `make test-dbt` runs every one of them. Each
# build here is about its data (a third of a small build's time went to the 32 unit tests).
NO_UNIT_TESTS = ["--exclude", "test_type:unit"]


def dbt_env(raw_dir: Path, duckdb_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DO_NOT_TRACK="1",
        DBT_PROFILES_DIR=str(REPO),
        LTX_RAW_DIR=str(raw_dir),
        LTX_DUCKDB_PATH=str(duckdb_path),
        LTX_DBT_TARGET="duckdb",
    )
    return env


def run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def failure_summary(output: str, context: int = 12) -> str:
    """The lines of a dbt log that say what failed (with what follows), or its tail."""
    lines = output.splitlines()
    picked: list[str] = []
    for i, line in enumerate(lines):
        if "Failure in" in line or "Error in" in line or " ERROR " in line:
            picked.extend(lines[i : i + context])
    return "\n".join(picked)[-6000:] or output[-4000:]


def generate(out: Path, *extra: str) -> None:
    """Write a small synthetic raw set under ``out``."""
    args = [
        "--seed",
        "3",
        "--end-date",
        "2026-11-22",
        "--days",
        "30",
        "--users",
        "400",
        "--gpu-requests-per-day",
        "60",
        *extra,
    ]
    res = run([str(BIN / "python"), "-m", "ltx_synth", "--out", str(out), *args])
    assert res.returncode == 0, res.stderr


@pytest.fixture(scope="session")
def test_duckdb() -> Path:
    """The DuckDB file built by `make test-dbt` (skips nothing: fails when absent)."""
    path = Path(os.environ.get("LTX_TEST_DUCKDB", REPO / "data/test/ltx_monitoring.duckdb"))
    if not path.is_absolute():
        path = REPO / path
    assert path.exists(), f"{path} missing: run `make test` (it builds it before pytest)"
    return path


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """generate()'s small set (30 days up to 2026-11-22, 400 users), written once per session.

    Shared: read it as it is, or copy it (raw_input_support.copy_raw) before changing anything.
    """
    out = tmp_path_factory.mktemp("small") / "raw"
    generate(out)
    return out


@pytest.fixture(scope="session")
def small_reference_db(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small set's marts: `dbt build --full-refresh`, run date pinned, built in UTC, once per session.

    Tests compare their builds with it or read it; one that builds on top of it copies it first.
    """
    from tests.python.raw_input_support import build  # that module imports this one

    db = tmp_path_factory.mktemp("small_ref") / "ref.duckdb"
    res = build(small_raw, db, {"TZ": "UTC"})
    assert res.returncode == 0, failure_summary(res.stdout + res.stderr)
    return db
