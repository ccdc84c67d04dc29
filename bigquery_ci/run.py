"""`make test-bigquery`: the BigQuery path with the real clients against a local emulator.

1. start the emulator (bqemulator, own venv .venv-bq/) on 127.0.0.1, free ports; wait until ready
2. load the raw Parquet set into dt-partitioned BigQuery tables (google-cloud-bigquery)
3. `dbt build --target bigquery_emulator` twice: full build (every model, and every unit test unless
   --no-unit-tests: `make test` leaves them to the pull-request workflow's bigquery-emulator job), then the
   incremental daily run (every model again, and every data test, once, on what it leaves)
4. the marts' partitioning / clustering as the warehouse reports them (tables.get); each contracted
   mart's columns, order and types against its contract (the emulator cannot enforce contracts)
5. materialisation configs + partition pruning (manifest), BigQuery-dialect parse of every
   compiled model and test (sqlglot)
6. `python -m alerting run --target bigquery --dry-run`: the alerting module reads fct_alerts
   through google-cloud-bigquery (and `alerting report --target bigquery` writes the HTML report)
6b. exactly once on BigQuery: delivery-log claims, and two real alerting runs at the same
   moment (to a loopback Slack) post each message once (bigquery_ci/delivery_check.py)
6c. alert_feedback (`alerting serve`'s table): one row per click through a merge (bigquery_ci/feedback_check.py)
7. the same data built on DuckDB; the key marts compared row by row with the emulator's
The emulator is stopped whatever happens. Exit status 0 only if every step passed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq  # type: ignore[import-untyped]
from google.api_core.exceptions import NotFound
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from bigquery_ci import compare, config_check, contract_check, dialect_check
from bigquery_ci.load_raw import load_raw

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
EMULATOR_PYTHON = ROOT / ".venv-bq" / "bin" / "python"
PROJECT = "ltx-local"
DATASET = "ltx_monitoring"
SOURCE_DATASETS = {"LTX_USAGE_DATASET": "web", "LTX_ENTERPRISE_DATASET": "web", "LTX_GPU_COSTS_DATASET": "gpu_costs"}
EMULATOR_TARGET = "bigquery_emulator"
# Each test runs once on the emulator. The full build runs the unit tests (SQL on fixture rows, whatever
# the warehouse holds); the incremental run the data tests, on what the daily run's merges leave: where
# they are right that is what the full build made, and where they are wrong the tests see it there.
FULL_BUILD = ["--exclude-resource-type", "test"]
INCREMENTAL_BUILD = ["--exclude-resource-type", "unit_test"]


class StepFailed(RuntimeError):
    """A check failed; the message says what and where."""


def log(message: str) -> None:
    print(f"[test-bigquery] {message}", flush=True)


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    log(f"--- {name}")
    started = time.monotonic()
    try:
        yield
    finally:
        timings[name] = time.monotonic() - started
        log(f"    {name}: {timings[name]:.1f}s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def emulator(work_dir: Path) -> Iterator[str]:
    """A running emulator on loopback; yields its REST endpoint and always stops it."""
    if not EMULATOR_PYTHON.exists():
        raise StepFailed(f"{EMULATOR_PYTHON} missing: run `make test-bigquery` (it creates .venv-bq/)")
    rest, grpc = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{rest}"
    log_path = work_dir / "emulator.log"
    command = [
        str(EMULATOR_PYTHON), str(ROOT / "bigquery_ci" / "emulator_main.py"), "start",
        "--rest-host", "127.0.0.1", "--rest-port", str(rest),
        "--grpc-host", "127.0.0.1", "--grpc-port", str(grpc),
        "--ephemeral", "--project", PROJECT, "--log-level", "warning", "--no-admin",
    ]  # fmt: skip
    with log_path.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(endpoint, process, log_path)
        log(f"emulator ready at {endpoint} (pid {process.pid}, log {log_path.relative_to(ROOT)})")
        yield endpoint
    finally:
        stop(process)


def wait_ready(endpoint: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StepFailed(f"emulator exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            # our own loopback http:// endpoint, no user input
            with urllib.request.urlopen(f"{endpoint}/readyz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise StepFailed(f"emulator not ready after {timeout_s:.0f}s:\n{log_path.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the emulator's process group (it is ours: started with its own session), then SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log(f"emulator stopped (exit {process.returncode})")


def client(endpoint: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options={"api_endpoint": endpoint},
    )


def last_day(raw_dir: Path) -> dt.date:
    files = sorted((raw_dir / "ltxstudio_agg_user_date").glob("*.parquet"))
    if not files:
        raise StepFailed(f"no raw data under {raw_dir}")
    days: list[dt.date] = [max(pq.read_table(f, columns=["dt"]).column("dt").to_pylist()) for f in files]
    return max(days)


def dbt(args: list[str], env: dict[str, str], log_path: Path) -> None:
    """Run dbt, keep its output in log_path, print the summary (and the errors on failure)."""
    command = [str(BIN / "dbt"), *args, "--no-use-colors"]
    with log_path.open("w") as out:
        result = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    output = log_path.read_text()
    adapter = re.search(r"Registered adapter: \S+", output)
    start = output.rfind("Finished running")
    summary = output[start:] if start >= 0 else output[-4000:]
    print(f"$ dbt {' '.join(args)}   ({adapter.group(0) if adapter else 'adapter not reported'})")
    print(re.sub(r"^\d\d:\d\d:\d\d[ \t]*", "  ", summary.rstrip(), flags=re.MULTILINE), flush=True)
    if result.returncode != 0:
        raise StepFailed(f"dbt {args[0]} failed (exit {result.returncode}); full output in {log_path}")
    deprecations = [line for line in output.splitlines() if "deprecat" in line.lower()]
    if deprecations:  # what the next dbt release refuses (docs/development.md)
        raise StepFailed(
            f"dbt {args[0]} warned of deprecations (full output in {log_path}):\n" + "\n".join(deprecations)
        )


def check_warehouse_tables(bq: bigquery.Client, manifest: dict[str, Any], run_dir: Path) -> None:
    """Partitioning of every incremental model as the warehouse reports it; partition/cluster DDL."""
    problems, found = config_check.ddl_problems(manifest, run_dir)
    for node in config_check.incremental_models(manifest).values():
        table = bq.get_table(f"{node['database']}.{node['schema']}.{node['alias']}")
        wanted = node["config"]["partition_by"] or {}
        partitioning = table.time_partitioning
        if partitioning is None or partitioning.field != wanted.get("field") or partitioning.type_ != "DAY":
            problems.append(f"{node['name']}: table partitioning {partitioning}, config {wanted}")
    for line in found:
        log(f"    {line} (DDL); time partitioning confirmed by tables.get")
    if problems:
        raise StepFailed("partitioning / clustering differ from the configs:\n  " + "\n  ".join(problems))


def check_contracts(bq: bigquery.Client, env: dict[str, str], work_dir: Path, target_dir: Path) -> None:
    """The contracts as production enforces them (manifest of `dbt parse --target bigquery`) vs tables.get."""
    contracts_dir = target_dir / "contracts"
    dbt(
        ["parse", "--target", "bigquery", "--target-path", str(contracts_dir)],
        env,
        work_dir / "dbt_parse_contracts.log",
    )
    manifest = json.loads((ROOT / contracts_dir / "manifest.json").read_text())

    def columns(table: str) -> list[tuple[str, str]] | None:
        try:
            return [(f.name, f.field_type) for f in bq.get_table(table).schema]
        except NotFound:
            return None

    problems, checked = contract_check.problems(manifest, columns, PROJECT)
    for line in checked:
        log(f"    {line}")
    if problems:
        raise StepFailed("tables differ from their contracts:\n  " + "\n  ".join(problems))


def run_checks(manifest: dict[str, Any], compiled_dirs: list[Path]) -> None:
    problems = config_check.materialisation_problems(manifest)
    filter_problems, checked = config_check.partition_filter_problems(manifest)
    for line in checked:
        log(f"    {line}")
    files = [f for d in compiled_dirs for f in dialect_check.compiled_files(d)]
    errors = dialect_check.parse_errors(files)
    log(f"    sqlglot read=bigquery: {len(files) - len(errors)} of {len(files)} compiled files parse")
    problems += filter_problems + [f"{path.relative_to(ROOT)}: not BigQuery SQL: {err}" for path, err in errors.items()]
    if not files:
        problems.append("no compiled SQL found")
    if problems:
        raise StepFailed("BigQuery config / dialect checks failed:\n  " + "\n  ".join(problems))


def run_alerting(env: dict[str, str], day: dt.date) -> None:
    command = [str(BIN / "python"), "-m", "alerting", "run", "--target", "bigquery", "--dry-run", "--date", str(day)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    print(result.stdout[-6000:], result.stderr[-3000:], sep="\n", flush=True)
    if result.returncode != 0:
        raise StepFailed(f"alerting dry run on BigQuery failed (exit {result.returncode})")
    run_report(env, day)


def run_report(env: dict[str, str], day: dt.date) -> None:
    """`python -m alerting report --target bigquery`: the report's mart reads through the BigQuery client."""
    out = ROOT / "data" / "test" / "bigquery" / "report"
    command = [str(BIN / "python"), "-m", "alerting", "report", "--target", "bigquery", "--date", str(day),
               "--out", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    print(result.stdout[-2000:], result.stderr[-3000:], sep="\n", flush=True)
    page = out / "index.html"
    if result.returncode != 0 or not page.exists():
        raise StepFailed(f"alerting report on BigQuery failed (exit {result.returncode})")
    html = page.read_text(encoding="utf-8")
    if 'id="history"' not in html or "<svg" not in html:
        raise StepFailed("the report built from BigQuery lacks its alert history chart")


def rows_bigquery(bq: bigquery.Client, dataset: str, mart: str) -> list[dict[str, Any]] | None:
    try:
        bq.get_table(f"{PROJECT}.{dataset}.{mart}")
    except NotFound:
        return None
    if mart not in compare.KEY_MARTS:  # identifiers cannot be query parameters: only our fixed names
        raise ValueError(mart)
    sql = f"select * from `{PROJECT}.{dataset}.{mart}`"  # noqa: S608 - fixed identifiers, no values
    return [dict(row.items()) for row in bq.query(sql).result()]


def rows_duckdb(path: Path, mart: str) -> list[dict[str, Any]] | None:
    with duckdb.connect(str(path), read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'main_marts' and table_name = ?",
            [mart],
        ).fetchone()
        if not exists or not exists[0]:
            return None
        if mart not in compare.KEY_MARTS:  # identifiers cannot be query parameters: only our fixed names
            raise ValueError(mart)
        cursor = con.execute(f"select * from main_marts.{mart}")  # noqa: S608 - fixed identifiers, no values
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def compare_engines(bq: bigquery.Client, duckdb_path: Path) -> None:
    compared, missing = [], []
    for mart, keys in compare.KEY_MARTS.items():
        left, right = rows_duckdb(duckdb_path, mart), rows_bigquery(bq, f"{DATASET}_marts", mart)
        if left is None and right is None:
            missing.append(mart)
            continue
        if left is None or right is None:
            raise StepFailed(f"{mart} exists on {'bigquery' if left is None else 'duckdb'} only")
        n = compare.compare_mart(mart, keys, left, right)
        if n == 0:
            raise StepFailed(f"{mart} is empty on both engines: nothing was compared")
        compared.append(f"{mart} ({n} rows, grain {', '.join(keys)})")
    for line in compared:
        log(f"    compared: {line}: identical to 1e-9")
    if missing:
        raise StepFailed(f"key marts missing on both engines: {', '.join(missing)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw-dir", type=Path, default=ROOT / "data" / "test" / "raw")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "data" / "bigquery")
    parser.add_argument(
        "--unit-tests",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run dbt's unit tests on the emulator in the full build (default: yes)",
    )
    args = parser.parse_args(argv)
    raw_dir, work_dir = args.raw_dir.resolve(), args.work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the `finally` that stops the emulator

    day = last_day(raw_dir)
    dbt_vars = json.dumps({"run_date": str(day + dt.timedelta(days=1))})
    duckdb_path = work_dir / "duckdb_reference.duckdb"
    target_dir = Path("target") / EMULATOR_TARGET
    timings: dict[str, float] = {}
    started = time.monotonic()
    try:
        with emulator(work_dir) as endpoint:
            env = {
                **os.environ,
                "DO_NOT_TRACK": "1",
                "LTX_BQ_API_ENDPOINT": endpoint,
                "LTX_BQ_PROJECT": PROJECT,
                "LTX_BQ_DATASET": DATASET,
                "LTX_BQ_LOCATION": "US",
                "LTX_SOURCE_PROJECT": PROJECT,
                **SOURCE_DATASETS,
            }
            bq = client(endpoint)
            with step("load raw tables (google-cloud-bigquery, dt-partitioned)", timings):
                loaded = load_raw(bq, raw_dir, PROJECT, SOURCE_DATASETS, require_partition_filter=True)
                log(f"    {loaded} from {raw_dir}")
            full = FULL_BUILD if args.unit_tests else [*FULL_BUILD, "--exclude-resource-type", "unit_test"]
            for run, only in (("full", full), ("incremental", INCREMENTAL_BUILD)):
                with step(f"dbt build ({run})", timings):
                    build = ["build", "--target", EMULATOR_TARGET, "--vars", dbt_vars, *only]
                    dbt([*build, "--target-path", str(target_dir / run)], env, work_dir / f"dbt_build_{run}.log")
            manifest = json.loads((ROOT / target_dir / "incremental" / "manifest.json").read_text())
            with step("partitioning and clustering in the warehouse", timings):
                check_warehouse_tables(bq, manifest, ROOT / target_dir / "full" / "run")
            with step("contracted marts: columns and types as contracted (tables.get)", timings):
                check_contracts(bq, env, work_dir, target_dir)
            with step("materialisation configs, partition pruning, BigQuery dialect", timings):
                run_checks(manifest, [ROOT / target_dir / p / "compiled" for p in ("full", "incremental")])
            with step(f"alerting dry run on BigQuery for {day}", timings):
                run_alerting(env, day)
            with step("delivery log: claims and two parallel alerting runs post once", timings):
                from bigquery_ci.delivery_check import DeliveryCheckFailed, main_check

                try:
                    log(f"    {main_check(endpoint, PROJECT, DATASET)}")
                except DeliveryCheckFailed as exc:
                    raise StepFailed(f"delivery check: {exc}") from None
            with step("alert_feedback: written once per click (merge)", timings):
                from bigquery_ci.feedback_check import FeedbackCheckFailed
                from bigquery_ci.feedback_check import main_check as feedback_check

                try:
                    log(f"    {feedback_check(endpoint, PROJECT, DATASET)}")
                except FeedbackCheckFailed as exc:
                    raise StepFailed(f"feedback check: {exc}") from None
            with step("reference build on DuckDB (same raw data)", timings):
                duckdb_path.unlink(missing_ok=True)
                duck_env = {**os.environ, "DO_NOT_TRACK": "1", "LTX_RAW_DIR": str(raw_dir),
                            "LTX_DUCKDB_PATH": str(duckdb_path)}  # fmt: skip
                dbt(["build", "--resource-type", "seed", "--resource-type", "model", "--target", "duckdb",
                     "--vars", dbt_vars, "--target-path", "target/duckdb_reference"],
                    duck_env, work_dir / "dbt_run_duckdb.log")  # fmt: skip
            with step("engine comparison DuckDB vs BigQuery emulator", timings):
                compare_engines(bq, duckdb_path)
    except (StepFailed, compare.MartMismatch) as exc:
        log(f"FAILED: {exc}")
        return 1
    finally:
        log("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
        log(f"total {time.monotonic() - started:.1f}s")
    log("OK: dbt-bigquery and google-cloud-bigquery against the emulator, engines agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
