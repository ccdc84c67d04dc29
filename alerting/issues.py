"""The lifecycle's actions at a per-incident destination (capabilities.digests False: Linear).

The same plan as Slack's, sent as an issue tracker takes it: a new post is one issue per
incident (title: the headline; priority: the severity; description: the incident's text in
Markdown and a link to its Slack message), repeats and corrections are comments, a resolution
closes the issue (a withdrawal too, once nothing said in it stands), and a new post of a family
whose issue was resolved within `repeat_window_days` reopens that issue. Charts (no file uploads)
and summaries (no digests) are not sent. Issue and comment ids are `issue_uuid` of the
destination and the delivery key: a re-run, or a crash before the log write, sends the same ids.
The delivery log holds each like a Slack message: `message_ts` the issue (or comment) id,
`thread_ts` the issue id, so the lifecycle finds the issue as a thread.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alerting.compose import headline
from alerting.composer import MarkdownComposer
from alerting.delivery_log import ALERT_KINDS, OPENING_KINDS, LogEntry
from alerting.lifecycle import (
    HEALTH_DOMAIN,
    IncidentPlan,
    LifecycleConfig,
    Plan,
    Resolution,
    Thread,
    log_fields,
    run_day,
)
from alerting.linear import issue_uuid, priority_for
from alerting.model import Alert, group_incidents
from alerting.render.markdown import plain_line
from alerting.transport.base import PostResult

if TYPE_CHECKING:
    from alerting.runner import _Run

_Rows = Callable[[PostResult], list[LogEntry]]
_SLACK_ID = re.compile(r"^[A-Z0-9]{2,30}$")
_SLACK_TS = re.compile(r"^[0-9]{1,12}\.[0-9]{1,8}$")


def slack_permalink(channel_id: str | None, ts: str | None, thread_ts: str | None = None) -> str | None:
    """The message's link (Slack's permalink shape), or None when the ids are not Slack's."""
    if not channel_id or not ts or not _SLACK_ID.match(channel_id) or not _SLACK_TS.match(ts):
        return None
    url = f"https://slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts and _SLACK_TS.match(thread_ts):
        url += f"?thread_ts={thread_ts}&cid={channel_id}"
    return url


def incident_permalink(entries: Iterable[LogEntry], incident_id: str) -> str | None:
    """The Slack message that carried the incident (its top-level post first, else its latest reply)."""
    rows = [e for e in entries if e.destination.startswith("slack:") and e.incident_id == incident_id]
    rows.sort(key=lambda e: (e.kind in OPENING_KINDS, e.delivered_at))
    links = [slack_permalink(e.channel_id, e.message_ts, e.thread_ts) for e in rows]
    return next((u for u in reversed(links) if u), None)


def _family(domain: str, scope: str, direction: str | None) -> tuple[str, str, str]:
    return (domain, scope, direction or "")


def resolved_issue(entries: Iterable[LogEntry], dest: str, primary: Alert, window_days: int) -> str | None:
    """The issue at `dest` that carried the primary's family and was resolved (and not continued since)
    within `window_days` of the primary's day: reopened rather than a new issue."""
    families: dict[str, set[tuple[str, str, str]]] = {}
    last_alert: dict[str, dt.datetime] = {}
    resolved: dict[str, LogEntry] = {}
    for e in sorted((e for e in entries if e.destination == dest and e.root_ts), key=lambda e: e.delivered_at):
        root = str(e.root_ts)
        parts = (e.series_key or "").split("|")
        if e.kind in ALERT_KINDS and len(parts) >= 2:
            families.setdefault(root, set()).add(_family(parts[0], parts[1], e.direction))
            last_alert[root] = e.delivered_at
        elif e.kind == "resolved":
            resolved[root] = e
    want = _family(primary.domain, primary.scope, primary.direction)
    candidates = [
        (r.delivered_at, root)
        for root, r in resolved.items()
        if want in families.get(root, set())
        and r.delivered_at >= last_alert.get(root, dt.datetime.min)
        and r.alert_date is not None
        and 0 <= (primary.alert_date - r.alert_date).days <= window_days
    ]
    return max(candidates)[1] if candidates and window_days > 0 else None


def _comment_id(dest: str, keys: Sequence[str]) -> str:
    return issue_uuid(f"{dest}|{'|'.join(sorted(keys))}")


def _team(dest: str) -> str:
    return dest.split(":", 1)[1]


def _open(r: _Run, md: MarkdownComposer, dest: str, inc: IncidentPlan, ctx: IssueContext) -> None:
    """A new issue for the incident, or the reopened issue of its family."""
    members = [ctx.alerts[o.alert_id] for o in inc.alerts]
    primary = group_incidents(members)[0].primary
    teams = sorted({(o.team or "unassigned").strip() or "unassigned" for o in inc.alerts})
    body = "".join(m.text for m in md.new_post(dest, teams, members, r.options.usage_date, r.options.cost_date))
    link = incident_permalink([*ctx.entries, *r.recorded], inc.incident_id)
    body += f"\n[Slack message]({link})\n" if link else ""
    body += f"\nIncident `{inc.incident_id}` · ltx-monitoring\n"
    ids = [o.alert_id for o in inc.alerts]
    issues, team_id = r.issues, _team(dest)
    assert issues is not None
    reopens = issues.capabilities.closing
    old = resolved_issue(ctx.entries, dest, inc.primary, ctx.config.repeat_window_days) if reopens else None
    if old is not None:
        root = old

        def send() -> PostResult:
            return issues.reopen(old, team_id, f"**Back:** the alert recurred.\n\n{body}", _comment_id(dest, ids))
    else:
        root = issue_uuid(f"{dest}|{inc.incident_id}")

        def send() -> PostResult:
            return issues.open(team_id, root, plain_line(headline(primary)), body, priority_for(primary.severity))

    def entries(res: PostResult) -> list[LogEntry]:
        kind = {i: "data_health" if ctx.by_obs[i].domain == HEALTH_DOMAIN else "post" for i in ids}
        return [r.entry(dest, kind[i], i, res, root, **log_fields(ctx.by_obs[i])) for i in ids]

    what = f"{'reopened' if old else 'new'} Linear issue for incident {inc.incident_id}"
    if r.send(dest, ids, send, entries, what):
        r.report.top_level_posts += 1
        r.report.alerts_delivered += len(ids)


@dataclass(frozen=True)
class IssueContext:
    alerts: Mapping[str, Alert]
    by_obs: Mapping[str, Alert]
    entries: Sequence[LogEntry]  # the delivery log as read at the start of the run
    config: LifecycleConfig


def _reply(r: _Run, thread: Thread, body: str, keys: Sequence[str], kind: str, rows: _Rows, close: bool) -> bool:
    """A comment on the thread's issue (closing it when `close`), logged as `kind` rows."""
    issues, dest = r.issues, thread.destination
    assert issues is not None
    comment_id = _comment_id(dest, keys)

    def send() -> PostResult:
        if close:
            return issues.close(thread.root_ts, _team(dest), body, comment_id)
        return issues.comment(thread.root_ts, body, comment_id)

    what = f"Linear {kind}{' (closes the issue)' if close else ''} on issue {thread.root_ts}"
    return r.send(dest, keys, send, rows, what) is not None


def _all_withdrawn(thread: Thread, entries: Sequence[LogEntry], plan: Plan) -> bool:
    """Everything said in this issue is withdrawn once this run's withdrawals are sent."""
    rows = [e for e in entries if e.destination == thread.destination and e.root_ts == thread.root_ts]
    said = {e.alert_id for e in rows if e.kind in ALERT_KINDS}
    gone = {e.alert_id for e in rows if e.kind == "withdrawal"}
    gone |= {w.was.alert_id for w in plan.withdrawals if w.thread == thread}
    return said <= gone


def deliver(r: _Run, plan: Plan, ctx: IssueContext) -> None:
    """Every action of `plan` (already limited to this transport's destinations), in lifecycle order."""
    md = MarkdownComposer(report_url=r.options.report_url)
    closing = r.issues is not None and r.issues.capabilities.closing
    for post in plan.new_posts:
        for inc in post.incidents:
            _open(r, md, post.destination, inc, ctx)
    for rep in plan.repeats:
        pairs = [(inc, [ctx.alerts[o.alert_id] for o in inc.alerts]) for inc in rep.incidents]
        body = "\n".join(m.text for m in md.repeat(_team(rep.thread.destination), pairs))
        ids = [o.alert_id for inc in rep.incidents for o in inc.alerts]
        kind = "broadcast" if rep.broadcast else "repeat"

        def rows(res: PostResult, t: Thread = rep.thread, ids: list[str] = ids, kind: str = kind) -> list[LogEntry]:
            return [r.entry(t.destination, kind, i, res, t.root_ts, **log_fields(ctx.by_obs[i])) for i in ids]

        if _reply(r, rep.thread, body, ids, kind, rows, close=False):
            r.report.replies += 1
            r.report.alerts_delivered += len(ids)
    for c in plan.corrections:

        def c_rows(res: PostResult, c: Any = c) -> list[LogEntry]:
            return [r.entry(c.thread.destination, "correction", c.key, res, c.thread.root_ts, **log_fields(c.alert))]

        text = md.correction(c, ctx.alerts.get(c.alert.alert_id)).text
        r.report.corrections += _reply(r, c.thread, text, [c.key], "correction", c_rows, close=False)
    for w in plan.withdrawals:

        def w_rows(res: PostResult, w: Any = w) -> list[LogEntry]:
            was = w.was
            return [
                r.entry(w.thread.destination, "withdrawal", w.key, res, w.thread.root_ts, alert_id=was.alert_id,
                        incident_id=was.incident_id, alert_date=was.alert_date, series_key=was.series_key,
                        team=was.team)
            ]  # fmt: skip

        close = closing and _all_withdrawn(w.thread, ctx.entries, plan)
        r.report.withdrawals += _reply(r, w.thread, md.withdrawal(w).text, [w.key], "withdrawal", w_rows, close)
    for res_plan in plan.resolutions:
        r.report.resolved += _resolve(r, md, res_plan, closing)


def _resolve(r: _Run, md: MarkdownComposer, res_plan: Resolution, close: bool) -> bool:
    """The "resolved" comment, closing the issue where the platform closes; logged as Slack's resolved replies are."""
    usage_date, cost_date = r.options.usage_date, r.options.cost_date

    def rows(res: PostResult, rp: Resolution = res_plan) -> list[LogEntry]:
        return [
            r.entry(rp.thread.destination, "resolved", key, res, rp.thread.root_ts, incident_id=rp.incident_id,
                    alert_date=run_day(s.series[0], s.series[1], usage_date, cost_date),
                    series_key="|".join((*s.series, "")))
            for key, s in zip(rp.keys, rp.series, strict=True)
        ]  # fmt: skip

    return _reply(r, res_plan.thread, md.resolved(res_plan).text, res_plan.keys, "resolved", rows, close)
