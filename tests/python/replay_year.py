"""Loud posts after the thread lifecycle: replay `alerting run` morning by morning on built marts.

``python -m tests.python.replay_year --raw-dir DIR --duckdb FILE [--from D] [--to D] [--messages FILE]``

Copies the DuckDB file (the delivery log is written into the copy), then runs the real runner
for every usage day of the window against the loopback Slack server of the tests (no network,
no token), with the shipped lifecycle defaults (`LifecycleConfig()`: repeats within 7 days go
to the thread, resolved after 3 quiet days). The marts are the final build's, so a day is
judged as it looks at the end (no late data except what the marts already say). An incident
is announced loudly when any of its alerts was logged with a loud kind (top-level `post` /
`data_health`, or a `broadcast` reply: delivery_support.LOUD_KINDS); the result is scored like
`ltx_synth.evaluate_incidents` (same labels, same matching), with the loud messages per week per
channel, the day of each level shift it was first announced on (the onset is day 1: only that
counts as found) and every loud incident with its class (matched / in_shift / unmatched), to read what is
left; every message that disagrees with its own numbers (`messages_disagreeing`, message_checks.py), and with
`--messages` every message sent, to read. A development command (it needs the tests' loopback server), not a
test: a year takes ~2 minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

import duckdb

from alerting.compose import loud_way
from alerting.lifecycle import LifecycleConfig
from ltx_synth.evaluate_incidents import (
    DOMAINS,
    Post,
    classify,
    inside_shift,
    labels_from_truth,
    last_finalised_cost_day,
    matches,
    score,
)
from ltx_synth.generate import GROUND_TRUTH_FILE
from tests.python.alerting_support import fake_slack, log_entries
from tests.python.delivery_support import LOUD_KINDS, run_day
from tests.python.message_checks import disagreements


def loud_per_week(entries: list[dict[str, object]], first: dt.date, last: dt.date) -> dict[str, float]:
    """Loud messages (top-level or broadcast: LOUD_KINDS) per week, per channel."""
    weeks = ((last - first).days + 1) / 7
    messages: dict[str, set[object]] = {}
    for e in entries:
        if e["kind"] in LOUD_KINDS and e["kind"] not in ("all_clear", "pipeline_health"):
            messages.setdefault(str(e["destination"]), set()).add(e["message_ts"])
    return {dest: round(len(ts) / weeks, 2) for dest, ts in sorted(messages.items())}


def by_way(loud: list[dict[str, object]]) -> dict[str, dict[str, int]]:
    """Loud incidents per way and class (matched / in_shift / unmatched): where precision is won or lost."""
    out: dict[str, dict[str, int]] = {}
    for x in loud:
        counts = out.setdefault(str(x["way"]), {"matched": 0, "in_shift": 0, "unmatched": 0})
        counts[str(x["class"])] += 1
    return dict(sorted(out.items()))


def why_missed(rows: list[tuple[str | None, str | None]]) -> str:
    """Why a label's day and scope was not announced loudly, from its fct_alerts rows (hold_reason, quiet_reason):
    each distinct reason; a loud alert there went out as a plain reply in a thread that had announced as much."""
    if not rows:
        return "no alert"
    return ", ".join(
        sorted({f"held: {hold}" if hold else quiet or "loud: a plain thread reply" for hold, quiet in rows})
    )


def replay(
    duckdb_path: Path, first: dt.date, last: dt.date, messages: list[str]
) -> tuple[list[Post], int, int, dict[str, float]]:
    """The replay's loud incidents, top-level posts, replies and loud messages a week per channel; every message
    sent appended to `messages` ('=== <run day> <top / reply / broadcast> <channel>' and its text)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "replay.duckdb"
        shutil.copy(duckdb_path, db)
        with fake_slack() as slack:
            day = first
            while day <= last:
                sent = len(slack.posted)
                report = run_day(db, slack.url, day, lifecycle=LifecycleConfig())
                if not report.ok:
                    raise SystemExit(f"run for {day} failed: {report.failures}")
                for p in slack.posted[sent:]:
                    kind = "broadcast" if p.get("reply_broadcast") else "reply" if p.get("thread_ts") else "top"
                    messages.append(f"=== {day} {kind} {p.get('channel')}\n{p.get('text', '')}")
                day += dt.timedelta(days=1)
            top, replies = len(slack.top_level()), len(slack.replies())
        loud = log_entries(db, tuple(LOUD_KINDS))
        posted = {e["incident_id"] for e in loud if e["incident_id"]}  # announced loudly: top-level or broadcast
        per_week = loud_per_week(loud, first, last)
        with duckdb.connect(str(db), read_only=True) as con:
            rows = con.execute(
                "select domain, alert_date, scope, severity, incident_id from main_marts.fct_alert_incidents"
            ).fetchall()
    return [Post(*r) for r in rows if r[4] in posted], top, replies, per_week


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.python.replay_year", description=__doc__.split("\n\n")[0])
    p.add_argument("--raw-dir", required=True)
    p.add_argument("--duckdb", required=True, type=Path)
    p.add_argument("--from", dest="start", type=dt.date.fromisoformat)
    p.add_argument("--to", dest="end", type=dt.date.fromisoformat)
    p.add_argument("--messages", type=Path, help="write every message sent to this file, to read")
    a = p.parse_args(argv)
    truth = json.loads((Path(a.raw_dir) / GROUND_TRUTH_FILE).read_text())
    start = a.start or dt.date.fromisoformat(truth["start_date"])
    end = a.end or dt.date.fromisoformat(truth["end_date"])
    with duckdb.connect(str(a.duckdb), read_only=True) as con:
        last_cost_day = last_finalised_cost_day(con)
    # the run for usage day D also reports cost day D - 2 (the last finalised cost day for D = end)
    messages: list[str] = []
    posts, top, replies, per_week = replay(a.duckdb, start, end, messages)
    if a.messages:
        a.messages.write_text("\n".join(messages) + "\n", encoding="utf-8")
    labels = labels_from_truth(truth, last_cost_day)
    with duckdb.connect(str(a.duckdb), read_only=True) as con:
        reasons: dict[str, list[str | None]] = {}
        for ident, reason in con.execute(
            "select incident_id, loud_reason from main_marts.fct_alerts where is_loud"
        ).fetchall():
            reasons.setdefault(ident, []).append(reason)
        scored = {
            d: score([x for x in posts if x.domain == d], [lb for lb in labels if lb.domain == d], start, end)
            for d in DOMAINS
        }
        for d, scores in scored.items():
            for miss in scores["missed"]:
                rows = con.execute(
                    "select hold_reason, quiet_reason from main_marts.fct_alerts"
                    " where domain = ? and alert_date = ? and scope = ?",
                    [d, dt.date.fromisoformat(miss["day"]), miss["scope"]],
                ).fetchall()
                miss["why"] = why_missed(rows)
    result = {
        "window": [start.isoformat(), end.isoformat()],
        "slack_messages": {"top_level": top, "thread_replies": replies},
        # what a message says against its own numbers (tests/python/message_checks.py): none expected
        "messages_disagreeing": [why for m in messages for why in disagreements(m, Counter())],
        "loud_messages_per_week": per_week,
        "loud_incidents": scored,
        "level_shifts": [  # announced loudly on which day of the shift (1 = its onset; null: never)
            {
                "onset": lb.day.isoformat(),
                "scope": lb.scope,
                "announced_on_day": min(
                    ((x.day - lb.day).days + 1 for x in posts if matches(x, lb) or inside_shift(x, lb)), default=None
                ),
            }
            for lb in labels
            if lb.kind == "level_shift" and start <= lb.day <= end
        ],
        "loud": [
            {
                "domain": x.domain,
                "day": x.day.isoformat(),
                "scope": x.scope,
                "severity": x.severity,
                "incident_id": x.ident,
                "class": classify(x, [lb for lb in labels if lb.domain == x.domain]),
                "way": loud_way(reasons.get(x.ident, [])),
            }
            for x in sorted(posts, key=lambda x: (x.domain, x.day, x.scope))
            if start <= x.day <= end
        ],
    }
    result["loud_by_way"] = {d: by_way([x for x in result["loud"] if x["domain"] == d]) for d in DOMAINS}
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
