"""Incident-level detection quality and post volume, current posting policy vs the old one.

``python -m ltx_synth.evaluate_incidents --raw-dir DIR --duckdb FILE [--old-duckdb FILE]
[--from D] [--to D] [--json]``

What is counted as one post:

* **current** policy: one postable incident (``fct_alert_incidents.is_postable``) = one
  top-level post (with ``--loud``: one incident with any loud alert, ``fct_alerts.is_loud`` =
  one loud post), before the thread lifecycle (a repeat of a series already posted in the
  last days would go to its thread instead; that only lowers the count further);
* **old** behaviour: every non-suppressed ``fct_alerts`` row of the usage and gpu_cost
  domains posted on its own, no holds and no incidents (the data-health alert did not
  exist). Read from ``--old-duckdb`` when given (a build of the same raw data with the old
  rule declarations, see docs/measurements.md "Measured: before and after"),
  else from ``--duckdb``.

The labels come from the generator's ``ground_truth.json``:

* usage anomaly: (day, segment) (``usage_anomalies``);
* usage level shift: (onset day, segment) (``usage_level_shifts``: start .. end);
* cost anomaly: (day, vertical) (``gpu_cost_anomalies``), evaluable only up to the last
  finalised cost day;
* partial load: (day, source) (``partial_loads``, ``--partial-last-day``) -> data_health.

A post **matches** a label of its own domain with the same scope on the same day (a level
shift: on its onset day; a data-health post: the partially loaded day of its source).
Posts on the later days of a labelled shift (onset < day <= end) do not match (the onset
was the news) and are counted apart as ``in_shift`` so the reader sees what a lifecycle
would fold into threads. Precision = matched posts / posts; recall = labels with at least
one matching post / labels in the window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ltx_synth.generate import GROUND_TRUTH_FILE

DOMAINS = ("usage", "gpu_cost", "data_health")
SEVERITIES = ("notice", "warning", "critical")


@dataclass(frozen=True)
class Label:
    domain: str  # usage | gpu_cost | data_health
    day: dt.date  # the anomaly's day; a shift's onset
    scope: str  # segment | vertical | source
    kind: str  # the generator's kind, level_shift or partial_load
    last_day: dt.date | None = None  # a level shift's last day


@dataclass(frozen=True)
class Post:
    domain: str
    day: dt.date
    scope: str
    severity: str
    ident: str  # incident_id (current) or alert_id (old)


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def labels_from_truth(truth: dict, last_cost_day: dt.date | None = None) -> list[Label]:
    """Every labelled event of ground_truth.json; cost anomalies after `last_cost_day` are left out."""
    labels = [Label("usage", _date(a["dt"]), a["segment"], a["kind"]) for a in truth.get("usage_anomalies", [])]
    labels += [
        Label("usage", _date(s["start"]), s["segment"], "level_shift", _date(s["end"]))
        for s in truth.get("usage_level_shifts", [])
    ]
    labels += [
        Label("gpu_cost", _date(a["dt"]), a["vertical"], a["kind"])
        for a in truth.get("gpu_cost_anomalies", [])
        if last_cost_day is None or _date(a["dt"]) <= last_cost_day
    ]
    labels += [
        Label("data_health", _date(p["dt"]), p["source"], "partial_load") for p in truth.get("partial_loads", [])
    ]
    return labels


def matches(post: Post, label: Label) -> bool:
    return post.domain == label.domain and post.scope == label.scope and post.day == label.day


def inside_shift(post: Post, label: Label) -> bool:
    """A post on a later day of a labelled level shift of the same series (not its onset)."""
    return (
        label.last_day is not None
        and post.domain == label.domain
        and post.scope == label.scope
        and label.day < post.day <= label.last_day
    )


def classify(post: Post, labels: Iterable[Label]) -> str:
    """matched | in_shift | unmatched."""
    labels = list(labels)
    if any(matches(post, label) for label in labels):
        return "matched"
    if any(inside_shift(post, label) for label in labels):
        return "in_shift"
    return "unmatched"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_counts(posts: Sequence[Post], start: dt.date, end: dt.date) -> list[int]:
    """Posts per ISO week (Monday-based) for every week the window touches, empty weeks included."""
    counts = Counter(_monday(p.day) for p in posts)
    weeks = []
    week = _monday(start)
    while week <= end:
        weeks.append(counts.get(week, 0))
        week += dt.timedelta(days=7)
    return weeks


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def score(posts: Sequence[Post], labels: Sequence[Label], start: dt.date, end: dt.date) -> dict:
    """Posts per week, precision and recall of one domain's posts against its labels, in [start, end]."""
    posts = [p for p in posts if start <= p.day <= end]
    labels = [label for label in labels if start <= label.day <= end]
    kinds = {p: classify(p, labels) for p in posts}
    matched = sum(1 for k in kinds.values() if k == "matched")
    found = [label for label in labels if any(matches(p, label) for p in posts)]
    weeks = weekly_counts(posts, start, end)
    return {
        "posts": len(posts),
        "weeks": len(weeks),
        "posts_per_week_mean": round(sum(weeks) / len(weeks), 2) if weeks else None,
        "posts_per_week_max": max(weeks) if weeks else None,
        "matched_posts": matched,
        "in_shift_posts": sum(1 for k in kinds.values() if k == "in_shift"),
        "unmatched_posts": sum(1 for k in kinds.values() if k == "unmatched"),
        "precision": _ratio(matched, len(posts)),
        "labels": len(labels),
        "labels_found": len(found),
        "recall": _ratio(len(found), len(labels)),
        "missed": [
            {"day": label.day.isoformat(), "scope": label.scope, "kind": label.kind}
            for label in labels
            if label not in found
        ],
    }


def current_posts(con: duckdb.DuckDBPyConnection, schema: str = "main_marts") -> list[Post]:
    """One post per postable incident."""
    rows = con.execute(
        f"""select domain, alert_date, scope, severity, incident_id
            from {schema}.fct_alert_incidents
            where is_postable
            order by alert_date, domain, scope, incident_id"""  # noqa: S608 - schema is a fixed identifier
    ).fetchall()
    return [Post(*row) for row in rows]


def loud_posts(con: duckdb.DuckDBPyConnection, schema: str = "main_marts") -> list[Post]:
    """One loud post per incident with at least one loud alert (fct_alerts.is_loud); its
    severity is the highest of its loud alerts."""
    rows = con.execute(
        f"""select domain, alert_date, scope,
                   case max(case severity when 'critical' then 3 when 'warning' then 2 else 1 end)
                       when 3 then 'critical' when 2 then 'warning' else 'notice' end,
                   incident_id
            from {schema}.fct_alerts
            where is_loud
            group by domain, alert_date, scope, incident_id
            order by alert_date, domain, scope, incident_id"""  # noqa: S608 - schema is a fixed identifier
    ).fetchall()
    return [Post(*row) for row in rows]


def old_posts(con: duckdb.DuckDBPyConnection, schema: str = "main_marts") -> list[Post]:
    """One post per non-suppressed usage / gpu_cost alert row (no holds, no incidents)."""
    rows = con.execute(
        f"""select domain, alert_date, scope, severity, alert_id
            from {schema}.fct_alerts
            where not is_suppressed and domain in ('usage', 'gpu_cost')
            order by alert_date, domain, scope, alert_id"""  # noqa: S608 - schema is a fixed identifier
    ).fetchall()
    return [Post(*row) for row in rows]


def last_finalised_cost_day(con: duckdb.DuckDBPyConnection, schema: str = "main_marts") -> dt.date | None:
    row = con.execute(
        f"select max(dt) from {schema}.fct_gpu_cost_daily where is_finalised"  # noqa: S608
    ).fetchone()
    return row[0] if row else None


def at_least(posts: Iterable[Post], min_severity: str) -> list[Post]:
    """The posts of severity `min_severity` or higher (an incident's severity is its highest member's)."""
    floor = SEVERITIES.index(min_severity)
    return [p for p in posts if SEVERITIES.index(p.severity) >= floor]


def evaluate(
    truth: dict,
    current: Sequence[Post],
    old: Sequence[Post],
    start: dt.date,
    end: dt.date,
    last_cost_day: dt.date | None,
    min_severity: str = "notice",
) -> dict:
    labels = labels_from_truth(truth, last_cost_day)
    out: dict = {
        "window": [start.isoformat(), end.isoformat()],
        "last_finalised_cost_day": str(last_cost_day),
        "min_severity": min_severity,
    }
    for policy, posts in (("old", at_least(old, min_severity)), ("current", at_least(current, min_severity))):
        out[policy] = {
            domain: score(
                [p for p in posts if p.domain == domain], [lb for lb in labels if lb.domain == domain], start, end
            )
            for domain in DOMAINS
        }
    return out


def run(
    raw_dir: str | Path,
    duckdb_path: str | Path,
    old_duckdb_path: str | Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    min_severity: str = "notice",
    loud: bool = False,
) -> dict:
    truth = json.loads((Path(raw_dir) / GROUND_TRUTH_FILE).read_text())
    start = start or _date(truth["start_date"])
    end = end or _date(truth["end_date"])
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        current = loud_posts(con) if loud else current_posts(con)
        last_cost_day = last_finalised_cost_day(con)
        old = old_posts(con) if old_duckdb_path is None else []
    if old_duckdb_path is not None:
        with duckdb.connect(str(old_duckdb_path), read_only=True) as con:
            old = old_posts(con)
    return evaluate(truth, current, old, start, end, last_cost_day, min_severity)


def table(result: dict) -> str:
    lines = [
        f"window {result['window'][0]} .. {result['window'][1]} "
        f"(cost labels up to {result['last_finalised_cost_day']}; posts of severity {result['min_severity']}+)",
        f"{'domain':<12} {'policy':<8} {'posts':>6} {'/wk mean':>9} {'/wk max':>8} "
        f"{'matched':>8} {'in_shift':>9} {'precision':>10} {'recall':>12}",
    ]
    for domain in DOMAINS:
        for policy in ("old", "current"):
            s = result[policy][domain]
            prec = "-" if s["precision"] is None else f"{s['precision']:.2f}"
            rec = "-" if s["recall"] is None else f"{s['recall']:.2f} ({s['labels_found']}/{s['labels']})"
            lines.append(
                f"{domain:<12} {policy:<8} {s['posts']:>6} {s['posts_per_week_mean']:>9} "
                f"{s['posts_per_week_max']:>8} {s['matched_posts']:>8} {s['in_shift_posts']:>9} {prec:>10} {rec:>12}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ltx_synth.evaluate_incidents", description=__doc__.split("\n\n")[0])
    p.add_argument("--raw-dir", required=True)
    p.add_argument("--duckdb", required=True, help="the build with the current rules")
    p.add_argument("--old-duckdb", help="a build of the same data with the old rule declarations (default: --duckdb)")
    p.add_argument("--from", dest="start", type=_date)
    p.add_argument("--to", dest="end", type=_date)
    p.add_argument(
        "--min-severity", choices=SEVERITIES, default="notice", help="count only posts of this severity or higher"
    )
    p.add_argument(
        "--loud",
        action="store_true",
        help="current = the loud incidents (any fct_alerts.is_loud), not the postable ones",
    )
    p.add_argument("--json", action="store_true", help="print the full result (missed labels included) as JSON")
    a = p.parse_args(argv)
    result = run(a.raw_dir, a.duckdb, a.old_duckdb, a.start, a.end, a.min_severity, a.loud)
    if a.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
