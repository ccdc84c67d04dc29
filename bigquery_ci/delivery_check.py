"""Exactly once on BigQuery (issue 14 item 7), against the emulator `make test-bigquery` starts.

1. Claims: a second run cannot claim what a live run holds; a released claim is free again;
   an expired claim (a crashed run) is retried.
2. The alerting CLI posts for real (to a loopback Slack) from the emulator's marts, twice in
   parallel on a fresh delivery log: each message is posted once; a third run posts nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

from alerting.delivery_log import DeliveryLog
from alerting.warehouse import BigQueryBackend
from tests.python.alerting_support import FAKE_TOKEN, fake_slack

ROOT = Path(__file__).resolve().parent.parent


class DeliveryCheckFailed(RuntimeError):
    pass


def check(condition: bool, what: str) -> None:
    if not condition:
        raise DeliveryCheckFailed(what)


def check_claims(endpoint: str, project: str, log_dataset: str) -> None:
    backend = BigQueryBackend(project, f"{log_dataset}_unused", log_dataset, api_endpoint=endpoint)
    try:
        log = DeliveryLog(backend, claim_ttl_s=3)
        log.ensure()
        dest = "slack:#claims-check"
        check(log.claim(dest, ["k1", "k2"], "run-a"), "run A could not claim free keys")
        check(not log.claim(dest, ["k1"], "run-b"), "run B claimed a key run A holds")
        log.release(dest, ["k1", "k2"], "run-a")
        check(log.claim(dest, ["k1"], "run-b"), "run B could not claim a released key")
        check(not log.claim(dest, ["k1"], "run-c"), "run C claimed a key run B holds")
        time.sleep(3.5)
        check(log.claim(dest, ["k1"], "run-c"), "an expired claim (crashed run) was not retried")
    finally:
        backend.close()


def check_parallel_runs(env: dict[str, str], day: dt.date, log_dataset: str) -> tuple[int, int]:
    """Two CLI runs at the same moment, then a third; returns (messages posted, top-level posts)."""
    with fake_slack() as slack:
        slack.delay_s = 0.5
        run_env = {**env, "SLACK_BOT_TOKEN": FAKE_TOKEN, "SLACK_API_URL": slack.url,
                   "LTX_BQ_ALERTING_DATASET": log_dataset}  # fmt: skip
        command = [sys.executable, "-m", "alerting", "run", "--target", "bigquery", "--date", str(day)]
        procs = [subprocess.Popen(command, cwd=ROOT, env=run_env, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for _ in range(2)]  # fmt: skip
        outputs = [p.communicate(timeout=600) for p in procs]
        for p, (_, err) in zip(procs, outputs, strict=True):
            print(err[-2000:], flush=True)
            # a run that left a digest to the other, live run is not done: exit 1 (DESIGN.md §3.4)
            skipped = p.returncode == 1 and "claimed by another run" in err
            check(p.returncode in (0, 3) or skipped, f"a parallel alerting run failed (exit {p.returncode})")
        first = len(slack.posted)
        texts = [str(m.get("text")) for m in slack.posted]
        check(len(texts) == len(set(texts)), "the same message was posted twice by the parallel runs")
        third = subprocess.run(command, cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=600)
        check(third.returncode in (0, 3), f"the third run failed (exit {third.returncode}): {third.stderr[-1500:]}")
        check(len(slack.posted) == first, "a re-run posted again")
        return first, len(slack.top_level())


def latest_loud_usage_day(endpoint: str, project: str, dataset: str) -> dt.date:
    """The last usage day with a loud alert: a day whose runs post something, so posting once is tested."""
    backend = BigQueryBackend(project, f"{dataset}_marts", f"{dataset}_alerting", api_endpoint=endpoint)
    try:
        table = backend.table("marts", "fct_alerts")
        sql = f"select max(alert_date) as day from {table} where is_loud and domain = @d"  # noqa: S608 - a constant name
        [row] = backend.query(sql, {"d": "usage"})
    finally:
        backend.close()
    check(row["day"] is not None, "fct_alerts has no loud usage alert: nothing to post twice")
    return dt.date.fromisoformat(str(row["day"]))


def main_check(endpoint: str, project: str, dataset: str) -> str:
    env = {**os.environ, "LTX_BQ_API_ENDPOINT": endpoint, "LTX_BQ_PROJECT": project, "LTX_BQ_DATASET": dataset,
           "LTX_BQ_LOCATION": "US", "DO_NOT_TRACK": "1"}  # fmt: skip
    check_claims(endpoint, project, f"{dataset}_claims_check")
    day = latest_loud_usage_day(endpoint, project, dataset)
    posted, top = check_parallel_runs(env, day, f"{dataset}_alerting_parallel")
    check(top > 0, f"the runs for {day} posted no top-level message: posting once was not tested")
    return (
        f"claims ok; two parallel runs for {day} (the last day with a loud usage alert) posted {posted}"
        f" message(s) ({top} top-level) once; a re-run posted none"
    )
