"""Which data day a run's cost alerts are for."""

from __future__ import annotations

import datetime as dt


def finalised_cost_date(usage_date: dt.date, cost_finalisation_days: int) -> dt.date:
    """Cost alerts of a run for data day D are for D + 1 - cost_finalisation_days.

    With the default date (yesterday) that is run date - cost_finalisation_days (3 by
    default, the dbt var of the same name): cost data needs ~3 days to finalise.
    """
    if cost_finalisation_days < 0:
        raise ValueError("cost_finalisation_days must be >= 0")
    return usage_date + dt.timedelta(days=1 - cost_finalisation_days)
