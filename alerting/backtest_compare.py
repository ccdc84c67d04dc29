"""`python -m alerting backtest --compare-vars YAML | --compare-duckdb PATH`: the shipped build's fct_alerts
against the change's (the alert layer rebuilt under other vars in a copy of the DuckDB file, or another build):
posts per ISO week and channel, the incidents only one side posts (by series-day: incident ids depend on where
an incident starts), and which false alarms and acknowledged incidents it drops."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alerting.backtest import Cell, Feedback, incident_feedback, iso_week
from alerting.model import Alert, group_incidents

ROOT = Path(__file__).resolve().parents[1]
ALERT_LAYER = "path:models/intermediate/alerts+"  # candidates, policy, fct_alerts and what follows
INCIDENT_COLUMNS = ("first day", "last day", "channel", "domain", "scope", "metric", "rule", "severity")
ChannelFor = Callable[[str | None], str]


class CompareError(ValueError):
    """Bad --compare-vars input or a failed rebuild."""


@dataclass(frozen=True)
class Incident:
    key: str
    cells: tuple[str, ...]  # INCIDENT_COLUMNS
    days: frozenset[tuple[str, ...]]  # its posted series-days: domain, scope, metric, rule, day
    said: frozenset[str]  # what people said of it from Slack


@dataclass(frozen=True)
class Comparison:
    rows: tuple[tuple[str, str, Cell, Cell], ...]  # week, channel, shipped, change
    gained: tuple[Incident, ...]
    lost: tuple[Incident, ...]
    base_feedback: Feedback  # on the shipped side's loud incidents
    change_feedback: Feedback  # on those of them the change still posts

    @property
    def differs(self) -> bool:
        return bool(self.gained or self.lost or any(base != change for _, _, base, change in self.rows))


def incidents(alerts: Iterable[Alert], channel_for: ChannelFor) -> list[Incident]:
    """The posted incidents of one side (postable alerts grouped by incident), with what people said of them."""
    alerts = list(alerts)
    said = incident_feedback(alerts)
    out = []
    for i in group_incidents(a for a in alerts if a.is_postable):
        members = sorted(i.alerts, key=lambda a: (a.alert_date, a.alert_id))
        head, last = members[0], members[-1]
        cells = (str(head.alert_date), str(last.alert_date), channel_for(head.team), head.domain, head.scope,
                 head.metric, head.rule or "", i.severity)  # fmt: skip
        days = frozenset((a.domain, a.scope, a.metric, a.rule or "", a.alert_date.isoformat()) for a in members)
        out.append(Incident(i.incident_id, cells, days, said.get(i.incident_id, frozenset())))
    return sorted(out, key=lambda i: i.cells[:7])


def _week_counts(alerts: Iterable[Alert], channel_for: ChannelFor) -> dict[tuple[str, str], Cell]:
    keys: dict[tuple[str, str], list[str]] = {}
    for a in (a for a in alerts if a.is_postable):
        keys.setdefault((iso_week(a.alert_date), channel_for(a.team)), []).append(a.incident_id)
    return {k: Cell(len(v), len(set(v))) for k, v in keys.items()}


def compare(base: Sequence[Alert], change: Sequence[Alert], channel_for: ChannelFor) -> Comparison:
    """Per (week, channel) counts of both sides, the incidents only one side posts, and people's feedback."""
    left, right = _week_counts(base, channel_for), _week_counts(change, channel_for)
    rows = tuple((*k, left.get(k, Cell(0, 0)), right.get(k, Cell(0, 0))) for k in sorted(left.keys() | right.keys()))
    base_incidents, change_incidents = incidents(base, channel_for), incidents(change, channel_for)
    base_days, change_days = ({d for i in side for d in i.days} for side in (base_incidents, change_incidents))
    lost = tuple(i for i in base_incidents if not i.days & change_days)
    said = incident_feedback(base)
    return Comparison(
        rows=rows,
        gained=tuple(i for i in change_incidents if not i.days & base_days),
        lost=lost,
        base_feedback=Feedback(tuple(said.values())),
        change_feedback=Feedback(tuple(said[k] for k in said.keys() - {i.key for i in lost})),
    )


def _md(text: str) -> str:  # a table cell: no pipe, line break, backtick or angle bracket from data
    return re.sub(r"[|\r\n<>`]", " ", text)


def _table(head: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    return [*lines, *("| " + " | ".join(_md(str(c)) for c in row) + " |" for row in rows), ""]


def _incidents(title: str, items: Sequence[Incident]) -> list[str]:
    body = _table(INCIDENT_COLUMNS, [i.cells for i in items]) if items else ["none", ""]
    return [f"### {title}: {len(items)}", "", *body]


def format_markdown(result: Comparison, base_label: str, change_label: str) -> str:
    """The weeks and channels that differ, the incidents gained and lost, and what people said of them."""
    base_label, change_label = _md(base_label), _md(change_label)
    lines = [f"## Backtest: {change_label} against {base_label}", ""]
    if not result.rows:
        return "\n".join([*lines, "Neither side posts anything over the loaded history.", ""])
    base = sum((b for _, _, b, _ in result.rows), Cell(0, 0))
    change = sum((c for _, _, _, c in result.rows), Cell(0, 0))
    sides = f"{base_label} {base.alerts} alerts / {base.incidents} incidents, {change_label} {change.alerts} alerts"
    lines += [f"Posted over {len(result.rows)} week x channel cells: {sides} / {change.incidents} incidents.", ""]
    if not result.differs:
        return "\n".join([*lines, "**No difference**: both post the same alerts.", ""])
    lines += ["### Weeks and channels that differ (alerts/incidents posted)", ""]
    lines += _table(("week", "channel", base_label, change_label), (r for r in result.rows if r[2] != r[3]))
    lines += _incidents(f"Incidents gained (posted only by {change_label})", result.gained)
    lines += _incidents(f"Incidents lost (posted only by {base_label})", result.lost)
    fb = result.base_feedback
    lines += ["### Feedback from Slack on the loud incidents", "", f"{base_label}: {fb}.", ""]
    lines += [f"{change_label} (those it still posts): {result.change_feedback}.", ""]
    for action, what in (("false_alarm", "False alarms {} drops"), ("acknowledge", "Acknowledged incidents {} loses")):
        title = what.format(change_label) + f" (of {fb.count(action)})"
        lines += _incidents(title, [i for i in result.lost if action in i.said])
    return "\n".join(lines)


def parse_vars(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CompareError(f"--compare-vars {path}: {exc}") from None
    names = loaded if isinstance(loaded, dict) and loaded else [""]
    if not all(isinstance(k, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k) for k in names):
        raise CompareError(f"--compare-vars {path}: expected a non-empty mapping of dbt var names to values")
    return dict(loaded)


def _dbt(args: list[str], env: Mapping[str, str], log_path: Path) -> None:
    command = [str(ROOT / ".venv" / "bin" / "dbt"), *args, "--no-use-colors"]
    with log_path.open("w") as out:
        result = subprocess.run(command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise CompareError(f"dbt {args[0]} under the compared vars failed (exit {result.returncode}):\n{tail}")


def models_changed_by(dbt_vars: Mapping[str, Any], work_dir: Path, env: Mapping[str, str]) -> list[str]:
    """The models whose compiled SQL under these vars differs from the project's defaults (the build's own
    invocation id, which every compile changes, left out)."""
    compiled = []
    for name, extra in (("shipped", []), ("change", ["--vars", json.dumps(dbt_vars)])):
        target = work_dir / name
        args = ["compile", "--target", "duckdb", "--target-path", str(target), "--select", "resource_type:model"]
        _dbt([*args, *extra], env, work_dir / f"dbt_{name}.log")
        manifest = json.loads((target / "manifest.json").read_text())
        build = manifest["metadata"]["invocation_id"]
        nodes = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
        compiled.append({n["name"]: (n.get("compiled_code") or "").replace(build, "") for n in nodes})
    shipped, change = compiled
    return sorted(name for name, code in change.items() if code != shipped.get(name))


def build_under_vars(dbt_vars: Mapping[str, Any], base_db: Path, work_dir: Path, env: Mapping[str, str]) -> Path:
    """Copy the DuckDB warehouse and rebuild in the copy, under these vars, the alert layer and every
    model whose SQL the vars change, with what depends on them (full refresh, no tests)."""
    if not base_db.exists():
        raise CompareError(f"{base_db} not found: run dbt build first")
    copy = work_dir / "compare.duckdb"
    for suffix in ("", ".wal"):
        if (base_db.parent / (base_db.name + suffix)).exists():
            shutil.copyfile(base_db.parent / (base_db.name + suffix), work_dir / (copy.name + suffix))
    run_env = {**env, "LTX_DUCKDB_PATH": str(copy), "DO_NOT_TRACK": "1"}
    selection = [ALERT_LAYER, *(f"{name}+" for name in models_changed_by(dbt_vars, work_dir, run_env))]
    args = ["run", "--target", "duckdb", "--target-path", str(work_dir / "change"), "--vars", json.dumps(dbt_vars)]
    _dbt([*args, "--full-refresh", "--select", *selection], run_env, work_dir / "dbt_run.log")
    return copy
