"""Detection quality of the GPU cost alerts against the generator's ground truth.

``python -m ltx_synth.evaluate_cost --raw-dir data/raw --duckdb data/ltx_monitoring.duckdb``

An injected cost anomaly is a (day, vertical) (``gpu_cost_anomalies`` in
``ground_truth.json``: kind idle_spike | inference_spike | failure_spike and,
for the last two, the endpoint / model / process that drove it). It counts as
found when a non-suppressed gpu_cost alert of severity warning or critical
exists for that vertical and day. Every (day, vertical) with such an alert and
no injected anomaly is a false positive. Anomalies on days after the newest
day the alerts could be evaluated on (cost data not yet finalised) are
reported apart and left out of recall.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import duckdb

from ltx_synth.generate import GROUND_TRUTH_FILE

SEVERITIES = ("warning", "critical")


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _alerts(duckdb_path: str | Path, schema: str, rules: Iterable[str] | None) -> list[tuple]:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        rows = con.execute(
            f"""select cast(alert_date as varchar), scope, rule, metric, severity, coalesce(drivers_summary, '')
                from {schema}.fct_alerts
                where domain = 'gpu_cost' and not is_suppressed and severity in (?, ?)
                order by 1, 2, 3, 4""",  # noqa: S608 - schema is a fixed identifier, not user input
            list(SEVERITIES),
        ).fetchall()
    keep = None if rules is None else set(rules)
    return [r for r in rows if keep is None or r[2] in keep]


def _last_evaluated_day(duckdb_path: str | Path, schema: str) -> str | None:
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        row = con.execute(
            f"select cast(max(dt) as varchar) from {schema}.fct_gpu_cost_daily where is_finalised"  # noqa: S608
        ).fetchone()
    return row[0] if row else None


def evaluate_cost_alerts(
    raw_dir: str | Path, duckdb_path: str | Path, schema: str = "main_marts", rules: Iterable[str] | None = None
) -> dict:
    """Precision / recall of warning+ cost alerts per (day, vertical) vs the injected anomalies.

    ``rules`` restricts the evaluation to some alert rules (default: all), e.g. to
    measure what one rule costs in precision.
    """
    truth = json.loads((Path(raw_dir) / GROUND_TRUTH_FILE).read_text())
    last_day = _last_evaluated_day(duckdb_path, schema)
    anomalies = truth["gpu_cost_anomalies"]
    evaluable = [a for a in anomalies if last_day is not None and a["dt"] <= last_day]
    expected = {(a["dt"], a["vertical"]) for a in evaluable}

    by_key: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for day, scope, rule, metric, severity, drivers in _alerts(duckdb_path, schema, rules):
        by_key[(day, scope)].append((rule, metric, severity, drivers))
    found = set(by_key)
    tp, fp, fn = found & expected, found - expected, expected - found

    detail = []
    for a in anomalies:
        key = (a["dt"], a["vertical"])
        fired = by_key.get(key, [])
        driver_values = list((a.get("driver") or {}).values())
        detail.append(
            {
                **a,
                "evaluable": a in evaluable,
                "found": key in found,
                "rules": sorted({f"{rule}:{metric}:{severity}" for rule, metric, severity, _ in fired}),
                # the injected driver (endpoint / model / process) is named in some alert's drivers_summary
                "driver_named": (
                    None
                    if not driver_values or not fired
                    else any(all(v in drivers for v in driver_values) for _, _, _, drivers in fired)
                ),
            }
        )
    rules_tp: Counter[str] = Counter()
    rules_fp: Counter[str] = Counter()
    for key, fired in by_key.items():
        target = rules_tp if key in expected else rules_fp
        for rule in {r for r, _, _, _ in fired}:
            target[rule] += 1
    return {
        "last_evaluated_day": last_day,
        "anomalies_injected": len(anomalies),
        "anomalies_evaluable": len(evaluable),
        "alerted_day_verticals": len(found),
        "tp": len(tp),
        "fp": len(fp),
        "fn": len(fn),
        "precision": _ratio(len(tp), len(found)),
        "recall": _ratio(len(tp), len(expected)),
        "anomalies": detail,
        "false_positives": [
            {"dt": d, "vertical": v, "rules": sorted({f"{r}:{m}:{s}" for r, m, s, _ in by_key[(d, v)]})}
            for d, v in sorted(fp)
        ],
        "day_verticals_per_rule": {
            "on_anomaly": dict(sorted(rules_tp.items())),
            "without_anomaly": dict(sorted(rules_fp.items())),
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ltx_synth.evaluate_cost", description=__doc__.split("\n\n")[0])
    p.add_argument("--raw-dir", required=True)
    p.add_argument("--duckdb", required=True)
    p.add_argument("--rule", action="append", help="evaluate only this rule (repeatable; default: all rules)")
    a = p.parse_args(argv)
    json.dump({"gpu_cost": evaluate_cost_alerts(a.raw_dir, a.duckdb, rules=a.rule)}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
