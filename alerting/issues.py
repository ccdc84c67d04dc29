"""The lifecycle's plan at an issue tracker (Linear): one issue per incident, titled by its headline, with its
severity's priority, its Markdown text and a link to its Slack message. Repeats, corrections and withdrawals are
comments; a resolution closes the issue (a withdrawal too, once nothing said in it stands); a new post of a
family whose issue was resolved within `repeat_window_days` reopens it. Ids are `issue_uuid` of the destination
and the delivery key, so a re-run or a crash before the log write sends the same ids. The log holds each like a
Slack message (`message_ts` the issue or comment id, `thread_ts` the issue id).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alerting.compose import headline
from alerting.composer import MarkdownComposer
from alerting.delivery_log import ALERT_KINDS, OPENING_KINDS, LogEntry
from alerting.lifecycle import HEALTH_DOMAIN, IncidentPlan, LifecycleConfig, Plan, Thread, log_fields
from alerting.linear import issue_uuid, priority_for
from alerting.model import Alert, group_incidents
from alerting.render.markdown import plain_line
from alerting.transport.base import PostResult

if TYPE_CHECKING:
    from alerting.runner import _Run

_Items = Sequence[tuple[str, dict[str, Any]]]  # (delivery key, its log fields)
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


def resolved_issue(entries: Iterable[LogEntry], dest: str, primary: Alert, window_days: int) -> str | None:
    """The issue at `dest` that carried the primary's family (domain, scope, direction) and was resolved,
    with no alert since, within `window_days` of the primary's day: reopened rather than a new issue."""
    want = (primary.domain, primary.scope, primary.direction or "")
    last: dict[str, LogEntry] = {}  # issue -> its latest alert or resolved row
    carried: set[str] = set()  # issues that carried the family
    for e in sorted((e for e in entries if e.destination == dest and e.root_ts), key=lambda e: e.delivered_at):
        if e.kind in ALERT_KINDS or e.kind == "resolved":
            last[str(e.root_ts)] = e
        if e.kind in ALERT_KINDS and (*(e.series_key or "").split("|")[:2], e.direction or "") == want:
            carried.add(str(e.root_ts))
    candidates = [
        (e.delivered_at, root)
        for root, e in last.items()
        if root in carried
        and e.kind == "resolved"
        and e.alert_date is not None
        and 0 <= (primary.alert_date - e.alert_date).days <= window_days
    ]
    return max(candidates)[1] if candidates and window_days > 0 else None


def _comment_id(dest: str, keys: Sequence[str]) -> str:
    return issue_uuid(f"{dest}|{'|'.join(sorted(keys))}")


def _team(dest: str) -> str:
    return dest.split(":", 1)[1]


@dataclass(frozen=True)
class IssueContext:
    alerts: Mapping[str, Alert]
    entries: Sequence[LogEntry]  # the delivery log as read at the start of the run
    config: LifecycleConfig


def _open(r: _Run, md: MarkdownComposer, dest: str, inc: IncidentPlan, ctx: IssueContext) -> None:
    """A new issue for the incident, or the reopened issue of its family."""
    issues, team = r.issues, _team(dest)
    assert issues is not None
    members = [ctx.alerts[o.alert_id] for o in inc.alerts]
    primary = group_incidents(members)[0].primary
    teams = sorted({(o.team or "unassigned").strip() or "unassigned" for o in inc.alerts})
    body = "".join(m.text for m in md.new_post(dest, teams, members, r.options.usage_date, r.options.cost_date))
    link = incident_permalink([*ctx.entries, *r.recorded], inc.incident_id)
    body += (f"\n[Slack message]({link})\n" if link else "") + f"\nIncident `{inc.incident_id}` · ltx-monitoring\n"
    ids = [o.alert_id for o in inc.alerts]
    window = ctx.config.repeat_window_days
    old = resolved_issue(ctx.entries, dest, inc.primary, window) if issues.capabilities.closing else None
    root = old or issue_uuid(f"{dest}|{inc.incident_id}")

    def send() -> PostResult:
        if old:
            return issues.reopen(old, team, f"**Back:** the alert recurred.\n\n{body}", _comment_id(dest, ids))
        return issues.open(team, root, plain_line(headline(primary)), body, priority_for(primary.severity))

    def rows(res: PostResult) -> list[LogEntry]:
        kinds = {HEALTH_DOMAIN: "data_health"}
        return [r.entry(dest, kinds.get(o.domain, "post"), o.alert_id, res, root, **log_fields(o)) for o in inc.alerts]

    if r.send(dest, ids, send, rows, f"{'reopened' if old else 'new'} Linear issue for incident {inc.incident_id}"):
        r.report.top_level_posts += 1
        r.report.alerts_delivered += len(ids)


def _comment(r: _Run, thread: Thread, body: str, kind: str, items: _Items, close: bool = False) -> int:
    """A comment on the thread's issue (closing it when `close`), logged as one `kind` row per item; 1 if sent."""
    issues, dest, root = r.issues, thread.destination, thread.root_ts
    assert issues is not None
    keys = [key for key, _ in items]

    def send() -> PostResult:
        if close:
            return issues.close(root, _team(dest), body, _comment_id(dest, keys))
        return issues.comment(root, body, _comment_id(dest, keys))

    def rows(res: PostResult) -> list[LogEntry]:
        return [r.entry(dest, kind, key, res, root, **fields) for key, fields in items]

    what = f"Linear {kind}{' (closes the issue)' if close else ''} on issue {root}"
    return int(r.send(dest, keys, send, rows, what) is not None)


def _all_withdrawn(thread: Thread, entries: Sequence[LogEntry], plan: Plan) -> bool:
    """Everything said in this issue is withdrawn once this run's withdrawals are sent."""
    rows = [e for e in entries if e.destination == thread.destination and e.root_ts == thread.root_ts]
    gone = {e.alert_id for e in rows if e.kind == "withdrawal"}
    gone |= {w.was.alert_id for w in plan.withdrawals if w.thread == thread}
    return {e.alert_id for e in rows if e.kind in ALERT_KINDS} <= gone


def deliver(r: _Run, plan: Plan, ctx: IssueContext) -> None:
    """Every action of `plan` (already limited to this transport's destinations), in lifecycle order."""
    md, report = MarkdownComposer(report_url=r.options.report_url), r.report
    closing = r.issues is not None and r.issues.capabilities.closing
    for post in plan.new_posts:
        for inc in post.incidents:
            _open(r, md, post.destination, inc, ctx)
    for rep in plan.repeats:
        pairs = [(inc, [ctx.alerts[o.alert_id] for o in inc.alerts]) for inc in rep.incidents]
        body = "\n".join(m.text for m in md.repeat(_team(rep.thread.destination), pairs))
        items = [(o.alert_id, log_fields(o)) for inc in rep.incidents for o in inc.alerts]
        if _comment(r, rep.thread, body, "broadcast" if rep.broadcast else "repeat", items):
            report.replies += 1
            report.alerts_delivered += len(items)
    for c in plan.corrections:
        text = md.correction(c, ctx.alerts.get(c.alert.alert_id)).text
        report.corrections += _comment(r, c.thread, text, "correction", [(c.key, log_fields(c.alert))])
    for w in plan.withdrawals:
        close = closing and _all_withdrawn(w.thread, ctx.entries, plan)
        report.withdrawals += _comment(r, w.thread, md.withdrawal(w).text, "withdrawal", [(w.key, w.fields)], close)
    for rp in plan.resolutions:
        report.resolved += _comment(r, rp.thread, md.resolved(rp).text, "resolved", rp.rows, closing)
