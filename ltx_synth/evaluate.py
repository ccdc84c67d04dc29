"""Detection quality of the usage alerts against the generator's ground truth.

``python -m ltx_synth.evaluate --raw-dir data/raw --duckdb data/ltx_monitoring.duckdb``

An injected usage anomaly is a (day, segment) with the metrics it moves (a DAU
drop moves all four; a metric spike one). Every (day, segment, metric) it moves
is one expected alert. Alerts counted: usage rows of ``fct_alerts`` with
severity warning or critical that are not suppressed, on days where a full
10-week baseline exists (the only days anomalies are injected on).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import duckdb

from ltx_synth.generate import GROUND_TRUTH_FILE

BASELINE_DAYS = 70


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate_usage_alerts(raw_dir: str | Path, duckdb_path: str | Path, schema: str = "main_marts") -> dict:
    truth_doc = json.loads((Path(raw_dir) / GROUND_TRUTH_FILE).read_text())
    start = dt.date.fromisoformat(truth_doc["start_date"])
    end = dt.date.fromisoformat(truth_doc["end_date"])
    first_scored = start + dt.timedelta(days=BASELINE_DAYS)
    expected = {(a["dt"], a["segment"], m) for a in truth_doc["usage_anomalies"] for m in a["affected_metrics"]}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        rows = con.execute(
            f"""select cast(alert_date as varchar), scope, metric, severity, direction
                from {schema}.fct_alerts
                where domain = 'usage' and not is_suppressed and severity in ('warning', 'critical')
                  and alert_date between ? and ?""",  # noqa: S608 - schema is a validated identifier
            [first_scored, end],
        ).fetchall()
    found = {(d, s, m) for d, s, m, _, _ in rows}
    tp = sorted(found & expected)
    fp = sorted(found - expected)
    fn = sorted(expected - found)
    return {
        "window": [first_scored.isoformat(), end.isoformat()],
        "expected_alerts": len(expected),
        "warning_plus_alerts": len(found),
        "tp": len(tp),
        "fp": len(fp),
        "fn": len(fn),
        "precision": _ratio(len(tp), len(found)),
        "recall": _ratio(len(tp), len(expected)),
        "anomalies_injected": len(truth_doc["usage_anomalies"]),
        "anomalies_detected": sum(
            1
            for a in truth_doc["usage_anomalies"]
            if any((a["dt"], a["segment"], m) in found for m in a["affected_metrics"])
        ),
        "missed": [list(k) for k in fn],
        "false_positives": [list(k) for k in fp],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ltx_synth.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--raw-dir", required=True)
    p.add_argument("--duckdb", required=True)
    a = p.parse_args(argv)
    json.dump({"usage": evaluate_usage_alerts(a.raw_dir, a.duckdb)}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
