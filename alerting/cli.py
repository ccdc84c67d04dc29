"""`python -m alerting run | release | backtest | report | pipeline-health | serve` (DESIGN.md §3.4)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from alerting import pipeline_health, redact
from alerting import serve as serve_command
from alerting.charts import chart_for
from alerting.routing import Routing, RoutingError, load_routing
from alerting.runner import RunOptions, RunReport, post_pipeline_health, run
from alerting.transport.base import TransportConfigError
from alerting.transport.linear import API_KEY_ENV as LINEAR_KEY_ENV
from alerting.transport.linear import LinearConfigError, LinearTransport
from alerting.transport.slack import TOKEN_ENV, transport_from_env
from alerting.warehouse import Backend, WarehouseBusy, WarehouseError, config_from_env, open_backend

EXIT_OK, EXIT_DELIVERY_FAILED, EXIT_USAGE, EXIT_DATA_NOT_READY = 0, 1, 2, 3
TARGETS = ("duckdb", "bigquery")
DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project.yml"
REPORT_BASE_URL_ENV = "LTX_REPORT_BASE_URL"
# no credentials, query, fragment, spaces, quotes, <, >, | or mrkdwn specials
_BASE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/%-]*)?", re.IGNORECASE)
log = logging.getLogger("alerting")

DESCRIPTION = """\
Post the day's alerts from fct_alerts, one digest per channel (routes: alerting/channels.toml), exactly
once: each message is recorded in a delivery log in the same warehouse after the destination answered,
and a re-run posts only what is not recorded. Usage alerts are of DATE; GPU-cost alerts of the finalised
cost day DATE + 1 - N. SLACK_BOT_TOKEN is never printed (not needed with --dry-run). The environment and
examples: docs/operations.md; details: docs/alerting-and-delivery.md, docs/delivery.md.
"""

EPILOG = """\
exit status: 0 everything due delivered (or nothing to do); 1 a delivery failed or another live run
holds some of it (the next run retries; 1 wins over 3); 2 bad arguments or configuration;
3 data not ready: the usage day is missing or incomplete, or the warehouse is half-built (everything
else was posted, never a usage all-clear); 4 the DuckDB file stayed locked by a build.
"""

RELEASE = """\
Post the alerts of DATE held with hold_reason = 'incomplete_data' once the data team confirms the
day is real (an outage, not a late load): exactly once, to their team's channel, loudly.
"""

REPORT = """\
Write DIR/index.html (default reports/<DATE>/), one self-contained page: the day's incidents (cost ones of the
finalised cost day DATE + 1 - N), alert history, GPU costs, data health, the backtest and people's feedback."""

BACKTEST = """\
What each posting policy would have posted of every fct_alerts row of the window, held or not, and what people
said from Slack of its loud incidents; --compare-vars / --compare-duckdb: the shipped build against a change, as
Markdown (docs/alerting-and-delivery.md)."""


# the days a command works on
def date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def utc_yesterday(now: dt.datetime | None = None) -> dt.date:
    """Yesterday in UTC, the calendar dbt uses (the profile's `TimeZone: UTC`, BigQuery's `current_date`),
    whatever the machine's zone."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).date() - dt.timedelta(days=1)


def finalised_cost_date(usage_date: dt.date, cost_finalisation_days: int) -> dt.date:
    """Cost data needs days to finalise: a run for usage day D reads the cost alerts of D + 1 - N."""
    if cost_finalisation_days < 0:
        raise ValueError("cost_finalisation_days must be >= 0")
    return usage_date + dt.timedelta(days=1 - cost_finalisation_days)


def default_finalisation_days(env: Mapping[str, str], project_file: Path = DBT_PROJECT) -> int:
    if env.get("LTX_COST_FINALISATION_DAYS"):
        return int(env["LTX_COST_FINALISATION_DAYS"])
    try:
        match = re.search(r"^\s*cost_finalisation_days:\s*(\d+)\s*$", project_file.read_text(), re.MULTILINE)
    except OSError:
        match = None
    return int(match.group(1)) if match else 3


def report_url(day: dt.date, env: Mapping[str, str]) -> str | None:
    """The report page of `day` under LTX_REPORT_BASE_URL (linked from digests), or None when unset; a base
    Slack's `<url|text>` cannot carry is refused (ValueError: exit 2)."""
    base = (env.get(REPORT_BASE_URL_ENV) or "").strip()
    if base and not _BASE_URL.fullmatch(base):
        raise ValueError(f"{REPORT_BASE_URL_ENV} must be an http(s) URL: a host, a port, a path and nothing else")
    return f"{base.rstrip('/')}/{day.isoformat()}/index.html" if base else None


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="python -m alerting", description=DESCRIPTION, epilog=EPILOG, formatter_class=raw
    )
    sub = parser.add_subparsers(dest="command", required=True)
    target = env.get("LTX_DBT_TARGET") if env.get("LTX_DBT_TARGET") in TARGETS else "duckdb"

    def add(name: str, help_: str, description: str | None, posting: bool = True) -> Any:
        p = sub.add_parser(
            name, help=help_, description=description, epilog=EPILOG if posting else None, formatter_class=raw
        )
        p.add_argument("--target", choices=TARGETS, default=target, help="warehouse (default %(default)s)")
        p.add_argument("--verbose", action="store_true", help="debug logging (secrets redacted)")
        if posting:
            p.add_argument("--dry-run", action="store_true", help="print each message; touch neither Slack nor the log")
            p.add_argument("--channels-file", type=Path, help="routes (default: $LTX_ALERTING_CHANNELS_FILE)")
        return p

    run_p = add("run", "post (or print) the alerts of one day", DESCRIPTION)
    run_p.add_argument(
        "--date", type=date_arg, default=utc_yesterday(), help="usage day in UTC (default: yesterday: %(default)s)"
    )
    run_p.add_argument("--all-clear", action="store_true", help="an all-clear to channels without alerts")
    run_p.add_argument("--cost-finalisation-days", type=int, default=default_finalisation_days(env), metavar="N",
                       help="cost alerts are for DATE + 1 - N (default: %(default)s)")  # fmt: skip
    release = add("release", "post a day's incomplete-data holds (the day is real)", RELEASE)
    release.add_argument("--date", type=date_arg, required=True, help="the day whose held alerts to post")
    health = add("pipeline-health", "post why a daily build stopped, once", pipeline_health.__doc__)
    health.add_argument("--date", type=date_arg, required=True, help="the run date of the build")
    health.add_argument("--run-results", type=Path, default=Path("target/run_results.json"))
    bt = add("backtest", "what each posting policy would have posted", BACKTEST, posting=False)
    bt.add_argument("--from", dest="start", type=date_arg, default=None, help="first alert_date")
    bt.add_argument("--to", dest="end", type=date_arg, default=None, help="last alert_date")
    compare = bt.add_mutually_exclusive_group()
    compare.add_argument("--compare-vars", type=Path, metavar="YAML", help="dbt vars: the policy change")
    compare.add_argument("--compare-duckdb", type=Path, metavar="PATH", help="another DuckDB build: the change")
    serve = add("serve", "serve the Slack interactivity endpoint of the feedback buttons", serve_command.__doc__, False)
    serve.add_argument("--port", type=int, default=3000, help="port (default %(default)s; 0: any free port)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    serve.add_argument("--socket-mode", action="store_true", help="take clicks over Socket Mode (SLACK_APP_TOKEN)")
    serve.add_argument("--spool-dir", type=Path, help=f"click spool (default ${serve_command.SPOOL_ENV})")
    report = add("report", "write the day's HTML report (self-contained, offline)", REPORT, posting=False)
    report.add_argument(
        "--date", type=date_arg, default=None, help="usage day YYYY-MM-DD (default: the latest scored day)"
    )
    report.add_argument("--out", type=Path, default=None, help="output folder (default: reports/<DATE>/)")
    report.add_argument("--cost-finalisation-days", type=int, default=default_finalisation_days(env), metavar="N",
                        help="cost incidents are those of DATE + 1 - N (default: %(default)s)")  # fmt: skip
    report.add_argument("--no-charts", action="store_true", help="skip the charts (faster; tables only)")
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
    redact.install(secrets, replace=True)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = build_parser(env).parse_args(argv)
    secrets = [env.get(TOKEN_ENV, ""), env.get(LINEAR_KEY_ENV, "")]
    _configure_logging(secrets, args.verbose)
    own = {"report": _report, "serve": serve_command.main, "backtest": _backtest}
    if args.command in own:  # their own secrets and errors
        return int(own[args.command](args, env))
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
    except (RoutingError, TransportConfigError, WarehouseError, ValueError) as exc:  # RunResultsError too
        log.error("%s", redact.redact(exc, secrets))
        return exc.exit_code if isinstance(exc, WarehouseBusy) else EXIT_USAGE
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
                f"{exc}: routing sends incidents to Linear (a linear route or LTX_LINEAR_TEAM_*);"
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


def _backtest(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from ltx_reports import backtest  # the read-only package, loaded for its own commands only

    return backtest.main(args, env)


def _report(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Write the day's self-contained HTML report and print its path; exit 2 on a configuration or warehouse error."""
    from ltx_reports.report import build_report, latest_day

    try:
        with closing(open_backend(config_from_env(args.target, env), read_only=True)) as backend:
            day = args.date or latest_day(backend) or utc_yesterday()  # the calendar `run` and dbt use
            cost_day = finalised_cost_date(day, args.cost_finalisation_days)
            html = build_report(backend, day, cost_day, draw=not args.no_charts)
    except (WarehouseError, ValueError) as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    out = args.out or Path("reports") / day.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(html, encoding="utf-8")
    print((out / "index.html").resolve())
    return EXIT_OK


def _finish(report: RunReport, dry_run: bool) -> int:
    if dry_run:
        log.info("dry run: %d message(s) printed, nothing posted or logged", report.messages_posted)
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
