"""`python -m alerting backtest --compare-vars YAML | --compare-duckdb PATH`: what a change would post.

Two sets of fct_alerts rows over the same history: the shipped policy's (the warehouse as built)
and the change's (the alert layer rebuilt under other vars into a copy of the DuckDB file, or
another build, e.g. a pull request's). Pure comparison plus a thin dbt runner.

What a policy posts: the postable alerts (`is_postable`). Per ISO week and Slack channel (the
team's route), the posted alerts and incidents on each side. An incident of one side is *gained*
(or *lost*) when none of its posted series-days (domain, scope, metric, rule, day) is posted by the
other side: incident ids depend on where an incident starts, so they are not compared directly.
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

from alerting.backtest import iso_week
from alerting.model import Alert, severity_rank

ROOT = Path(__file__).resolve().parents[1]
# the alert layer (candidates, policy, fct_alerts) and everything downstream of it
ALERT_LAYER = "path:models/intermediate/alerts+"

SeriesDay = tuple[str, str, str, str, str]  # domain, scope, metric, rule, ISO day


class CompareError(ValueError):
    """Bad --compare-vars input or a failed rebuild; the message says which."""


@dataclass(frozen=True)
class Incident:
    key: str
    channel: str
    domain: str
    scope: str
    metric: str
    rule: str
    first: str
    last: str
    severity: str
    days: frozenset[SeriesDay]


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

    @property
    def differs(self) -> bool:
        return bool(self.gained or self.lost or any(r.differs for r in self.rows))


def _series_day(a: Alert) -> SeriesDay:
    return (a.domain, a.scope, a.metric, a.rule or "", a.alert_date.isoformat())


def incidents(alerts: Iterable[Alert], channel_for: Callable[[str | None], str]) -> list[Incident]:
    """The posted incidents of one side (postable alerts grouped by incident)."""
    groups: dict[str, list[Alert]] = {}
    for a in alerts:
        if a.postable:
            groups.setdefault(a.incident_key, []).append(a)
    out = []
    for key, members in groups.items():
        members.sort(key=lambda a: (a.alert_date, a.alert_id))
        head = members[0]
        worst = min((m.severity_key for m in members), key=lambda s: (severity_rank(s), s))
        out.append(
            Incident(
                key=key,
                channel=channel_for(head.team),
                domain=head.domain,
                scope=head.scope,
                metric=head.metric,
                rule=head.rule or "",
                first=members[0].alert_date.isoformat(),
                last=members[-1].alert_date.isoformat(),
                severity=worst,
                days=frozenset(_series_day(m) for m in members),
            )
        )
    return sorted(out, key=lambda i: (i.first, i.channel, i.domain, i.scope, i.metric, i.rule))


def _week_counts(
    alerts: Iterable[Alert], channel_for: Callable[[str | None], str]
) -> dict[tuple[str, str], tuple[int, int]]:
    """{(ISO week, channel): (posted alerts, posted incidents)}."""
    counts: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for a in alerts:
        if a.postable:
            cell = (iso_week(a.alert_date), channel_for(a.team))
            n, keys = counts.get(cell, (0, set()))
            counts[cell] = (n + 1, keys | {a.incident_key})
    return {k: (n, len(keys)) for k, (n, keys) in counts.items()}


def compare(base: Sequence[Alert], change: Sequence[Alert], channel_for: Callable[[str | None], str]) -> Comparison:
    """Per (week, channel) counts of both sides, and the incidents only one side posts."""
    left, right = _week_counts(base, channel_for), _week_counts(change, channel_for)
    rows = tuple(
        WeekRow(week, channel, *left.get((week, channel), (0, 0)), *right.get((week, channel), (0, 0)))
        for week, channel in sorted(left.keys() | right.keys())
    )
    base_incidents, change_incidents = incidents(base, channel_for), incidents(change, channel_for)
    base_days = {d for i in base_incidents for d in i.days}
    change_days = {d for i in change_incidents for d in i.days}
    gained = tuple(i for i in change_incidents if not i.days & base_days)
    lost = tuple(i for i in base_incidents if not i.days & change_days)
    return Comparison(rows=rows, gained=gained, lost=lost)


def _incident_lines(title: str, items: Sequence[Incident]) -> list[str]:
    lines = [f"### {title}: {len(items)}", ""]
    if not items:
        return [*lines, "none", ""]
    lines += ["| first day | last day | channel | domain | scope | metric | rule | severity |", "|---" * 8 + "|"]
    lines += [
        f"| {i.first} | {i.last} | {_md(i.channel)} | {_md(i.domain)} | {_md(i.scope)} | {_md(i.metric)} "
        f"| {_md(i.rule)} | {_md(i.severity)} |"
        for i in items
    ]
    return [*lines, ""]


def _md(text: str) -> str:
    """A table cell: no pipes or line breaks from data strings, backticks and angle brackets defused."""
    return re.sub(r"[|\r\n<>`]", " ", text)


def format_markdown(result: Comparison, base_label: str, change_label: str) -> str:
    """The difference as Markdown: the weeks and channels that differ, then gained and lost incidents."""
    lines = [f"## Backtest: {_md(change_label)} against {_md(base_label)}", ""]
    if not result.rows:
        return "\n".join([*lines, "Neither side posts anything over the loaded history.", ""])
    differing = [r for r in result.rows if r.differs]
    total = [sum(getattr(r, f) for r in result.rows) for f in ("base_alerts", "base_incidents")]
    total += [sum(getattr(r, f) for r in result.rows) for f in ("change_alerts", "change_incidents")]
    lines += [
        f"Posted over {len(result.rows)} week x channel cells: {base_label} {total[0]} alerts / {total[1]} incidents,"
        f" {change_label} {total[2]} alerts / {total[3]} incidents.",
        "",
    ]
    if not result.differs:
        return "\n".join([*lines, "**No difference**: both post the same alerts.", ""])
    lines += [
        "### Weeks and channels that differ (alerts / incidents posted)",
        "",
        f"| week | channel | {_md(base_label)} | {_md(change_label)} |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r.week} | {_md(r.channel)} | {r.base_alerts} / {r.base_incidents} | "
        f"{r.change_alerts} / {r.change_incidents} |"
        for r in differing
    ]
    lines.append("")
    lines += _incident_lines(f"Incidents gained (posted only by {change_label})", result.gained)
    lines += _incident_lines(f"Incidents lost (posted only by {base_label})", result.lost)
    return "\n".join(lines)


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


def models_using(manifest: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """Models whose SQL, or a macro they call (at any depth), reads one of these vars by name or
    reads a var by a computed name (`var(prefix ~ 'notice')`: it may be one of them)."""
    literal = "|".join(re.escape(n) for n in names)
    pattern = re.compile(r"var\(\s*(?:['\"](?:" + literal + r")['\"]|[^'\"\s])")
    macros: Mapping[str, Any] = manifest["macros"]
    memo: dict[str, bool] = {}

    def macro_reads(uid: str) -> bool:
        if uid not in memo:
            memo[uid] = False  # a cycle reads nothing new
            macro = macros.get(uid, {})
            memo[uid] = bool(pattern.search(macro.get("macro_sql", ""))) or any(
                macro_reads(m) for m in macro.get("depends_on", {}).get("macros", [])
            )
        return memo[uid]

    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and (pattern.search(node.get("raw_code", "")) or any(macro_reads(m) for m in node["depends_on"]["macros"]))
    )


def _dbt(args: list[str], env: Mapping[str, str], log_path: Path) -> None:
    command = [str(ROOT / ".venv" / "bin" / "dbt"), *args, "--no-use-colors"]
    with log_path.open("w") as out:
        result = subprocess.run(command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise CompareError(f"dbt {args[0]} under the compared vars failed (exit {result.returncode}):\n{tail}")


def _compiled(
    work_dir: Path, name: str, models: Sequence[str], dbt_vars: Mapping[str, Any] | None, env: Mapping[str, str]
) -> dict[str, str]:
    """{model name: compiled SQL} of these models under these vars (None: the project's defaults)."""
    target = work_dir / name
    args = ["compile", "--target", "duckdb", "--target-path", str(target), "--select", *models]
    _dbt([*args, *(["--vars", json.dumps(dbt_vars)] if dbt_vars else [])], env, work_dir / f"dbt_{name}.log")
    nodes = json.loads((target / "manifest.json").read_text())["nodes"].values()
    return {n["name"]: n.get("compiled_code") or "" for n in nodes if n["name"] in models}


def models_changed_by(dbt_vars: Mapping[str, Any], work_dir: Path, env: Mapping[str, str]) -> list[str]:
    """The models whose compiled SQL differs under these vars (candidates: models_using)."""
    _dbt(["parse", "--target", "duckdb", "--target-path", str(work_dir / "change"), "--vars", json.dumps(dbt_vars)],
         env, work_dir / "dbt_parse.log")  # fmt: skip
    candidates = models_using(json.loads((work_dir / "change" / "manifest.json").read_text()), dbt_vars)
    if not candidates:
        return []
    changed, shipped = (
        _compiled(work_dir, "change", candidates, dbt_vars, env),
        _compiled(work_dir, "shipped", candidates, None, env),
    )
    return sorted(name for name in candidates if changed.get(name) != shipped.get(name))


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
