"""``python -m bench.run_bench``: the benchmark driver behind ``make bench``.

Steps (each timed step is a whole process; medians of ``--reps`` repetitions):
 1. generate a history of ``--days`` days with ``ltx_synth`` into ``bench/work/<mode>/``, or reuse
    the one there when the generator arguments and source match (``bench_fingerprint.json``);
 2. full refresh of the history -> the "yesterday" warehouse (snapshot);
 3. append the next day (generator's per-day functions, same seed and population);
 4. incremental_day: restore the snapshot, run the scheduler's ``dbt build``;
 5. full_refresh: ``dbt build --full-refresh`` on history + new day;
 6. equality of every table/incremental model for the reprocess window incl. the new day;
 7. raw rows read: the full refresh and the daily run once more each, untimed, in-process with
    DuckDB profiling (``bench.rows_read``): rows per raw table, per node, and a BigQuery estimate;
    dbt no-op, raw-scan floor query, playbook reference query;
 8. the same incremental day on a shorter history (and a wider reprocess window);
 9. detection quality via ``ltx_synth.evaluate`` / ``ltx_synth.evaluate_cost`` where they exist;
10. bench/results.json and bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from bench import compare, datagen, dbt_artifacts, machine, report
from bench import rows_read as rows_read_mod
from bench.timing import ProcessRun, checked, run_process, summarise

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
BIN = REPO / ".venv" / "bin"
NOOP_SELECTOR = "tag:bench_selects_nothing"
DAILY_TEST_WINDOW_DAYS = 7  # what `make daily` passes: data tests check the last 7 days in daily runs
# what `make daily` runs: ONE build of the `daily` selector (no unit tests, freshness gate inside)
DAILY = ("build", "--selector", "daily")
# Production-like default size (issue 15): >= 15 M user-day rows and >= 100,000 GPU inference
# requests every day (>= 36 M GPU rows) over a year. 200,000 users -> ~47,000 active users a day
# (~17.2 M user-day rows / 365 d); a generator base of 100,000 -> 1.55 x 100,000 requests on a
# weekday (API 0.55 + Studio 1.0), 0.8 x that on weekends: 124,000-155,000 inference rows every
# day (~53 M GPU rows / 365 d), the size the issue measured. Generation: ~0.5 s a day on this
# machine (~3 min for the year), cached between runs.
DEFAULT_USERS = 200_000
DEFAULT_GPU_REQUESTS_PER_DAY = 100_000
DEFAULT_SIZE_REASONING = (
    "Production-like (issue 15): 200,000 users give ~47,000 active users a day (~17 M user-day rows over a "
    "year, >= 15 M); a GPU generator base of 100,000 gives 124,000-155,000 inference requests every day "
    "(API 0.55 + Studio 1.0 of the base, weekends x0.8; ~53 M GPU rows over a year, >= 36 M)."
)
TIME_BUDGET_S = 40 * 60  # the whole bench on 2 cores (issue 15)


@dataclass(frozen=True)
class DbtContext:
    """One raw dir + one fixed DuckDB path + one target dir + fixed vars: partial parsing stays warm."""

    name: str
    raw_dir: Path
    db_path: Path
    target_dir: Path
    vars: dict
    logs: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DO_NOT_TRACK="1",
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
            DBT_PROFILES_DIR=str(REPO),
            DBT_TARGET_PATH=str(self.target_dir),
            DBT_LOG_PATH=str(self.target_dir / "logs"),
            LTX_RAW_DIR=str(self.raw_dir),
            LTX_DUCKDB_PATH=str(self.db_path),
            LTX_DBT_TARGET="duckdb",
        )
        return env

    def dbt(self, args: list[str], label: str) -> ProcessRun:
        cmd = [str(BIN / "dbt"), *args, "--target", "duckdb", "--vars", json.dumps(self.vars)]
        stamp = time.strftime("%H%M%S")
        run = run_process(cmd, env=self.env(), cwd=REPO, log_path=self.logs / f"{self.name}-{label}-{stamp}.log")
        return checked(run, f"dbt {' '.join(args)} [{self.name}]")

    def run_results(self) -> Path:
        return self.target_dir / "run_results.json"

    def keep_run_results(self, label: str) -> Path:
        dst = self.logs / f"{self.name}-{label}-run_results.json"
        shutil.copy2(self.run_results(), dst)
        return dst


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run_bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small data for development (120 days, 3000 users)")
    p.add_argument("--days", type=int, default=None, help="days of history (default 365; quick 120)")
    p.add_argument("--short-days", type=int, default=None, help="the shorter history (default 180; quick 90)")
    p.add_argument(
        "--users", type=int, default=None, help=f"users (default {DEFAULT_USERS:,}: ~17 M user-day rows over 365 d)"
    )
    p.add_argument(
        "--gpu-requests-per-day",
        type=int,
        default=None,
        help=f"generator base (default {DEFAULT_GPU_REQUESTS_PER_DAY:,}: ~146,000 inference rows a day, ~53 M/365 d)",
    )
    p.add_argument("--scale", type=float, default=1.0, help="multiplies users and GPU requests (bigger runs)")
    p.add_argument("--reps", type=int, default=3, help="repetitions per timed step (median reported)")
    p.add_argument(
        "--full-reps",
        type=int,
        default=None,
        help="timed full refreshes (default 1 at the default size, where one costs minutes; --reps with --quick)",
    )
    p.add_argument("--alt-reprocess-days", type=int, default=14, help="the wider reprocess window to compare")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--end-date", type=dt.date.fromisoformat, default=dt.date(2026, 11, 22), help="last history day")
    p.add_argument(
        "--skip-generate",
        action="store_true",
        help="reuse the raw data in the work dir whatever its arguments (by default it is reused only when the "
        "generator arguments and source match: bench_fingerprint.json)",
    )
    p.add_argument("--work-dir", type=Path, default=None, help="default bench/work/<default|quick>")
    p.add_argument("--results", type=Path, default=BENCH / "results.json")
    p.add_argument("--markdown", type=Path, default=BENCH / "RESULTS.md")
    a = p.parse_args(argv)
    quick = a.quick
    a.days = a.days or (120 if quick else 365)
    a.short_days = a.short_days or (90 if quick else 180)
    a.users = int((a.users or (3000 if quick else DEFAULT_USERS)) * a.scale)
    a.gpu_requests_per_day = int((a.gpu_requests_per_day or (300 if quick else DEFAULT_GPU_REQUESTS_PER_DAY)) * a.scale)
    a.work_dir = a.work_dir or BENCH / "work" / ("quick" if quick else "default")
    if a.short_days >= a.days:
        p.error("--short-days must be smaller than --days")
    a.full_reps = a.full_reps or (a.reps if quick else 1)
    if a.reps < 1 or a.full_reps < 1:
        p.error("--reps and --full-reps must be >= 1")
    return a


def project_vars() -> dict:
    return yaml.safe_load((REPO / "dbt_project.yml").read_text()).get("vars", {}) or {}


def heavy_thresholds(pvars: dict) -> tuple[int, int, str]:
    """The heavy-user thresholds the reference query uses: the project's vars when present."""
    days_keys = ("heavy_min_active_days", "heavy_active_days", "heavy_min_days")
    token_keys = ("heavy_min_tokens", "heavy_min_weekly_tokens", "heavy_tokens")
    days = next((int(pvars[k]) for k in days_keys if k in pvars and pvars[k] is not None), None)
    tokens = next((int(pvars[k]) for k in token_keys if k in pvars and pvars[k] is not None), None)
    source = "dbt_project.yml vars" if days is not None or tokens is not None else "bench default (no project var)"
    return (days if days is not None else 5), (tokens if tokens is not None else 0), source


def raw_counts(raw_dir: Path) -> tuple[int, int, int]:
    with duckdb.connect() as con:
        u, days = con.execute(
            "select count(*), count(distinct dt) from read_parquet(?)",
            [str(raw_dir / datagen.USAGE_DIR / "*.parquet")],
        ).fetchone()
        (g,) = con.execute(
            "select count(*) from read_parquet(?)", [str(raw_dir / datagen.GPU_DIR / "*.parquet")]
        ).fetchone()
    return int(u), int(g), int(days)


def run_query(which: str, raw_dir: Path, day: dt.date, logs: Path, heavy: tuple[int, int]) -> tuple[ProcessRun, dict]:
    cmd = [str(BIN / "python"), "-m", "bench.query", which, "--raw-dir", str(raw_dir), "--day", day.isoformat()]
    if which == "reference":
        cmd += ["--heavy-min-active-days", str(heavy[0]), "--heavy-min-tokens", str(heavy[1])]
    run = checked(
        run_process(cmd, env=dict(os.environ), cwd=REPO, log_path=logs / f"query-{which}.log"), f"query {which}"
    )
    out = json.loads(run.log_path.read_text().strip().splitlines()[-1])
    return run, out


def incremental_reps(
    ctx: DbtContext, snapshot: Path, reps: int, label: str, args: tuple[str, ...] = ("build",)
) -> list[ProcessRun]:
    """Restore yesterday's warehouse, then time the daily dbt command; ``reps`` times."""
    runs = []
    for _ in range(reps):
        shutil.copy2(snapshot, ctx.db_path)
        runs.append(ctx.dbt(list(args), label))
    return runs


def full_refresh(ctx: DbtContext, label: str) -> ProcessRun:
    ctx.db_path.unlink(missing_ok=True)
    return ctx.dbt(["build", "--full-refresh"], label)


def per_node_comparison(short_rr: Path, long_rr: Path) -> list[dict]:
    short = {r["unique_id"]: r["execution_time_s"] for r in dbt_artifacts.node_timings(short_rr)}
    rows = []
    for r in dbt_artifacts.node_timings(long_rr):
        s = short.get(r["unique_id"])
        ratio = round(r["execution_time_s"] / s, 2) if s else None
        rows.append({"unique_id": r["unique_id"], "short_s": s, "long_s": r["execution_time_s"], "ratio": ratio})
    return rows


def detection_quality(raw_dir: Path, db_path: Path) -> dict:
    """Call the lead's / GPU worker's evaluators when they exist; otherwise null with the reason."""
    out = {}
    for key, module, func in (
        ("usage", "ltx_synth.evaluate", "evaluate_usage_alerts"),
        ("gpu_cost", "ltx_synth.evaluate_cost", "evaluate_cost_alerts"),
    ):
        try:
            fn = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError) as exc:
            out[key] = {"result": None, "reason": f"{module}.{func} not available on this branch ({exc})"}
            continue
        try:
            out[key] = {"result": fn(raw_dir, db_path), "reason": None}
        except Exception as exc:  # report, don't hide: the evaluator failed on the bench data
            out[key] = {"result": None, "reason": f"{module}.{func} raised {type(exc).__name__}: {exc}"}
    return out


def reference_vs_mart(db_path: Path, reference: dict) -> dict:
    """How the playbook's one query agrees with fct_usage_anomaly_scores on the new day (information)."""
    rows = reference["result"]
    if not rows:
        return {"compared": 0}
    day = rows[0]["dt"]
    with duckdb.connect(str(db_path), read_only=True) as con:
        found = con.execute(
            "select table_schema from information_schema.tables where table_name = 'fct_usage_anomaly_scores'"
        ).fetchall()
        if not found:
            return {"compared": 0, "reason": "fct_usage_anomaly_scores not built on this branch"}
        schema = found[0][0]
        mart = {
            (s, m): (v, z, sev)
            for s, m, v, z, sev in con.execute(
                f"select segment, metric, value, z_score, severity from {compare.quote_ident(schema)}"  # noqa: S608
                ".fct_usage_anomaly_scores where dt = ?",
                [dt.date.fromisoformat(day)],
            ).fetchall()
        }
    same_value = same_severity = 0
    differing = []
    for r in rows:
        got = mart.get((r["segment"], r["metric"]))
        if got is None:
            differing.append(f"{r['segment']}/{r['metric']}: missing in mart")
            continue
        same_value += compare.values_equal(float(got[0]), float(r["value"]))
        same_severity += got[2] == r["severity"]
        if got[2] != r["severity"] or not compare.values_equal(float(got[0]), float(r["value"])):
            differing.append(
                f"{r['segment']}/{r['metric']}: mart value={got[0]} z={got[1]} {got[2]}; "
                f"reference value={r['value']} z={r['z_score']} {r['severity']}"
            )
    return {
        "compared": len(rows),
        "same_value": same_value,
        "same_severity": same_severity,
        "differences": differing[:10],
    }


RAW_ROWS_READ_METHOD = (
    "A separate, untimed pass runs the same dbt command in-process (dbtRunner) with DuckDB profiling on every "
    "statement dbt-duckdb executes (bench/rows_read.py); per raw table, the rows the Parquet scans emitted "
    "(DuckDB rows_scanned: after the filters pushed into the scan) summed over every scan of every statement "
    "(models, data tests, unit tests, hooks). A table read by two scans counts twice."
)
BIGQUERY_ESTIMATE_METHOD = (
    "ESTIMATE, not a BigQuery measurement: for every raw scan of the instrumented run, the dt range its filters "
    "allow (constant filters and resolved scalar-subquery filters such as incremental_start_date, which uses "
    "the _dbt_max_partition scripting variable on BigQuery; join-derived 'optional' filters ignored) x the raw "
    "table's actual rows on those days; enterprise_users (not partitioned) counts whole. Rows, not bytes billed "
    "(BigQuery bills the referenced columns of the partitions read). A subquery filter other than the macro's "
    "would not prune on BigQuery: there the estimate is too low."
)


def profile_rows_read(c: DbtContext, args: list[str], label: str) -> dict:
    """Run ``args`` once through ``bench.rows_read`` (dbt in-process, DuckDB profiling on); its summary."""
    out = c.logs / f"rows_read-{label}.json"
    cmd = [str(BIN / "python"), "-m", "bench.rows_read", "--raw-dir", str(c.raw_dir), "--out", str(out), "--"]
    cmd += [*args, "--target", "duckdb", "--vars", json.dumps(c.vars)]
    run = checked(
        run_process(cmd, env=c.env(), cwd=REPO, log_path=c.logs / f"rows_read-{label}.log"), f"rows_read {label}"
    )
    data = json.loads(out.read_text())
    data["instrumented_wall_s"] = round(run.wall_s, 3)
    data["instrumented_cpu_s"] = round(run.cpu_s, 3)
    return data


def rows_read_detail(data: dict, top: int = 15) -> dict:
    """What results.json keeps of one instrumented run: totals, the heaviest nodes, how much was profiled."""
    return {
        "dbt_args": data["dbt_args"],
        "statements_profiled": data["statements_profiled"],
        "statements_unprofiled": data["statements_unprofiled"],
        "unprofiled_reasons": data["unprofiled_reasons"],
        "tables": data["tables"],
        "other_parquet_rows": data["other_parquet_rows"],
        "top_nodes": dict(list(data["by_node"].items())[:top]),
        "bigquery_estimate_top_nodes": dict(list(data["bigquery_estimate_by_node"].items())[:top]),
        "instrumented_wall_s": data.get("instrumented_wall_s"),
        "instrumented_cpu_s": data.get("instrumented_cpu_s"),
    }


def raw_table_rows(raw_dir: Path) -> dict[str, int]:
    """Every raw table's total rows (Parquet metadata)."""
    return {t: sum(per_day.values()) for t, per_day in rows_read_mod.raw_rows_per_day(raw_dir).items()}


def row_groups_per_day(raw_dir: Path) -> dict[str, float]:
    """Parquet row groups per day of each dated raw table (the generator writes one file, one row group, a day)."""
    layout = rows_read_mod.raw_layout(raw_dir)
    return {
        t: round(layout[t]["row_groups"] / layout[t]["files"], 3)
        for t in rows_read_mod.DATED_TABLES
        if layout[t]["files"]
    }


def day_raw_rows(new_counts: dict, raw_dir: Path) -> dict[str, int]:
    """Rows of one day per raw table: the appended day's; enterprise_users is a snapshot loaded whole each day."""
    return {
        rows_read_mod.USAGE_TABLE: int(new_counts["user_day_rows"]),
        rows_read_mod.ENTERPRISE_TABLE: raw_table_rows(raw_dir)[rows_read_mod.ENTERPRISE_TABLE],
        rows_read_mod.GPU_TABLE: int(new_counts["gpu_rows"]),
    }


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    t0 = time.perf_counter()
    load_before = machine.load_average()
    work: Path = a.work_dir
    logs = work / "logs"
    raw_long, raw_short = work / f"raw_{a.days}d", work / f"raw_{a.short_days}d"
    for d in (work, logs, raw_long, raw_short):
        d.mkdir(parents=True, exist_ok=True)

    def say(msg: str) -> None:
        print(f"[bench {time.perf_counter() - t0:7.1f}s] {msg}", flush=True)

    spec = datagen.DataSpec(a.seed, a.end_date, a.days, a.users, a.gpu_requests_per_day)
    if a.skip_generate:
        spec = datagen.read_spec(raw_long)
        generation = {"reused": True, "generation_s": None, "how": "--skip-generate"}
        say(f"reusing {raw_long} ({spec})")
    else:
        say(f"history: {spec.days} days x {spec.users:,} users, {spec.gpu_requests_per_day:,} GPU req/day")
        reused, gen_s = datagen.history(spec, raw_long)
        generation = {
            "reused": reused,
            "generation_s": gen_s,
            "how": "cached: same generator arguments and source (bench_fingerprint.json)" if reused else "generated",
        }
        say(f"{'reused the cached history' if reused else 'generated the history'} (generation took {gen_s} s)")
    new_day = spec.new_day
    run_date = new_day + dt.timedelta(days=1)  # the scheduler runs the morning after the new day
    datagen.remove_day(raw_long, new_day)

    pvars = project_vars()
    reprocess = int(pvars.get("reprocess_days", 3))
    # the scheduler's daily run tests only the rebuilt days (full refreshes still test every row)
    # (check_freshness: the gate `make daily` runs inside its build; the full refreshes run it too: one query)
    base_vars = {"run_date": run_date.isoformat(), "test_window_days": DAILY_TEST_WINDOW_DAYS, "check_freshness": True}
    heavy_days, heavy_tokens, heavy_source = heavy_thresholds(pvars)

    def ctx(name: str, raw: Path, extra: dict | None = None) -> DbtContext:
        return DbtContext(
            name, raw, work / f"{name}.duckdb", work / f"target_{name}", {**base_vars, **(extra or {})}, logs
        )

    long_ctx = ctx("long", raw_long)
    say("dbt parse (warm-up, untimed)")
    long_ctx.dbt(["parse"], "parse")

    # --- yesterday's warehouse: full refresh of the history ---
    say("full refresh of the history (snapshot of yesterday's warehouse)")
    full_refresh(long_ctx, "base")
    base_db = work / "long_base.duckdb"
    shutil.copy2(long_ctx.db_path, base_db)

    # --- the same history cut shorter: its own "yesterday" warehouse ---
    say(f"shorter history: {a.short_days} days, full refresh (snapshot)")
    short_spec = datagen.link_history(raw_long, raw_short, spec, a.short_days)
    short_ctx = ctx("short", raw_short)
    short_ctx.dbt(["parse"], "parse")
    full_refresh(short_ctx, "base")
    short_base = work / "short_base.duckdb"
    shutil.copy2(short_ctx.db_path, short_base)
    rp_ctx = ctx("long_rp", raw_long, {"reprocess_days": a.alt_reprocess_days})
    rp_ctx.dbt(["parse"], "parse")
    all_tests_ctx = ctx("long_all_tests", raw_long, {"test_window_days": None})
    all_tests_ctx.dbt(["parse"], "parse")

    # --- the new day arrives ---
    new_counts = datagen.append_day(spec, raw_long)
    datagen.link_new_day(raw_long, raw_short, new_day)
    say(f"appended {new_counts}")

    # every daily variant once per round, round after round: other load on the machine hits all alike
    variants = {
        "incremental_day": (long_ctx, base_db, DAILY),
        "incremental_day_with_unit_tests": (long_ctx, base_db, ("build",)),
        "incremental_day_models_only": (long_ctx, base_db, ("run",)),
        "incremental_day_tests_on_full_history": (all_tests_ctx, base_db, DAILY),
        "incremental_day_short_history": (short_ctx, short_base, DAILY),
        "incremental_day_wide_reprocess": (rp_ctx, base_db, DAILY),
    }
    daily_runs: dict[str, list[ProcessRun]] = {k: [] for k in variants}
    rr: dict[str, Path] = {}
    for rep in range(a.reps):
        say(f"daily variants, round {rep + 1}/{a.reps}")
        for name, (c, snapshot, args) in variants.items():
            daily_runs[name] += incremental_reps(c, snapshot, 1, name, args)
            rr[name] = c.keep_run_results(name)
            if name == "incremental_day":
                shutil.copy2(c.db_path, work / "long_incremental.duckdb")
    inc_runs, inc_rr, short_rr = (
        daily_runs["incremental_day"],
        rr["incremental_day"],
        rr["incremental_day_short_history"],
    )
    inc_db = work / "long_incremental.duckdb"

    say(f"full refresh x{a.full_reps}")
    full_runs = [full_refresh(long_ctx, "full") for _ in range(a.full_reps)]
    full_rr = long_ctx.keep_run_results("full")
    full_db = work / "long_full.duckdb"
    shutil.copy2(long_ctx.db_path, full_db)

    say("equality: incremental vs full refresh")
    since = new_day - dt.timedelta(days=reprocess)
    relations = [
        {**compare.compare_relation(inc_db, full_db, m["schema"], m["name"], since), "materialized": m["materialized"]}
        for m in dbt_artifacts.built_models(long_ctx.target_dir / "manifest.json")
    ]
    checked_rel = [r for r in relations if r["equal"] is not None]
    failed = [r for r in checked_rel if not r["equal"]]
    equality = {
        # None: nothing to compare yet (no table / incremental model with a date column on this branch)
        "equal": (not failed) if checked_rel else None,
        "window": f"{since.isoformat()}..{new_day.isoformat()} (reprocess_days={reprocess} + the new day)",
        "summary": (
            f"{len(checked_rel) - len(failed)}/{len(checked_rel)} relations equal "
            f"({sum(r['materialized'] == 'incremental' for r in checked_rel)} incremental) "
            f"over {since.isoformat()}..{new_day.isoformat()}"
        ),
        "relations": relations,
    }

    say("raw rows read: instrumented full refresh and daily run (DuckDB profiles; untimed)")
    prof_ctx = ctx("long_prof", raw_long)
    prof_ctx.db_path.unlink(missing_ok=True)
    rows_read = {"full_refresh": profile_rows_read(prof_ctx, ["build", "--full-refresh"], "full_refresh")}
    shutil.copy2(base_db, prof_ctx.db_path)
    rows_read["incremental_day"] = profile_rows_read(prof_ctx, list(DAILY), "incremental_day")

    say(f"dbt no-op x{a.reps}")
    noop_runs = [long_ctx.dbt(["build", "--select", NOOP_SELECTOR], "noop") for _ in range(a.reps)]

    say(f"raw-scan floor and reference query x{a.reps}")
    floor = [run_query("floor", raw_long, new_day, logs, (heavy_days, heavy_tokens)) for _ in range(a.reps)]
    ref = [run_query("reference", raw_long, new_day, logs, (heavy_days, heavy_tokens)) for _ in range(a.reps)]

    say("detection quality")
    quality = detection_quality(raw_long, full_db)

    user_rows, gpu_rows, days = raw_counts(raw_long)
    day_rows = day_raw_rows(new_counts, raw_long)
    timings = {
        "full_refresh": summarise(full_runs),
        "incremental_day": summarise(inc_runs),
        "raw_scan_floor": {**summarise([r for r, _ in floor]), "in_process_query_s": [o["query_s"] for _, o in floor]},
        "reference_query": {**summarise([r for r, _ in ref]), "in_process_query_s": [o["query_s"] for _, o in ref]},
        "dbt_noop": summarise(noop_runs),
        **{k: summarise(v) for k, v in daily_runs.items() if k != "incremental_day"},
    }
    history = {
        "short_days": short_spec.days + 1,
        "long_days": spec.days + 1,
        "short_s": timings["incremental_day_short_history"]["median_s"],
        "long_s": timings["incremental_day"]["median_s"],
        "short_cpu_s": timings["incremental_day_short_history"]["median_cpu_s"],
        "long_cpu_s": timings["incremental_day"]["median_cpu_s"],
        "long_over_short": round(
            timings["incremental_day"]["median_s"] / timings["incremental_day_short_history"]["median_s"], 3
        ),
        "per_node": per_node_comparison(short_rr, inc_rr),
    }
    reprocess_cmp = {
        "base_reprocess_days": reprocess,
        "alt_reprocess_days": a.alt_reprocess_days,
        "base_s": timings["incremental_day"]["median_s"],
        "alt_s": timings["incremental_day_wide_reprocess"]["median_s"],
        "base_cpu_s": timings["incremental_day"]["median_cpu_s"],
        "alt_cpu_s": timings["incremental_day_wide_reprocess"]["median_cpu_s"],
    }
    load_after = machine.load_average()
    results = {
        "user_day_rows": user_rows,
        "gpu_rows": gpu_rows,
        "days": days,
        "reprocess_days": reprocess,
        "full_refresh_s": timings["full_refresh"]["median_s"],
        "incremental_day_s": timings["incremental_day"]["median_s"],
        "full_refresh_cpu_s": timings["full_refresh"]["median_cpu_s"],
        "incremental_day_cpu_s": timings["incremental_day"]["median_cpu_s"],
        "day_raw_rows": day_rows,
        "raw_rows_read": {k: v["raw_rows_read"] for k, v in rows_read.items()},
        "raw_rows_read_method": RAW_ROWS_READ_METHOD,
        "bigquery_estimate_rows_read": {k: v["bigquery_estimate_rows"] for k, v in rows_read.items()},
        "bigquery_estimate_method": BIGQUERY_ESTIMATE_METHOD,
        "raw_rows_read_detail": {k: rows_read_detail(v) for k, v in rows_read.items()},
        "raw_scan_floor_s": timings["raw_scan_floor"]["median_s"],
        "reference_query_s": timings["reference_query"]["median_s"],
        "dbt_noop_s": timings["dbt_noop"]["median_s"],
        "dbt_noop_method": f"`dbt build --select {NOOP_SELECTOR}` (matches nothing): process start, project load, "
        "partial parse, adapter registration; no warehouse connection, no node run",
        "peak_memory_mb": {k: v["peak_rss_mb"] for k, v in timings.items()},
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "mode": "quick" if a.quick else "default",
        "reps": a.reps,
        "full_reps": a.full_reps,
        "machine": machine.machine_info(),
        "load": {
            "before": load_before,
            "after": load_after,
            "note": "The machine is shared with other workers; a load average above ~1 means other work competed "
            "for the 2 cores during the run.",
        },
        "data": {
            **spec.to_json(),
            "size_reasoning": None if a.quick else DEFAULT_SIZE_REASONING,
            "generation": generation,
            "new_day": new_day.isoformat(),
            "run_date": run_date.isoformat(),
            "new_day_user_day_rows": new_counts["user_day_rows"],
            "new_day_gpu_rows": new_counts["gpu_rows"],
        },
        "timings": timings,
        "dbt_top_models": {
            "full_refresh": dbt_artifacts.top_models(full_rr),
            "incremental_day": dbt_artifacts.top_models(inc_rr),
        },
        "dbt_top_nodes_incremental_day": dbt_artifacts.node_timings(inc_rr)[:10],
        "dbt_time_by_resource_type": {
            "full_refresh": dbt_artifacts.time_by_resource_type(full_rr),
            "incremental_day": dbt_artifacts.time_by_resource_type(inc_rr),
        },
        "history_comparison": history,
        "reprocess_comparison": reprocess_cmp,
        "targets": report.judge_targets(
            timings["full_refresh"]["median_s"],
            timings["incremental_day"]["median_s"],
            timings["raw_scan_floor"]["median_s"],
            timings["dbt_noop"]["median_s"],
            history,
        ),
        "targets_issue_15": report.judge_rows_read_targets(
            timings["full_refresh"]["median_cpu_s"],
            timings["incremental_day"]["median_cpu_s"],
            reprocess,
            day_rows,
            {k: v["raw_rows_read"] for k, v in rows_read.items()},
            raw_table_rows(raw_long),
            {t: v["row_groups_scanned"] for t, v in rows_read["incremental_day"]["tables"].items()},
            row_groups_per_day(raw_long),
        ),
        "equality": equality,
        "reference_query": {
            "heavy_thresholds": {"min_active_days": heavy_days, "min_tokens": heavy_tokens, "source": heavy_source},
            "vs_fct_usage_anomaly_scores": reference_vs_mart(full_db, ref[-1][1]),
            "result": ref[-1][1]["result"],
        },
        "detection_quality": quality,
        "bench_wall_s": round(time.perf_counter() - t0, 1),
        "bench_time_budget_s": TIME_BUDGET_S,
    }
    results["bench_within_time_budget"] = results["bench_wall_s"] <= TIME_BUDGET_S
    results["findings"] = report.findings(results)
    report.write_json(results, a.results)
    a.markdown.write_text(report.render_markdown(results))
    say(f"wrote {a.results} and {a.markdown}")
    for k in report.HEADLINE:
        print(f"  {k:20s} {results[k]}")
    if equality["equal"] is False:
        first = failed[0]
        print(
            f"FAIL: incremental != full refresh for {first['relation']}: {first['first_difference']}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
