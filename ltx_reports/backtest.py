"""`python -m alerting backtest`: what each posting policy would have posted of every fct_alerts row of the
window, held or not, and what people said from Slack of the loud incidents it posts. `--compare-vars YAML |
--compare-duckdb PATH`: the shipped build against a change (the alert layer rebuilt under other vars in a copy
of the DuckDB file, or another build): posts and loud posts per week and channel, the incidents only one side
posts, or posts loudly (by series-day: incident ids depend on where an incident starts), the false alarms and
acknowledged ones it no longer posts loudly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from alerting.model import Alert, group_incidents, severity_rank
from alerting.routing import RoutingError, load_routing
from alerting.values import plural
from alerting.warehouse import WarehouseError, config_from_env, open_backend, read_alert_history

log = logging.getLogger("alerting")
ROOT = Path(__file__).resolve().parents[1]
ALERT_LAYER = "path:models/intermediate/alerts+"  # candidates, policy, fct_alerts and what follows
INCIDENT_COLUMNS = ("first day", "last day", "channel", "domain", "scope", "metric", "rule", "severity")
MIN_CHANGE = 0.10
ACTIONS = {"acknowledge": "acknowledged", "snooze": "snoozed", "expected": "expected", "false_alarm": "false alarm"}
ChannelFor = Callable[[str | None, str | None, str | None], str]  # team, domain, severity
Policy = Callable[[Alert], bool]  # what a posting policy posts


def hold_reason(alert: Alert) -> str | None:
    if alert.is_postable:
        return None
    return alert.hold_reason or ("suppressed" if alert.is_suppressed else "held")


POLICIES: dict[str, Policy] = {  # "current" is the shipped policy: what --compare compares
    "current": lambda a: a.is_postable,
    "warning+": lambda a: a.is_postable and severity_rank(a.severity) <= 1,
    "min points 5": lambda a: (
        a.is_postable or (a.hold_reason == "insufficient_baseline" and (a.baseline_points or 0) >= 5)
    ),
    "no min points": lambda a: a.is_postable or a.hold_reason == "insufficient_baseline",
    "robust agrees": lambda a: a.is_postable and a.robust_agrees is not False,  # a rule without one: not judged
    "min change 10%": lambda a: a.is_postable and a.pct_change is not None and abs(a.pct_change) >= MIN_CHANGE,
    "loud": lambda a: a.is_loud,  # of the shipped policy's posts, those that notify the channel (fct_alerts.is_loud)
}
POSTED, LOUD = POLICIES["current"], POLICIES["loud"]


def iso_week(day: dt.date) -> str:
    return day.strftime("%G-W%V")


@dataclass(frozen=True)
class Cell:
    alerts: int
    incidents: int
    loud: int = 0  # a comparison's: of the incidents, those with a loud alert (fct_alerts.is_loud)

    def __str__(self) -> str:
        return f"{self.alerts}/{self.incidents}"

    def __add__(self, other: Cell) -> Cell:
        return Cell(self.alerts + other.alerts, self.incidents + other.incidents, self.loud + other.loud)


@dataclass(frozen=True)
class Feedback:
    """What people said from Slack of some loud incidents: per incident, the actions on its loud alerts (an
    incident counts under each, as fct_alert_feedback_weekly counts; none: no answer)."""

    answers: tuple[frozenset[str], ...]

    def count(self, action: str) -> int:
        return sum(1 for said in self.answers if action in said)

    @property
    def no_answer(self) -> int:
        return sum(1 for said in self.answers if not said)

    @property
    def precision(self) -> float | None:
        answered = len(self.answers) - self.no_answer
        return 1 - self.count("false_alarm") / answered if answered else None

    def __str__(self) -> str:
        said = ", ".join(f"{label} {self.count(action)}" for action, label in ACTIONS.items())
        p = "n/a" if self.precision is None else f"{self.precision:.0%}"
        n = plural(len(self.answers), "loud incident")
        return f"{n}: {said}, no answer {self.no_answer}; precision from people {p}"


def incident_feedback(alerts: Iterable[Alert]) -> dict[str, frozenset[str]]:
    said: dict[str, set[str]] = {}
    for a in alerts:
        if a.is_loud:
            said.setdefault(a.incident_id, set()).update([a.feedback_action] if a.feedback_action else [])
    return {k: frozenset(v) for k, v in said.items()}


@dataclass(frozen=True)
class Result:
    alerts: tuple[Alert, ...]
    policies: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[Cell, ...]], ...]  # (week, severity, cells per policy)
    totals: tuple[Cell, ...]
    feedback: tuple[Feedback, ...]  # per policy: people's answers on the loud incidents it still posts

    @property
    def held(self) -> dict[str, int]:
        return dict(sorted(Counter(r for a in self.alerts if (r := hold_reason(a))).items()))


def _week_cells(
    alerts: Iterable[Alert], key: Callable[[Alert], str], incident_key: Callable[[Alert], str] | None = None
) -> dict[tuple[str, str], Cell]:
    """Per (ISO week, key): the alerts and, per (week, incident_key or key), the distinct incidents."""
    counted: Counter[tuple[str, str]] = Counter()
    incidents: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for a in alerts:
        counted[iso_week(a.alert_date), key(a)] += 1
        incidents[iso_week(a.alert_date), (incident_key or key)(a)].add(a.incident_id)
    return {k: Cell(counted[k], len(incidents[k])) for k in counted.keys() | incidents.keys()}


def _worst_posted(side: Sequence[Alert]) -> Callable[[Alert], str]:
    worst = {i.incident_id: i.severity for i in group_incidents(side)}
    return lambda a: worst[a.incident_id]


def run_backtest(alerts: Iterable[Alert], policies: Mapping[str, Policy] = POLICIES) -> Result:
    """Counts per (ISO week, severity) and policy; an incident is counted under the most severe of its members that
    the policy posts (a member it does not post cannot put the incident in a row of none of its alerts)."""
    alerts = list(alerts)
    posted = [[a for a in alerts if posts(a)] for posts in policies.values()]
    cells = [_week_cells(side, lambda a: a.severity, _worst_posted(side)) for side in posted]
    keys = sorted({(iso_week(a.alert_date), a.severity) for a in alerts}, key=lambda k: (k[0], severity_rank(k[1])))
    said = incident_feedback(alerts)
    return Result(
        alerts=tuple(alerts),
        policies=tuple(policies),
        rows=tuple((*k, tuple(side.get(k, Cell(0, 0)) for side in cells)) for k in keys),
        totals=tuple(Cell(len(side), len({a.incident_id for a in side})) for side in posted),
        feedback=tuple(
            Feedback(tuple(said[k] for k in sorted({a.incident_id for a in side} & said.keys()))) for side in posted
        ),
    )


def format_result(result: Result) -> str:
    if not result.alerts:
        return "Backtest: no alerts in the window.\n"
    days = sorted(a.alert_date for a in result.alerts)
    domains = ", ".join(f"{d} {n}" for d, n in sorted(Counter(a.domain for a in result.alerts).items()))
    lines = [
        f"Backtest {days[0]} .. {days[-1]}: {len(days)} alert rows ({domains})",
        "Held by reason: " + (", ".join(f"{r} {n}" for r, n in result.held.items()) or "none"),
        "Cells: alerts/incidents that the policy would have posted; an incident counts in the row of the most"
        " severe of its alerts that the policy posts.",
        "",
    ]
    width = max(12, *(len(p) + 2 for p in result.policies))
    header = f"{'week':<10}{'severity':<10}" + "".join(f"{p:>{width}}" for p in result.policies)
    lines += [header, "-" * len(header)]
    lines += [f"{w:<10}{s[:9]:<10}" + "".join(f"{c!s:>{width}}" for c in cells) for w, s, cells in result.rows]
    lines += ["-" * len(header), f"{'total':<20}" + "".join(f"{c!s:>{width}}" for c in result.totals), ""]
    lines.append("Feedback from Slack (fct_alerts.feedback_action), of the loud incidents each policy would post:")
    lines += [f"  {name:<{width}}{fb}" for name, fb in zip(result.policies, result.feedback, strict=True)]
    return "\n".join(lines) + "\n"


class CompareError(ValueError):
    """Bad --compare-vars input or a failed rebuild."""


@dataclass(frozen=True)
class Incident:
    key: str
    cells: tuple[str, ...]  # INCIDENT_COLUMNS
    days: frozenset[tuple[str, ...]]  # its posted series-days: domain, scope, metric, rule, day
    said: frozenset[str]  # what people said of it from Slack


Row = tuple[str, str, Cell, Cell]  # week, channel, shipped, change


@dataclass(frozen=True)
class Comparison:
    rows: tuple[Row, ...]
    gained: tuple[Incident, ...]
    lost: tuple[Incident, ...]
    now_loud: tuple[Incident, ...]  # loud with the change only (by loud series-day)
    now_quiet: tuple[Incident, ...]  # loud as shipped only: posted quietly by the change, or not at all
    weeks: int  # ISO weeks of the loaded history: loud incidents a week per channel
    totals: tuple[Cell, Cell]  # shipped, change: posted alerts, distinct incidents, distinct loud incidents
    base_feedback: Feedback  # on the shipped side's loud incidents
    change_feedback: Feedback  # on those of them the change still posts loudly

    @property
    def differs(self) -> bool:
        changed = self.gained or self.lost or self.now_loud or self.now_quiet
        return bool(changed or any(base != change for _, _, base, change in self.rows))

    def loud_a_week(self) -> dict[str, tuple[float, float]]:
        """Per channel with any: loud incidents a week, shipped and with the change (the standard's measure)."""
        loud: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
        for _, channel, base, change in self.rows:
            loud[channel][0] += base.loud
            loud[channel][1] += change.loud
        return {ch: (b / self.weeks, c / self.weeks) for ch, (b, c) in sorted(loud.items()) if b or c}


def incidents(alerts: Sequence[Alert], channel_for: ChannelFor, posts: Policy = POSTED) -> list[Incident]:
    """The incidents of the alerts `posts` keeps, each with the series-days of those alerts."""
    said = incident_feedback(alerts)
    out = []
    for i in group_incidents(filter(posts, alerts)):
        members = sorted(i.alerts, key=lambda a: (a.alert_date, a.alert_id))
        head, last, primary = members[0], members[-1], i.primary
        channel = channel_for(primary.team, primary.domain, primary.severity)  # by its headline, as the runner routes
        cells = (str(head.alert_date), str(last.alert_date), channel, head.domain, head.scope, head.metric,
                 head.rule or "", i.severity)  # fmt: skip
        days = frozenset((a.domain, a.scope, a.metric, a.rule or "", a.alert_date.isoformat()) for a in members)
        out.append(Incident(i.incident_id, cells, days, said.get(i.incident_id, frozenset())))
    return sorted(out, key=lambda i: i.cells[:7])


def _only_in(side: Sequence[Incident], other: Sequence[Incident]) -> tuple[Incident, ...]:
    """The incidents of `side` none of whose series-days the other side has (incident ids depend on the start)."""
    days = {d for i in other for d in i.days}
    return tuple(i for i in side if not i.days & days)


def _rows(base: Sequence[Alert], change: Sequence[Alert], channel_for: ChannelFor) -> tuple[Row, ...]:
    def cells(side: Sequence[Alert]) -> dict[tuple[str, str], Cell]:
        posted, loud = (_week_cells(filter(f, side), lambda a: channel_for(a.team, a.domain, a.severity))
                        for f in (POSTED, LOUD))  # fmt: skip
        return {k: Cell(c.alerts, c.incidents, loud[k].incidents if k in loud else 0) for k, c in posted.items()}

    left, right = cells(base), cells(change)
    return tuple((*k, left.get(k, Cell(0, 0)), right.get(k, Cell(0, 0))) for k in sorted(left.keys() | right.keys()))


def _total(side: Sequence[Alert]) -> Cell:
    posted = [a for a in side if POSTED(a)]
    return Cell(len(posted), len({a.incident_id for a in posted}), len({a.incident_id for a in side if LOUD(a)}))


def compare(base: Sequence[Alert], change: Sequence[Alert], channel_for: ChannelFor) -> Comparison:
    posted = [incidents(side, channel_for) for side in (base, change)]
    loud = [incidents(side, channel_for, LOUD) for side in (base, change)]
    now_quiet = _only_in(loud[0], loud[1])
    days = [a.alert_date for a in [*base, *change]] or [dt.date.min]
    first, last = min(days), max(days)
    weeks = len({iso_week(first + dt.timedelta(days=k)) for k in range((last - first).days + 1)})
    said = incident_feedback(base)
    return Comparison(
        rows=_rows(base, change, channel_for),
        gained=_only_in(posted[1], posted[0]),
        lost=_only_in(posted[0], posted[1]),
        now_loud=_only_in(loud[1], loud[0]),
        now_quiet=now_quiet,
        weeks=weeks,
        totals=(_total(base), _total(change)),
        base_feedback=Feedback(tuple(said.values())),
        change_feedback=Feedback(tuple(said[k] for k in said.keys() - {i.key for i in now_quiet})),
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
    base_label, change_label = _md(base_label), _md(change_label)
    lines = [f"## Backtest: {change_label} against {base_label}", ""]
    if not result.rows:
        return "\n".join([*lines, "Neither side posts anything over the loaded history.", ""])
    base, change = result.totals
    sides = (f"{base_label} {base.alerts} alerts / {base.incidents} incidents ({base.loud} loud), {change_label}"
             f" {change.alerts} alerts / {change.incidents} incidents ({change.loud} loud)")  # fmt: skip
    lines += [f"Posted over {len(result.rows)} week x channel cells: {sides}.", ""]
    rates = "; ".join(f"{_md(ch)} {b:.2f} → {c:.2f}" for ch, (b, c) in result.loud_a_week().items())
    lines += [f"Loud incidents a week over {plural(result.weeks, 'week')} (in each week it is loud),"
              f" {base_label} → {change_label}: {rates}.", ""]  # fmt: skip
    if not result.differs:
        return "\n".join([*lines, "**No difference**: both post the same alerts, and the same ones loudly.", ""])
    lines += ["### Weeks and channels that differ (alerts/incidents posted, of them loud)", ""]
    shown = ((w, ch, f"{b} ({b.loud} loud)", f"{c} ({c.loud} loud)") for w, ch, b, c in result.rows if b != c)
    lines += _table(("week", "channel", base_label, change_label), shown)
    lines += _incidents(f"Incidents gained (posted only by {change_label})", result.gained)
    lines += _incidents(f"Incidents lost (posted only by {base_label})", result.lost)
    lines += _incidents(f"Incidents now loud (loud only with {change_label})", result.now_loud)
    lines += _incidents(f"Incidents now quiet or gone (loud only with {base_label})", result.now_quiet)
    fb = result.base_feedback
    lines += ["### Feedback from Slack on the loud incidents", "", f"{base_label}: {fb}.", ""]
    lines += [f"{change_label} (those it still posts loudly): {result.change_feedback}.", ""]
    for action, what in (("false_alarm", "False alarms {} drops"), ("acknowledge", "Acknowledged incidents {} loses")):
        title = what.format(change_label) + f" (of {fb.count(action)})"
        lines += _incidents(title, [i for i in result.now_quiet if action in i.said])
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


def _dbt(args: list[str], env: Mapping[str, str]) -> None:
    command = [str(ROOT / ".venv" / "bin" / "dbt"), *args, "--no-use-colors"]
    result = subprocess.run(command, cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        tail = result.stdout.decode(errors="replace")[-3000:]
        raise CompareError(f"dbt {args[0]} under the compared vars failed (exit {result.returncode}):\n{tail}")


def models_changed_by(dbt_vars: Mapping[str, Any], work_dir: Path, env: Mapping[str, str]) -> list[str]:
    """The models whose compiled SQL under these vars differs from the project's defaults (the build's own
    invocation id, which every compile changes, left out)."""
    compiled = []
    for name, extra in (("shipped", []), ("change", ["--vars", json.dumps(dbt_vars)])):
        target = work_dir / name
        args = ["compile", "--target", "duckdb", "--target-path", str(target), "--select", "resource_type:model"]
        _dbt([*args, *extra], env)
        manifest = json.loads((target / "manifest.json").read_text())
        build = manifest["metadata"]["invocation_id"]
        nodes = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
        compiled.append({n["name"]: (n.get("compiled_code") or "").replace(build, "") for n in nodes})
    shipped, change = compiled
    return sorted(name for name, code in change.items() if code != shipped.get(name))


def build_under_vars(dbt_vars: Mapping[str, Any], base_db: Path, work_dir: Path, env: Mapping[str, str]) -> Path:
    """Copy the DuckDB warehouse and rebuild in the copy, under these vars, the alert layer and every
    model whose SQL the vars change, with what depends on them (full refresh, no tests)."""
    copy = work_dir / "compare.duckdb"
    for suffix in ("", ".wal"):
        if (base_db.parent / (base_db.name + suffix)).exists():
            shutil.copyfile(base_db.parent / (base_db.name + suffix), work_dir / (copy.name + suffix))
    run_env = {**env, "LTX_DUCKDB_PATH": str(copy), "DO_NOT_TRACK": "1"}
    selection = [ALERT_LAYER, *(f"{name}+" for name in models_changed_by(dbt_vars, work_dir, run_env))]
    args = ["run", "--target", "duckdb", "--target-path", str(work_dir / "change"), "--vars", json.dumps(dbt_vars)]
    _dbt([*args, "--full-refresh", "--select", *selection], run_env)
    return copy


def _window(env: Mapping[str, str], target: str, args: argparse.Namespace) -> list[Alert]:
    with closing(open_backend(config_from_env(target, env), read_only=True)) as backend:
        return read_alert_history(backend, args.start or dt.date.min, args.end or dt.date.max)


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    changed = args.compare_vars or args.compare_duckdb
    if args.start and args.end and args.start > args.end:
        log.error("--from %s is after --to %s", args.start, args.end)
        return 2
    if changed and args.target != "duckdb":
        log.error("--compare-vars / --compare-duckdb need --target duckdb (a BigQuery rebuild is not supported)")
        return 2
    try:
        base = _window(env, args.target, args)
        if not changed:
            sys.stdout.write(format_result(run_backtest(base)))
            return 0
        routing = load_routing(None, env)
        with tempfile.TemporaryDirectory(prefix="ltx-backtest-") as work:
            path, label = args.compare_duckdb, "this change"
            if args.compare_vars:
                dbt_vars = parse_vars(args.compare_vars)
                path = build_under_vars(dbt_vars, Path(config_from_env("duckdb", env).duckdb_path), Path(work), env)
                label = "vars " + ", ".join(f"{k}: {v}" for k, v in dbt_vars.items())
            change = _window({**env, "LTX_DUCKDB_PATH": str(path)}, "duckdb", args)
    except (RoutingError, WarehouseError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    sys.stdout.write(format_markdown(compare(base, change, routing.channel_for), "shipped", label))
    return 0
