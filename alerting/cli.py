"""`python -m alerting run | release | backtest | report | pipeline-health | serve` (DESIGN.md §3.4)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from alerting import backtest, backtest_compare, pipeline_health, redact
from alerting import serve as serve_command
from alerting.dates import date_arg, finalised_cost_date, utc_yesterday
from alerting.linear import API_KEY_ENV as LINEAR_KEY_ENV
from alerting.linear import LinearConfigError
from alerting.model import Alert
from alerting.report import chart_for, report_url
from alerting.report import command as report_command
from alerting.routing import Routing, RoutingError, load_routing
from alerting.runner import RunOptions, RunReport, post_pipeline_health, run
from alerting.transport.base import TransportConfigError
from alerting.transport.linear import LinearTransport
from alerting.transport.slack import TOKEN_ENV, transport_from_env
from alerting.warehouse import Backend, WarehouseBusy, WarehouseError, config_from_env, open_backend, read_alert_history

EXIT_OK, EXIT_DELIVERY_FAILED, EXIT_USAGE, EXIT_DATA_NOT_READY = 0, 1, 2, 3
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project.yml"
CONFIG_ERRORS = (RoutingError, TransportConfigError, WarehouseError, ValueError)
log = logging.getLogger("alerting")

DESCRIPTION = """\
Post the day's alerts from fct_alerts, one digest per channel (team -> channel from
alerting/channels.toml), exactly once: each message is recorded in a delivery log in the same
warehouse after the destination answered, and a re-run posts only what is not recorded.
Usage alerts are of DATE; GPU-cost alerts of the finalised cost day DATE + 1 - N.
Details: docs/alerting-and-delivery.md, docs/delivery.md, docs/operations.md.
"""

EPILOG = """\
environment: SLACK_BOT_TOKEN (never printed; not needed with --dry-run), SLACK_API_URL,
  LTX_SLACK_CHANNEL_<TEAM>, LTX_SLACK_DEFAULT_CHANNEL, LTX_ALERTING_CHANNELS_FILE, LINEAR_API_KEY,
  LINEAR_API_URL, LTX_LINEAR_TEAM_<TEAM>, LTX_DUCKDB_PATH, LTX_BQ_PROJECT, LTX_BQ_DATASET,
  LTX_BQ_LOCATION, LTX_BQ_API_ENDPOINT, LTX_REPORT_BASE_URL

exit status: 0 everything due delivered (or nothing to do); 1 a delivery failed or another live run
holds some of it (the next run retries; 1 wins over 3); 2 bad arguments or configuration;
3 data not ready: the usage day is missing or incomplete, or the warehouse is half-built (everything
else was posted, never a usage all-clear); 4 the DuckDB file stayed locked by a build.

examples:
  python -m alerting run --dry-run                 # print yesterday's messages, post nothing
  python -m alerting run --date 2026-11-21 --target bigquery
  python -m alerting release --date 2026-11-22     # the data team confirms the low day is real
  python -m alerting backtest --compare-vars change.yml   # Markdown: what {z_notice: 2.5} would post
"""

RELEASE = """\
Post the alerts of DATE held with hold_reason = 'incomplete_data' once the data team confirms the
day is real (an outage, not a late load): exactly once, to their team's channel, loudly.
"""

BACKTEST = """\
Print, per ISO week and severity, what each posting policy would have posted over fct_alerts.
--compare-vars YAML (DuckDB): rebuild the alert layer under those dbt vars in a copy and print as
Markdown what the shipped policy and the changed one post, per week and channel, and the incidents
gained and lost. --compare-duckdb PATH: the same against another build of the same raw data.
"""


def default_finalisation_days(env: Mapping[str, str], project_file: Path = DBT_PROJECT) -> int:
    """LTX_COST_FINALISATION_DAYS, else the dbt var cost_finalisation_days, else 3."""
    if env.get("LTX_COST_FINALISATION_DAYS"):
        return int(env["LTX_COST_FINALISATION_DAYS"])
    try:
        match = re.search(r"^\s*cost_finalisation_days:\s*(\d+)\s*$", project_file.read_text(), re.MULTILINE)
    except OSError:
        match = None
    return int(match.group(1)) if match else 3


def _sub(sub: Any, name: str, help_: str, description: str, target: str, posting: bool = True) -> Any:
    p = sub.add_parser(name, help=help_, description=description, epilog=EPILOG if posting else None,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--target", choices=("duckdb", "bigquery"), default=target, help="warehouse (default %(default)s)")
    p.add_argument("--verbose", action="store_true", help="debug logging (secrets redacted)")
    if posting:
        p.add_argument("--dry-run", action="store_true", help="print each message; touch neither Slack nor the log")
        p.add_argument("--channels-file", type=Path, default=None, help="routes (default: $LTX_ALERTING_CHANNELS_FILE)")
    return p


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alerting", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    target = env.get("LTX_DBT_TARGET") or "duckdb"
    target = target if target in ("duckdb", "bigquery") else "duckdb"
    run_p = _sub(sub, "run", "post (or print) the alerts of one day", DESCRIPTION, target)
    run_p.add_argument(
        "--date", type=date_arg, default=utc_yesterday(), help="usage day in UTC (default: yesterday: %(default)s)"
    )
    run_p.add_argument("--all-clear", action="store_true", help="an all-clear to channels without alerts")
    run_p.add_argument("--cost-finalisation-days", type=int, default=default_finalisation_days(env), metavar="N",
                       help="cost alerts are for DATE + 1 - N (default: %(default)s)")  # fmt: skip
    release_p = _sub(sub, "release", "post a day's incomplete-data holds (the day is real)", RELEASE, target)
    release_p.add_argument("--date", type=date_arg, required=True, help="the day whose held alerts to post")
    backtest_p = _sub(sub, "backtest", "what each posting policy would have posted", BACKTEST, target, posting=False)
    backtest_p.add_argument("--from", dest="start", type=date_arg, default=None, help="first alert_date")
    backtest_p.add_argument("--to", dest="end", type=date_arg, default=None, help="last alert_date")
    compare = backtest_p.add_mutually_exclusive_group()
    compare.add_argument("--compare-vars", type=Path, metavar="YAML", help="dbt vars: the policy change")
    compare.add_argument("--compare-duckdb", type=Path, metavar="PATH", help="another DuckDB build: the change")
    health_p = _sub(
        sub, "pipeline-health", "post why a daily build stopped, once", str(pipeline_health.__doc__), target
    )
    health_p.add_argument("--date", type=date_arg, required=True, help="the run date of the build")
    health_p.add_argument("--run-results", type=Path, default=Path("target/run_results.json"))
    report_command.add_parser(sub, env, default_finalisation_days(env))
    serve_command.add_parser(sub, env)
    return parser


def _configure_logging(secrets: Sequence[str], verbose: bool) -> None:
    """Log to the current stderr with every handler redacting the secrets (slack_sdk logs too with --verbose)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "alerting"]:  # of an earlier run in this process
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("alerting")
    handler.setFormatter(logging.Formatter("alerting %(levelname)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG if verbose else logging.WARNING)
    for filterer in [root, *root.handlers]:
        filterer.filters[:] = [f for f in filterer.filters if not isinstance(f, redact.RedactingFilter)]
    redact.install(list(secrets))


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = build_parser(env).parse_args(argv)
    secrets = [env.get(TOKEN_ENV, ""), env.get(LINEAR_KEY_ENV, "")]
    _configure_logging(secrets, getattr(args, "verbose", False))
    if args.command in ("report", "serve"):  # their own secrets and errors
        return int((report_command if args.command == "report" else serve_command).main(args, env))
    if args.command == "backtest":
        return _backtest(args, env)
    try:
        routing = load_routing(args.channels_file, env)
        poster = None if args.dry_run else transport_from_env(env)
        with closing(open_backend(config_from_env(args.target, env), read_only=args.dry_run)) as backend:
            if args.command != "pipeline-health":
                return _run(args, env, routing, poster, backend)
            failures = pipeline_health.read_failures(args.run_results)
            if not failures:
                log.info("%s holds no failed node: nothing to say", args.run_results)
                return EXIT_OK
            report = post_pipeline_health(backend, routing, poster, args.date, failures, sys.stdout, args.dry_run)
            return _finish(report, args.dry_run)
    except WarehouseBusy as exc:
        log.error("%s", redact.redact(exc, secrets))
        return exc.exit_code
    except (*CONFIG_ERRORS, pipeline_health.RunResultsError) as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    except Exception:  # unexpected (warehouse down, ...): what was posted is logged; report, redacted
        log.exception("the run stopped early; alerts not yet logged are posted by the next run")
        return EXIT_DELIVERY_FAILED


def _run(args: argparse.Namespace, env: Mapping[str, str], routing: Routing, poster: Any, backend: Backend) -> int:
    release = args.command == "release"
    cost_date = args.date if release else finalised_cost_date(args.date, args.cost_finalisation_days)
    options = RunOptions(
        usage_date=args.date, cost_date=cost_date, dry_run=args.dry_run, all_clear=getattr(args, "all_clear", False),
        release=release, lifecycle=routing.lifecycle, report_url=report_url(args.date, env),
    )  # fmt: skip
    linear = None
    if routing.uses_linear and not args.dry_run:
        try:
            linear = LinearTransport.from_env(env)
        except LinearConfigError as exc:
            raise TransportConfigError(
                f"{exc}: routing sends incidents to Linear ([linear] in the channels file or LTX_LINEAR_TEAM_*);"
                " --dry-run prints them without Linear"
            ) from None
    report = run(backend, routing, poster, options, sys.stdout, chart_for=chart_for(backend), linear=linear)
    sys.stdout.flush()
    if report.half_built:
        log.error("exit %d: nothing posted; %s", EXIT_DATA_NOT_READY, report.half_built)
    elif not report.data_ready:
        log.warning(
            "usage data for %s is %s: its usage alerts stay held, no usage all-clear; exit %d so the scheduler"
            " retries after the next load (everything else was posted)",
            args.date, report.usage_data_status, EXIT_DATA_NOT_READY,
        )  # fmt: skip
    return _finish(report, args.dry_run)


def _finish(report: RunReport, dry_run: bool) -> int:
    if dry_run:
        log.info("dry run: %d message(s) printed, nothing posted or logged", report.messages_printed)
        return EXIT_OK if report.data_ready else EXIT_DATA_NOT_READY
    log.info(
        "%d message(s) posted, %d alert(s) delivered, %d failure(s)",
        report.messages_posted, report.alerts_delivered, len(report.failures),
    )  # fmt: skip
    for failure in report.failures:
        log.error("FAILED %s", failure)
    if report.skipped_claimed:
        log.error("%d message(s) held by another run's live claim: not confirmed here; exit 1, run again after it ends",
                  report.skipped_claimed)  # fmt: skip
    return report.exit_code


def _backtest(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.start and args.end and args.start > args.end:
        log.error("--from %s is after --to %s", args.start, args.end)
        return EXIT_USAGE
    if (args.compare_vars or args.compare_duckdb) and args.target != "duckdb":
        log.error("--compare-vars / --compare-duckdb need --target duckdb (a BigQuery rebuild is not supported)")
        return EXIT_USAGE
    try:
        base = _window(env, args.target, args)
        if not (args.compare_vars or args.compare_duckdb):
            sys.stdout.write(backtest.format_result(backtest.run_backtest(base)))
            return EXIT_OK
        routing = load_routing(None, env)
        with tempfile.TemporaryDirectory(prefix="ltx-backtest-") as work:
            path, label = args.compare_duckdb, "this change"
            if args.compare_vars:
                dbt_vars = backtest_compare.parse_vars(args.compare_vars)
                base_db = Path(config_from_env("duckdb", env).duckdb_path)
                path = backtest_compare.build_under_vars(dbt_vars, base_db, Path(work), env)
                label = "vars " + ", ".join(f"{k}: {v}" for k, v in dbt_vars.items())
            if not path.exists():
                raise WarehouseError(f"{path} not found")
            change = _window({**env, "LTX_DUCKDB_PATH": str(path)}, "duckdb", args)
    except (backtest_compare.CompareError, RoutingError, WarehouseError, ValueError) as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    result = backtest_compare.compare(base, change, routing.channel_for)
    sys.stdout.write(backtest_compare.format_markdown(result, "shipped", label))
    return EXIT_OK


def _window(env: Mapping[str, str], target: str, args: argparse.Namespace) -> list[Alert]:
    with closing(open_backend(config_from_env(target, env), read_only=True)) as backend:
        return read_alert_history(backend, args.start or dt.date.min, args.end or dt.date.max)
