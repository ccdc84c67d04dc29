"""`python -m alerting report --date D [--out DIR]`: write the day's self-contained HTML report."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from alerting.dates import date_arg, finalised_cost_date
from alerting.report import build_report, latest_day
from alerting.warehouse import WarehouseError, config_from_env, open_backend

log = logging.getLogger("alerting")

DESCRIPTION = """\
Write DIR/index.html (default reports/<DATE>/), one self-contained page: the day's incidents (cost ones of the
finalised cost day DATE + 1 - N), alert history, GPU costs, data health, the backtest and people's feedback."""


def add_parser(sub: Any, env: Mapping[str, str], default_finalisation_days: int) -> None:
    p = sub.add_parser("report", help="write the day's HTML report (self-contained, offline)", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--date", type=date_arg, default=None, help="usage day YYYY-MM-DD (default: the latest scored day)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: reports/<DATE>/)")
    target = env.get("LTX_DBT_TARGET") if env.get("LTX_DBT_TARGET") in ("duckdb", "bigquery") else "duckdb"
    p.add_argument("--target", choices=("duckdb", "bigquery"), default=target, help="warehouse (default: %(default)s)")
    p.add_argument("--cost-finalisation-days", type=int, default=default_finalisation_days, metavar="N",
                   help="cost incidents are those of DATE + 1 - N (default: %(default)s)")  # fmt: skip
    p.add_argument("--no-charts", action="store_true", help="skip the charts (faster; tables only)")


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Exit 0 with the path printed; 2 on a configuration or warehouse error."""
    try:
        with closing(open_backend(config_from_env(args.target, env), read_only=True)) as backend:
            day = args.date or latest_day(backend) or (dt.date.today() - dt.timedelta(days=1))
            cost_day = finalised_cost_date(day, args.cost_finalisation_days)
            html = build_report(backend, day, cost_day, draw=not args.no_charts)
    except (WarehouseError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    out = args.out or Path("reports") / day.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    (out / "index.html").write_text(html, encoding="utf-8")
    print((out / "index.html").resolve())
    return 0
