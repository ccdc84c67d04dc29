"""`python -m alerting backtest --compare-vars YAML | --compare-duckdb PATH`: what a change would post.

Two sets of fct_alerts rows over the same history: the shipped build's and the change's (the alert
layer rebuilt under other vars into a copy of the DuckDB file, or another build). What a side posts:
its postable alerts, counted per ISO week and Slack channel. An incident of one side is *gained* (or
*lost*) when none of its posted series-days (domain, scope, metric, rule, day) is posted by the other
side (incident ids depend on where an incident starts). People's feedback on the shipped side's loud
incidents (fct_alerts.feedback_action) says which false alarms the change drops and which
acknowledged incidents it loses.
"""

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

from alerting.backtest import Feedback, feedback_of, incident_feedback, iso_week
from alerting.model import Alert, group_incidents

ROOT = Path(__file__).resolve().parents[1]
ALERT_LAYER = "path:models/intermediate/alerts+"  # candidates, policy, fct_alerts and what follows
INCIDENT_COLUMNS = ("first day", "last day", "channel", "domain", "scope", "metric", "rule", "severity")

COUNTS = ("base_alerts", "base_incidents", "change_alerts", "change_incidents")
SeriesDay = tuple[str, str, str, str, str]  # domain, scope, metric, rule, ISO day


class CompareError(ValueError):
    """Bad --compare-vars input or a failed rebuild; the message says which."""


@dataclass(frozen=True)
class Incident:
    key: str
    cells: tuple[str, ...]  # INCIDENT_COLUMNS
    days: frozenset[SeriesDay]
    said: frozenset[str] = frozenset()  # what people said of it from Slack (its loud alerts' feedback)

    @property
    def first(self) -> str:
        return self.cells[0]

    @property
    def channel(self) -> str:
        return self.cells[2]


@dataclass(frozen=True)
class WeekRow:
    week: str
    channel: str
    base_alerts: int
    base_incidents: int
    change_alerts: int
    change_incidents: int

    @property
    def differs(self) -> bool:
        return (self.base_alerts, self.base_incidents) != (self.change_alerts, self.change_incidents)


@dataclass(frozen=True)
class Comparison:
    rows: tuple[WeekRow, ...]
    gained: tuple[Incident, ...]
    lost: tuple[Incident, ...]
    base_feedback: Feedback  # on the shipped side's loud incidents
    change_feedback: Feedback  # on those of them the change still posts

    @property
    def differs(self) -> bool:
        return bool(self.gained or self.lost or any(r.differs for r in self.rows))


def incidents(alerts: Iterable[Alert], channel_for: Callable[[str | None], str]) -> list[Incident]:
    """The posted incidents of one side (postable alerts grouped by incident), with what people said of them."""
    alerts = list(alerts)
    said = incident_feedback(alerts)
    out = []
    for i in group_incidents(a for a in alerts if a.postable):
        members = sorted(i.alerts, key=lambda a: (a.alert_date, a.alert_id))
        head = members[0]
        cells = (str(head.alert_date), str(members[-1].alert_date), channel_for(head.team), head.domain, head.scope,
                 head.metric, head.rule or "", i.severity)  # fmt: skip
        days = frozenset((a.domain, a.scope, a.metric, a.rule or "", a.alert_date.isoformat()) for a in members)
        out.append(Incident(i.incident_id, cells, days, said.get(i.incident_id, frozenset())))
    return sorted(out, key=lambda i: (i.first, *i.cells[2:7]))


def _week_counts(
    alerts: Iterable[Alert], channel_for: Callable[[str | None], str]
) -> dict[tuple[str, str], tuple[int, int]]:
    """{(ISO week, channel): (posted alerts, posted incidents)}."""
    counts: dict[tuple[str, str], list[str]] = {}
    for a in alerts:
        if a.postable:
            counts.setdefault((iso_week(a.alert_date), channel_for(a.team)), []).append(a.incident_key)
    return {k: (len(keys), len(set(keys))) for k, keys in counts.items()}


def compare(base: Sequence[Alert], change: Sequence[Alert], channel_for: Callable[[str | None], str]) -> Comparison:
    """Per (week, channel) counts of both sides, the incidents only one side posts, and people's feedback."""
    left, right = _week_counts(base, channel_for), _week_counts(change, channel_for)
    rows = tuple(
        WeekRow(week, channel, *left.get((week, channel), (0, 0)), *right.get((week, channel), (0, 0)))
        for week, channel in sorted(left.keys() | right.keys())
    )
    base_incidents, change_incidents = incidents(base, channel_for), incidents(change, channel_for)
    base_days = {d for i in base_incidents for d in i.days}
    change_days = {d for i in change_incidents for d in i.days}
    lost = tuple(i for i in base_incidents if not i.days & change_days)
    said = incident_feedback(base)
    kept = said.keys() - {i.key for i in lost}
    return Comparison(
        rows=rows,
        gained=tuple(i for i in change_incidents if not i.days & base_days),
        lost=lost,
        base_feedback=feedback_of(said.values()),
        change_feedback=feedback_of(said[k] for k in kept),
    )


def sum_cell(row: WeekRow, side: str) -> str:
    return f"{getattr(row, side + '_alerts')} / {getattr(row, side + '_incidents')}"


def _md(text: str) -> str:
    """A table cell: no pipes or line breaks from data strings, backticks and angle brackets defused."""
    return re.sub(r"[|\r\n<>`]", " ", text)


def _incident_lines(title: str, items: Sequence[Incident]) -> list[str]:
    lines = [f"### {title}: {len(items)}", ""]
    if not items:
        return [*lines, "none", ""]
    lines += ["| " + " | ".join(INCIDENT_COLUMNS) + " |", "|---" * len(INCIDENT_COLUMNS) + "|"]
    return [*lines, *("| " + " | ".join(_md(c) for c in i.cells) + " |" for i in items), ""]


def _feedback_lines(result: Comparison, base_label: str, change_label: str) -> list[str]:
    """What people said from Slack of the shipped side's loud incidents, and what the change does to them."""
    fb = result.base_feedback
    lines = ["### Feedback from Slack on the loud incidents", "", f"{base_label}: {fb}.", ""]
    lines += [f"{change_label} (those it still posts): {result.change_feedback}.", ""]
    for action, verb in (("false_alarm", "drops"), ("acknowledge", "loses")):
        labelled = [i for i in result.lost if action in i.said]
        title = f"{'False alarms' if action == 'false_alarm' else 'Acknowledged incidents'} {change_label} {verb}"
        lines += _incident_lines(f"{title} (of {fb.said[action]})", labelled)
    return lines


def format_markdown(result: Comparison, base_label: str, change_label: str) -> str:
    """The difference as Markdown: the weeks and channels that differ, gained and lost incidents, feedback."""
    base_label, change_label = _md(base_label), _md(change_label)
    lines = [f"## Backtest: {change_label} against {base_label}", ""]
    if not result.rows:
        return "\n".join([*lines, "Neither side posts anything over the loaded history.", ""])
    sums = [sum(getattr(r, f) for r in result.rows) for f in COUNTS]
    lines += [
        f"Posted over {len(result.rows)} week x channel cells: {base_label} {sums[0]} alerts / {sums[1]} incidents,"
        f" {change_label} {sums[2]} alerts / {sums[3]} incidents.",
        "",
    ]
    if not result.differs:
        return "\n".join([*lines, "**No difference**: both post the same alerts.", ""])
    lines += ["### Weeks and channels that differ (alerts / incidents posted)", ""]
    lines += [f"| week | channel | {base_label} | {change_label} |", "|---|---|---|---|"]
    lines += [
        f"| {r.week} | {_md(r.channel)} | {sum_cell(r, 'base')} | {sum_cell(r, 'change')} |"
        for r in result.rows
        if r.differs
    ]
    lines += ["", *_incident_lines(f"Incidents gained (posted only by {change_label})", result.gained)]
    lines += _incident_lines(f"Incidents lost (posted only by {base_label})", result.lost)
    return "\n".join(lines + _feedback_lines(result, base_label, change_label))


def parse_vars(path: Path) -> dict[str, Any]:
    """The YAML file of --compare-vars: a mapping of dbt var names to values."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CompareError(f"--compare-vars {path}: {exc}") from None
    if not isinstance(loaded, dict) or not loaded or not all(isinstance(k, str) for k in loaded):
        raise CompareError(f"--compare-vars {path}: expected a non-empty mapping of dbt var names to values")
    for name in loaded:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise CompareError(f"--compare-vars {path}: {name!r} is not a dbt var name")
    return loaded


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
    shutil.copyfile(base_db, copy)
    wal = base_db.with_name(base_db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    run_env = {**env, "LTX_DUCKDB_PATH": str(copy), "DO_NOT_TRACK": "1"}
    selection = [ALERT_LAYER, *(f"{name}+" for name in models_changed_by(dbt_vars, work_dir, run_env))]
    args = ["run", "--target", "duckdb", "--target-path", str(work_dir / "change"), "--vars", json.dumps(dbt_vars)]
    _dbt([*args, "--full-refresh", "--select", *selection], run_env, work_dir / "dbt_run.log")
    return copy
