"""`python -m alerting release --date D`: post the alerts held because the day looked incomplete.

The data team confirms a day is real (an outage, not a late load); its `incomplete_data`
alerts are then posted like any other (the runner posts and logs them, exactly once).
`released` is the pure selection the runner applies to the alerts it read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from alerting.model import Alert

RELEASABLE = "incomplete_data"


def released(alerts: Iterable[Alert], day: dt.date) -> list[Alert]:
    """The day's alerts held only for incomplete data, made postable; everything else dropped."""
    return [
        dataclasses.replace(a, is_postable=True, hold_reason=None)
        for a in alerts
        if a.alert_date == day and a.hold_reason == RELEASABLE and not a.is_suppressed
    ]
