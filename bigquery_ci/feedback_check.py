"""`alert_feedback` on BigQuery (issue 23), against the emulator `make test-bigquery` starts.

A fct_alerts with two incidents in its own marts dataset; the store reads an incident's alerts,
writes a snooze twice (the same click: one row, the first one kept) and an acknowledgement
(null expiry); the rows read back equal what was written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from typing import Any

from alerting.feedback import Click, FeedbackRow, FeedbackStore, click_from_payload, decide
from alerting.feedback_buttons import alert_set_hash
from alerting.warehouse import BigQueryBackend

DAY = dt.date(2026, 11, 21)


class FeedbackCheckFailed(RuntimeError):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise FeedbackCheckFailed(what)


def _marts(backend: BigQueryBackend) -> None:
    backend.ensure_area("marts")
    table = backend.table("marts", "fct_alerts")
    backend.query(
        f"create or replace table {table} (alert_id STRING, alert_date DATE, incident_id STRING,"
        " is_postable BOOL, hold_reason STRING, is_incident_primary BOOL, domain STRING, team STRING, scope STRING,"
        " metric STRING, rule STRING, severity STRING, direction STRING)"
    )
    usage = "'usage', 'product', 'free', 'tokens', 'usage_zscore', 'critical', 'decrease'"  # the not-null columns
    backend.query(
        f"insert into {table} values ('a1', @day, 'inc1', true, null, true, {usage}),"  # noqa: S608
        f" ('a2', @day, 'inc1', true, null, false, {usage}),"
        f" ('w1', @day, 'inc3', false, 'insufficient_baseline', true, {usage})",
        {"day": DAY},
    )


def _click(key: str, action_ts: str) -> Click:
    """What Slack sends for a click on the button `key` of incident inc1's post."""
    value = f"v1:inc1:{alert_set_hash(['a1', 'a2'])}"
    action = {"action_id": f"ltx_feedback_{key}", "value": value, "action_ts": action_ts}
    return click_from_payload(
        {
            "type": "block_actions",
            "user": {"id": "U0123ABCD"},
            "channel": {"id": "C0000AAAA"},
            "container": {"message_ts": "1764900000.000100"},
            "actions": [action],
        }
    )


def _rows(backend: BigQueryBackend) -> list[dict[str, Any]]:
    if not backend.columns("alerting", "alert_feedback"):
        return []
    return backend.query(f"select * from {backend.table('alerting', 'alert_feedback')} order by created_at")  # noqa: S608


def main_check(endpoint: str, project: str, dataset: str) -> str:
    backend = BigQueryBackend(project, f"{dataset}_feedback_marts", f"{dataset}_feedback", api_endpoint=endpoint)
    try:
        _marts(backend)
        store = FeedbackStore(backend)
        check(_rows(backend) == [], "alert_feedback exists before the first write")
        alerts = store.incident_alerts("inc1")
        check(sorted(a.alert_id for a in alerts) == ["a1", "a2"], f"inc1 read back as {alerts}")
        check(all(a.alert_date == DAY for a in alerts), "alert_date not a DATE")
        now = dt.datetime(2026, 11, 22, 9, 0)
        snooze = decide(_click("snooze_7d", "1764912345.123456"), alerts, now)
        ack = decide(_click("acknowledge", "1764912399.000001"), alerts, now)
        check(
            isinstance(snooze, FeedbackRow) and isinstance(ack, FeedbackRow),
            f"a click on inc1 was rejected: {snooze}, {ack}",
        )
        assert isinstance(snooze, FeedbackRow) and isinstance(ack, FeedbackRow)
        store.record(snooze)
        store.record(dataclasses.replace(snooze, note="a second delivery of the same click"))
        store.record(ack)
        rows = _rows(backend)
        got = [(r["feedback_id"], r["action"], r["expires_on"], r["note"], r["alert_ids"]) for r in rows]
        want = [
            (snooze.feedback_id, "snooze", DAY + dt.timedelta(days=7), None, "a1,a2"),
            (ack.feedback_id, "acknowledge", None, None, "a1,a2"),
        ]
        check(got == want, f"alert_feedback holds {got}, expected {want}")
        check(isinstance(decide(_click("expected", "1.1"), store.incident_alerts("inc3"), now), str),
              "a click on a withdrawn incident was accepted")  # fmt: skip
        return f"alert_feedback: {len(rows)} rows for 3 writes (one repeated), withdrawn incident rejected"
    finally:
        backend.close()


if __name__ == "__main__":
    print(main_check(sys.argv[1], sys.argv[2], sys.argv[3]))
