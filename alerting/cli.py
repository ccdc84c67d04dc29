"""`python -m alerting run | release | backtest` — post the day's alert digests to Slack, exactly once."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from alerting import backtest, backtest_compare, pipeline_health, redact
from alerting import serve as serve_command
from alerting.dates import date_arg, finalised_cost_date, utc_yesterday
from alerting.linear import API_KEY_ENV as LINEAR_KEY_ENV
from alerting.linear import LinearConfigError
from alerting.model import Alert
from alerting.report import chart_for, report_url
from alerting.report import command as report_command
from alerting.routing import Routing, RoutingError, load_routing
from alerting.runner import RunOptions, load_lifecycle_config, post_pipeline_health, run
from alerting.transport import TOKEN_ENV, TransportConfigError, transport_from_env
from alerting.transport.linear import LinearTransport
from alerting.warehouse import WarehouseBusy, WarehouseError, config_from_env, open_backend

EXIT_OK, EXIT_DELIVERY_FAILED, EXIT_USAGE, EXIT_DATA_NOT_READY = 0, 1, 2, 3
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project.yml"
DEFAULT_FINALISATION_DAYS = 3

DESCRIPTION = """\
Read the day's alerts from fct_alerts (+ fct_usage_alert_drivers) and post one Slack
digest per channel (team -> channel from alerting/channels.toml), grouped by severity.

Which alerts: usage alerts with alert_date = DATE; GPU-cost alerts for the finalised cost
day DATE + 1 - cost_finalisation_days (cost data takes ~3 days to settle, so with the
default DATE = yesterday that is today - 3). Suppressed alerts are never posted.

Exactly once: every alert posted is recorded in a delivery log table in the same
warehouse (DuckDB main_alerting.alert_delivery_log, BigQuery <dataset>_alerting) only
after Slack answered ok; a re-run posts only what is not logged yet, so a failed post is
retried by the next run.
"""

EPILOG = """\
environment:
  SLACK_BOT_TOKEN              bot token (never printed); not needed with --dry-run
  SLACK_API_URL                Slack Web API base URL (default https://slack.com/api/)
  LTX_SLACK_CHANNEL_<TEAM>     channel override per team, e.g. LTX_SLACK_CHANNEL_API=#api-oncall
  LTX_SLACK_DEFAULT_CHANNEL    channel for teams not in the config
  LTX_ALERTING_CHANNELS_FILE   another channels.toml
  LTX_DUCKDB_PATH              DuckDB file (default data/ltx_monitoring.duckdb), marts in main_marts
  LTX_BQ_PROJECT, LTX_BQ_DATASET, LTX_BQ_MARTS_DATASET, LTX_BQ_ALERTING_DATASET,
  LTX_BQ_LOCATION, LTX_BQ_API_ENDPOINT (emulator: anonymous credentials)

exit status: 0 all delivered (or nothing to do); 1 some delivery failed (everything
else was still tried; the next run retries it); 2 bad arguments or configuration
(a malformed SLACK_BOT_TOKEN included); 3 data not ready: the usage day is missing or
incomplete in fct_data_health (everything else was still posted, never a usage all-clear;
a scheduler should retry later). 1 wins over 3. 4 warehouse busy: the DuckDB file stayed
locked by a build past LTX_DUCKDB_LOCK_TIMEOUT (nothing lost; run again after the build).

examples:
  python -m alerting run --dry-run                 # print yesterday's messages, post nothing
  python -m alerting run                           # daily, after `make daily` (dbt build)
  python -m alerting run --date 2026-11-21 --target bigquery
  python -m alerting release --date 2026-11-22     # the data team confirms the low day is real
  python -m alerting backtest --from 2026-09-01    # what each posting policy would have posted
  python -m alerting backtest --compare-vars change.yml   # Markdown: what {z_notice: 2.5} would post instead
"""

RELEASE_DESCRIPTION = """\
Post the alerts of DATE that fct_alerts holds with hold_reason = 'incomplete_data' (the
data-health gate held them because the day looked incompletely loaded). Run it when the
data team confirms the day is real (an outage, not a late load). They are posted and
logged like any alert: exactly once, to their team's channel.
"""

BACKTEST_DESCRIPTION = """\
Read fct_alerts (no Slack, no delivery log) and print, per ISO week and severity, how many
alerts / incidents each posting policy would have posted, with the held counts by reason.

--compare-vars YAML (DuckDB): copy the warehouse, rebuild the alert layer (and every model that
reads one of the vars, with what depends on it) under those dbt vars into the copy, and print as
Markdown what the shipped policy and the policy under those vars would have posted: per ISO week
and Slack channel, and the incidents gained and lost. --compare-duckdb PATH: the same against
another build (e.g. a pull request's) of the same raw data.
"""


def default_finalisation_days(env: Mapping[str, str], project_file: Path = DBT_PROJECT) -> int:
    """LTX_COST_FINALISATION_DAYS, else the dbt var cost_finalisation_days, else 3."""
    if env.get("LTX_COST_FINALISATION_DAYS"):
        return int(env["LTX_COST_FINALISATION_DAYS"])
    try:
        match = re.search(r"^\s*cost_finalisation_days:\s*(\d+)\s*$", project_file.read_text(), re.MULTILINE)
    except OSError:
        match = None
    return int(match.group(1)) if match else DEFAULT_FINALISATION_DAYS


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alerting",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="{run,release,backtest,report,pipeline-health,serve}"
    )
    run_p = sub.add_parser(
        "run",
        help="post (or print) the alert digests of one day",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    release_p = sub.add_parser(
        "release",
        help="post the alerts of a day held for incomplete data (the day is confirmed real)",
        description=RELEASE_DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backtest_p = sub.add_parser(
        "backtest",
        help="print what each posting policy would have posted over the loaded history",
        description=BACKTEST_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    yesterday = utc_yesterday()  # the UTC day, like dbt's run_date
    default_target = str(env.get("LTX_DBT_TARGET")) if env.get("LTX_DBT_TARGET") in ("duckdb", "bigquery") else "duckdb"
    for p in (run_p, release_p, backtest_p):
        p.add_argument(
            "--target",
            choices=("duckdb", "bigquery"),
            default=default_target,
            help="warehouse to read (and log to) (default: $LTX_DBT_TARGET or duckdb: %(default)s)",
        )
    for p in (run_p, release_p):
        p.add_argument(
            "--dry-run",
            action="store_true",
            help="print each message (text + Block Kit JSON); touch neither Slack nor the delivery log",
        )
        p.add_argument(
            "--channels-file",
            type=Path,
            default=None,
            help="routing config (default: $LTX_ALERTING_CHANNELS_FILE or alerting/channels.toml)",
        )
        p.add_argument("--verbose", action="store_true", help="debug logging (slack_sdk requests; token redacted)")
    release_p.add_argument(
        "--date", type=date_arg, required=True, help="the day whose held alerts to post (YYYY-MM-DD)"
    )
    backtest_p.add_argument("--from", dest="start", type=date_arg, default=None, help="first alert_date (default: all)")
    backtest_p.add_argument("--to", dest="end", type=date_arg, default=None, help="last alert_date (default: all)")
    backtest_p.add_argument("--verbose", action="store_true", help="debug logging")
    compare = backtest_p.add_mutually_exclusive_group()
    compare.add_argument(
        "--compare-vars", type=Path, metavar="YAML", help="a YAML mapping of dbt vars: the policy change to compare"
    )
    compare.add_argument(
        "--compare-duckdb", type=Path, metavar="PATH", help="another DuckDB build to compare (the change)"
    )
    run_p.add_argument(
        "--date", type=date_arg, default=yesterday, help="usage data day YYYY-MM-DD (default: yesterday: %(default)s)"
    )
    run_p.add_argument(
        "--all-clear",
        action="store_true",
        help="post an 'all clear' to configured channels without alerts (default: from channels.toml);"
        " never for a usage day whose data is not ready",
    )
    run_p.add_argument(
        "--cost-finalisation-days",
        type=int,
        default=default_finalisation_days(env),
        metavar="N",
        help="cost alerts are for DATE + 1 - N (default: dbt var cost_finalisation_days: %(default)s)",
    )
    report_command.add_parser(sub, env, default_finalisation_days(env))
    _add_pipeline_health_parser(sub, default_target)
    serve_command.add_parser(sub, env)
    return parser


def _add_pipeline_health_parser(sub: argparse._SubParsersAction, default_target: str) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "pipeline-health",
        help="post why a daily build stopped (stale sources, failing tests) to the data channel, once",
        description=pipeline_health.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--date", type=date_arg, required=True, help="the run date of the build (YYYY-MM-DD)")
    p.add_argument(
        "--run-results", type=Path, default=Path("target/run_results.json"), help="dbt's run results of that build"
    )
    p.add_argument("--target", choices=("duckdb", "bigquery"), default=default_target)
    p.add_argument("--dry-run", action="store_true", help="print the message; touch neither Slack nor the log")
    p.add_argument("--channels-file", type=Path, default=None)
    p.add_argument("--verbose", action="store_true")


def _pipeline_health(args: argparse.Namespace, env: Mapping[str, str], log: logging.Logger) -> int:
    secrets = [env.get(TOKEN_ENV, ""), env.get(LINEAR_KEY_ENV, "")]
    try:
        failures = pipeline_health.read_failures(args.run_results)
        routing = load_routing(args.channels_file, env)
        poster = None if args.dry_run else transport_from_env(env)
        backend = open_backend(config_from_env(args.target, env), read_only=args.dry_run)
    except (pipeline_health.RunResultsError, RoutingError, TransportConfigError, WarehouseError, ValueError) as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    if not failures:
        log.info("%s holds no failed node: nothing to say", args.run_results)
        backend.close()
        return EXIT_OK
    try:
        report = post_pipeline_health(backend, routing, poster, args.date, failures, sys.stdout, args.dry_run)
    except WarehouseError as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    finally:
        backend.close()
    for failure in report.failures:
        log.error("FAILED %s", failure)
    return report.exit_code


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current sys.stderr (a marker class: repeated runs in one process add it once)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def _configure_logging(env: Mapping[str, str], verbose: bool) -> None:
    """Log to stderr with every handler redacting the token (slack_sdk logs too with --verbose)."""
    root = logging.getLogger()
    if not any(isinstance(h, _StderrHandler) for h in root.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("alerting %(levelname)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("slack_sdk").setLevel(logging.DEBUG if verbose else logging.WARNING)
    for filterer in [root, *root.handlers]:
        filterer.filters[:] = [f for f in filterer.filters if not isinstance(f, redact.RedactingFilter)]
    redact.install([env.get(TOKEN_ENV, ""), env.get(LINEAR_KEY_ENV, "")])


def _check_token(env: Mapping[str, str], log: logging.Logger) -> bool:
    """Validate SLACK_BOT_TOKEN before anything uses it; False (exit 2) when unusable."""
    try:
        check = redact.validate_token(env.get(TOKEN_ENV), TOKEN_ENV)
    except redact.TokenError as exc:
        hint = " (use --dry-run to print the messages without Slack)" if not env.get(TOKEN_ENV) else ""
        log.error("%s%s", exc, hint)
        return False
    for warning in check.warnings:
        log.warning("%s", warning)
    return True


def _linear_from_env(routing: Routing, dry_run: bool, env: Mapping[str, str]) -> LinearTransport | None:
    """The Linear transport when routing sends incidents to Linear (LINEAR_API_KEY validated), else None."""
    if dry_run or not routing.uses_linear:
        return None
    try:
        return LinearTransport.from_env(env)
    except LinearConfigError as exc:
        raise TransportConfigError(
            f"{exc}: routing sends incidents to Linear ([linear] in the channels file or LTX_LINEAR_TEAM_*);"
            " --dry-run prints them without Linear"
        ) from None


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = build_parser(env).parse_args(argv)
    if args.command == "report":  # no --verbose, no token
        _configure_logging(env, False)
        return report_command.main(args, env)
    _configure_logging(env, args.verbose)
    log = logging.getLogger("alerting")
    secrets = [env.get(TOKEN_ENV, ""), env.get(LINEAR_KEY_ENV, "")]
    if args.command == "backtest":
        return _backtest(args, env, log, secrets)
    if args.command == "serve":
        return _serve(args, env)
    if not args.dry_run and not _check_token(env, log):
        return EXIT_USAGE
    if args.command == "pipeline-health":
        return _pipeline_health(args, env, log)
    release = args.command == "release"
    try:
        if release:
            usage_date = cost_date = args.date
        else:
            usage_date, cost_date = args.date, finalised_cost_date(args.date, args.cost_finalisation_days)
        routing = load_routing(args.channels_file, env)
        poster = None if args.dry_run else transport_from_env(env)
        linear = _linear_from_env(routing, args.dry_run, env)
        link = report_url(usage_date, env)  # ReportUrlError (a ValueError) on a malformed LTX_REPORT_BASE_URL
        backend = open_backend(config_from_env(args.target, env), read_only=args.dry_run)
    except (RoutingError, TransportConfigError, WarehouseError, ValueError) as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    try:
        options = RunOptions(
            usage_date=usage_date,
            cost_date=cost_date,
            dry_run=args.dry_run,
            all_clear=getattr(args, "all_clear", False),
            release=release,
            lifecycle=load_lifecycle_config(args.channels_file, env),
            report_url=link,
        )
        report = run(backend, routing, poster, options, sys.stdout, chart_for=chart_for(backend), linear=linear)
    except WarehouseBusy as exc:
        log.error("%s", redact.redact(exc, secrets))
        return exc.exit_code
    except (WarehouseError, RoutingError) as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    except Exception:  # unexpected (warehouse down, ...): what was posted is logged; report, redacted
        log.exception("the run stopped early; alerts not yet logged are posted by the next run")
        return EXIT_DELIVERY_FAILED
    finally:
        backend.close()
    sys.stdout.flush()
    if report.half_built:
        log.error("exit %d: nothing posted; %s", EXIT_DATA_NOT_READY, report.half_built)
    elif not report.data_ready:
        log.warning(
            "usage data for %s is %s: its usage alerts stay held, no usage all-clear; exit %d so the scheduler"
            " retries after the next load (everything else was posted)",
            usage_date,
            report.usage_data_status,
            EXIT_DATA_NOT_READY,
        )
    if args.dry_run:
        log.info("dry run: %d message(s) printed, nothing posted or logged", report.messages_printed)
        return EXIT_DATA_NOT_READY if not report.data_ready else EXIT_OK
    log.info(
        "%d message(s) posted, %d alert(s) delivered, %d failure(s)",
        report.messages_posted,
        report.alerts_delivered,
        len(report.failures),
    )
    for failure in report.failures:
        log.error("FAILED %s", failure)
    return report.exit_code


def _serve(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """`alerting serve`: its own secrets (signing secret, app token) are redacted from logs too."""
    return serve_command.main(args, env)


def _backtest(args: argparse.Namespace, env: Mapping[str, str], log: logging.Logger, secrets: list[str]) -> int:
    if args.start and args.end and args.start > args.end:
        log.error("--from %s is after --to %s", args.start, args.end)
        return EXIT_USAGE
    try:
        backend = open_backend(config_from_env(args.target, env), read_only=True)
    except (WarehouseError, ValueError) as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    try:
        alerts = backtest.read_window(backend, args.start, args.end)
    except WarehouseError as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    finally:
        backend.close()
    if args.compare_vars or args.compare_duckdb:
        return _backtest_compare(args, env, log, secrets, alerts)
    sys.stdout.write(backtest.format_result(backtest.run_backtest(alerts)))
    return EXIT_OK


def _backtest_compare(
    args: argparse.Namespace, env: Mapping[str, str], log: logging.Logger, secrets: list[str], base: list[Alert]
) -> int:
    """The shipped build (base) against the change: a rebuild under --compare-vars, or --compare-duckdb."""
    if args.target != "duckdb":
        log.error("--compare-vars / --compare-duckdb need --target duckdb (a BigQuery rebuild is not supported)")
        return EXIT_USAGE
    try:
        routing = load_routing(None, env)
        with tempfile.TemporaryDirectory(prefix="ltx-backtest-") as work:
            if args.compare_vars:
                dbt_vars = backtest_compare.parse_vars(args.compare_vars)
                base_db = Path(config_from_env("duckdb", env).duckdb_path)
                path = backtest_compare.build_under_vars(dbt_vars, base_db, Path(work), env)
                label = "vars " + ", ".join(f"{k}: {v}" for k, v in dbt_vars.items())
            else:
                path, label = args.compare_duckdb, "this change"
            if not path.exists():
                raise WarehouseError(f"{path} not found")
            other = open_backend(config_from_env("duckdb", {**env, "LTX_DUCKDB_PATH": str(path)}), read_only=True)
            try:
                change = backtest.read_window(other, args.start, args.end)
            finally:
                other.close()
    except (backtest_compare.CompareError, RoutingError, WarehouseError) as exc:
        log.error("%s", redact.redact(exc, secrets))
        return EXIT_USAGE
    result = backtest_compare.compare(base, change, routing.channel_for)
    sys.stdout.write(backtest_compare.format_markdown(result, "shipped", label))
    return EXIT_OK
