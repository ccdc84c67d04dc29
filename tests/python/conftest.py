from __future__ import annotations

import fcntl
import hashlib
import os
import pprint
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
# The end-to-end builds leave out dbt's unit tests: they check the SQL on fixed fixture rows,
# whatever the raw input, vars or time zone, and `make test-dbt` runs every one of them. Each
# build here is about its data (a third of a small build's time went to the 32 unit tests).
NO_UNIT_TESTS = ["--exclude", "test_type:unit"]
# models and seeds only: for tests that compare what two builds made (the data tests run on the
# test set in `make test-dbt`, and a failing one would only skip models the comparison then misses)
MODELS_ONLY = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
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
    fixed = fixed_paths(cmd, env) if env is not None and cmd[0] in (str(BIN / "dbt"), "make") else None
    try:
        return subprocess.run(cmd, cwd=REPO, env=fixed or env, capture_output=True, text=True, timeout=900)
    finally:
        if fixed and env:
            unlink_fixed(REPO / env["LTX_DUCKDB_PATH"])


# dbt parses the whole project anew (8 s of CPU, more than most builds here take) unless the
# partial-parse file in its target folder was written under the same profile (the DuckDB path is
# in it), the same --vars and --target, and the same LTX_RAW_DIR (sources.yml reads it, and every
# model hangs off a source). So run() gives each worker's dbt fixed paths: the DuckDB file through
# a hard link (through a symlink DuckDB would name its catalog after the target, not the profile's
# path), the raw folder through a symlink, and a target folder per --vars / --target / TZ (per
# command line for `make build`). A path with other characters than these, or a command with its
# own project or target folder, is run as it is: the test is then about that.
PLAIN_PATH = re.compile(r"[\w./-]+")
FIXED = REPO / "target" / f"pytest-{WORKER}"
FIXED_DB, FIXED_RAW = FIXED / "db" / "ltx_monitoring.duckdb", FIXED / "raw"


def fixed_paths(cmd: list[str], env: dict[str, str]) -> dict[str, str] | None:
    """dbt's env on the worker's fixed paths, or None where the command needs its own."""
    if "LTX_DUCKDB_PATH" not in env or "LTX_RAW_DIR" not in env:
        return None
    db, raw = REPO / env["LTX_DUCKDB_PATH"], REPO / env["LTX_RAW_DIR"]  # relative: to dbt's working dir
    own_project = "--project-dir" in cmd or "--target-path" in cmd or env.get("DBT_PROFILES_DIR") != str(REPO)
    own_project |= env.get("DBT_TARGET_PATH") != f"target/pytest-{WORKER}"
    if own_project or not all(PLAIN_PATH.fullmatch(str(p)) for p in (db, raw)) or not db.parent.is_dir():
        return None
    FIXED_DB.parent.mkdir(parents=True, exist_ok=True)
    FIXED_DB.unlink(missing_ok=True)
    try:
        if db.exists():
            os.link(db, FIXED_DB)
    except OSError:  # on another file system: no hard link
        return None
    move_wal(db, FIXED_DB)
    FIXED_RAW.unlink(missing_ok=True)
    FIXED_RAW.symlink_to(raw)
    dbt_args = cmd if cmd[0] == "make" else [vars_key(cmd), *flag_value(cmd, "--target")]
    key = "\0".join([*dbt_args, env.get("TZ", "")])
    target = FIXED / hashlib.sha256(key.encode()).hexdigest()[:12]
    paths = {"LTX_DUCKDB_PATH": str(FIXED_DB), "LTX_RAW_DIR": str(FIXED_RAW), "DBT_TARGET_PATH": str(target)}
    return {**env, **paths}


def unlink_fixed(db: Path) -> None:
    """After dbt: the file it made is at ``db``, and a WAL left by a killed dbt beside it."""
    if FIXED_DB.exists() and not db.exists():
        os.link(FIXED_DB, db)
    move_wal(FIXED_DB, db)
    FIXED_DB.unlink(missing_ok=True)


def move_wal(src: Path, dst: Path) -> None:
    """DuckDB's write-ahead log is named after the path it opened: it follows the file."""
    wal = src.with_name(src.name + ".wal")
    if wal.exists():
        wal.replace(dst.with_name(dst.name + ".wal"))


def vars_key(cmd: list[str]) -> str:
    """The command's --vars as dbt compares them for a partial parse (the YAML's value, printed with its
    keys sorted): `{a: 1, b: 2}` and `{"b": 2, "a": 1}` share a parse; `{d: 2026-11-23}` (a date) and
    `{d: '2026-11-23'}` do not."""
    return pprint.pformat(yaml.safe_load(cmd[cmd.index("--vars") + 1])) if "--vars" in cmd else ""


def flag_value(cmd: list[str], flag: str) -> list[str]:
    return cmd[cmd.index(flag) : cmd.index(flag) + 2] if flag in cmd else []


def make_build(raw_dir: Path, duckdb_path: Path) -> subprocess.CompletedProcess[str]:
    """`make build` on one raw set: `-o` takes the venv the tests run from as up to date (a test
    never re-creates it), and dbt leaves out its unit tests (NO_UNIT_TESTS: test-dbt runs them)."""
    env = {**dbt_env(raw_dir, duckdb_path), "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
    return run(["make", "--no-print-directory", "-o", ".venv/.installed", "build"], env=env)


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
