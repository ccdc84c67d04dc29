"""The days a command works on (for `cli`)."""

from __future__ import annotations

import argparse
import datetime as dt


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
