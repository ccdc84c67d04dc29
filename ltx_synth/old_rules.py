"""The `--vars` JSON that builds the marts with the cost rule declarations before 2b4f04f.

``python -m ltx_synth.old_rules [--project dbt_project.yml] [--run-date D] > before_vars.json``

dbt replaces a top-level var whole, so the JSON carries all of `alert_rules` as
`dbt_project.yml` declares it, with the three changes undone: `cost_zscore` on the 28-day
rolling baseline, `day_over_day_jump` against the previous day, no `idle_without_traffic` (nor
the usage week-over-week check, once declared).
Build with it (``dbt build --exclude-resource-type unit_test --vars "$(cat before_vars.json)"``;
the unit tests pin the shipped declarations) to measure the old behaviour on the same data
(docs/measurements.md, "Measured: before and after").
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import yaml

OLD_BASELINES = {"cost_zscore": "rolling", "day_over_day_jump": "previous_day"}
# rules that did not exist then (popped when declared; the usage week-over-week check is in progress)
NEW_RULES = ("idle_without_traffic", "usage_week_over_week_shift")


def old_rule_vars(project: dict, run_date: str | None = None) -> dict:
    rules = copy.deepcopy(project["vars"]["alert_rules"])
    for name, baseline in OLD_BASELINES.items():
        rules[name]["baseline_kind"] = baseline
    for name in NEW_RULES:
        rules.pop(name, None)
    out: dict = {"alert_rules": rules}
    if run_date:
        out["run_date"] = run_date
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ltx_synth.old_rules", description=__doc__.split("\n\n")[0])
    p.add_argument("--project", type=Path, default=Path("dbt_project.yml"))
    p.add_argument("--run-date", help="also set run_date (YYYY-MM-DD)")
    a = p.parse_args(argv)
    json.dump(old_rule_vars(yaml.safe_load(a.project.read_text()), a.run_date), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
