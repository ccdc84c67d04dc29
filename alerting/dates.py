"""Day arguments of the command line (`run`, `release`, `backtest`, `report`).

A leaf module (standard library only): `cli` and `report.command` both import it, and
`cli` imports `report.command`, so it cannot live in either.
"""

from __future__ import annotations

import argparse
import datetime as dt


def date_arg(value: str) -> dt.date:
    """argparse `type=` for a YYYY-MM-DD day; anything else is a usage error (exit 2)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
