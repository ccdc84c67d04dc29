from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
# The end-to-end builds leave out dbt's unit tests: they check the SQL on fixed fixture rows,
# whatever the raw input, vars or time zone, and `make test-dbt` runs every one of them. Each
# build here is about its data (a third of a small build's time went to the 32 unit tests).
NO_UNIT_TESTS = ["--exclude", "test_type:unit"]
# `make test-python` runs pytest in parallel processes (pytest-xdist workers gw0, gw1, ...). Each
# gives dbt its own target and log folders (relative: inside whichever project dir dbt runs in):
# two dbt commands writing one manifest or partial-parse file at once would corrupt each other's.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


# The files that take longest (`--durations`, 2026-12-06), then every other file that runs dbt, then
# the rest: xdist hands out whole files in this order, so no long file is left to start last while
# the other workers have nothing to do. The order changes no result, only the run's wall time.
LONGEST_FILES = ("test_incremental.py", "test_implausible_values.py", "test_time_zones.py", "test_empty_inputs.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(module: str) -> tuple[int, int]:
        name = module.rsplit("/", 1)[-1]
        if name in LONGEST_FILES:
            return (0, LONGEST_FILES.index(name))
        return (1, 0) if module in runs_dbt else (2, 0)

    runs_dbt = {item.nodeid.split("::")[0] for item in items if item.get_closest_marker("dbt")}
    items.sort(key=lambda item: rank(item.nodeid.split("::")[0]))  # stable: a file keeps its order


def dbt_env(raw_dir: Path, duckdb_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DO_NOT_TRACK="1",
        DBT_PROFILES_DIR=str(REPO),
        LTX_RAW_DIR=str(raw_dir),
        LTX_DUCKDB_PATH=str(duckdb_path),
        LTX_DBT_TARGET="duckdb",
        DBT_TARGET_PATH=f"target/pytest-{WORKER}",
        DBT_LOG_PATH=f"logs/pytest-{WORKER}",
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


def shared_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(path)`` run once per pytest run, whatever the number of xdist workers: the first worker
    to ask makes it under a lock, the others wait and read the same files (a failed make is retried
    by the next one, and fails there the same way)."""
    root = tmp_path_factory.getbasetemp()
    if WORKER != "main":
        root = root.parent  # the run's folder, above every worker's own
    path, done = root / name, root / f"{name}.done"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            make(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """generate()'s small set (30 days up to 2026-11-22, 400 users), written once per run.

    Shared: read it as it is, or copy it (raw_input_support.copy_raw) before changing anything.
    """
    return shared_once(tmp_path_factory, "small_raw", generate)


@pytest.fixture(scope="session")
def small_reference_db(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small set's marts: `dbt build --full-refresh`, run date pinned, built in UTC, once per run.

    Tests compare their builds with it or read it; one that builds on top of it copies it first.
    """
    from tests.python.raw_input_support import build  # that module imports this one

    def make(db: Path) -> None:
        res = build(small_raw, db, {"TZ": "UTC"})
        assert res.returncode == 0, failure_summary(res.stdout + res.stderr)

    return shared_once(tmp_path_factory, "small_ref.duckdb", make)
