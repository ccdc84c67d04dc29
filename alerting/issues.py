"""The runner's messages at an issue tracker (Linear): a new post is one issue per incident, titled by its
headline, with its severity's priority, its Markdown text and a link to its Slack message; repeats, corrections
and withdrawals are comments; a resolution closes the issue (a withdrawal too, once nothing said in it stands);
a new post of a family whose issue was resolved within `repeat_window_days` reopens it. Ids are `issue_uuid` of
the destination and the delivery keys, so a re-run or a crash before the log write sends the same ids. The log
holds each like a Slack message (`message_ts` the issue or comment id, `thread_ts` the issue id).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from alerting.compose import headline
from alerting.delivery_log import ALERT_KINDS, OPENING_KINDS, LogEntry
from alerting.lifecycle import Thread, Withdrawal
from alerting.linear import issue_uuid, priority_for
from alerting.model import Alert
from alerting.render.markdown import plain_line
from alerting.transport.base import PostResult

if TYPE_CHECKING:
    from alerting.runner import _Msg, _Run

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


def all_withdrawn(thread: Thread, entries: Sequence[LogEntry], withdrawals: Sequence[Withdrawal]) -> bool:
    """Everything said in this issue is withdrawn once this run's withdrawals are sent."""
    rows = [e for e in entries if e.destination == thread.destination and e.root_ts == thread.root_ts]
    gone = {e.alert_id for e in rows if e.kind == "withdrawal"}
    gone |= {w.was.alert_id for w in withdrawals if w.thread == thread}
    return {e.alert_id for e in rows if e.kind in ALERT_KINDS} <= gone


def request(r: _Run, m: _Msg, keys: Sequence[str]) -> tuple[str, Callable[[], PostResult], str]:
    """(the issue's id, the call that sends `m` there, what it is): a comment in its thread (closing the issue
    when `m.close`), else a new issue for its one incident or the reopened issue of its family."""
    issues, dest, body = r.issues, m.dest, m.rendered.text
    assert issues is not None
    team, comment_id = dest.split(":", 1)[1], issue_uuid(f"{dest}|{'|'.join(sorted(keys))}")
    if m.thread is not None:
        root = m.thread.root_ts
        what = f"Linear {m.rows[0][1]}{' (closes the issue)' if m.close else ''} on issue {root}"
        if m.close:
            return root, lambda: issues.move(root, team, True, body, comment_id), what
        return root, lambda: issues.comment(root, body, comment_id), what
    [inc] = m.incidents
    link = incident_permalink([*r.entries, *r.recorded], inc.incident_id)
    body += (f"\n[Slack message]({link})\n" if link else "") + f"\nIncident `{inc.incident_id}` · ltx-monitoring\n"
    window = r.options.lifecycle.repeat_window_days
    old = resolved_issue(r.entries, dest, inc.primary, window) if issues.capabilities.closing else None
    what = f"{'reopened' if old else 'new'} Linear issue for incident {inc.incident_id}"
    if old:
        return old, lambda: issues.move(old, team, False, f"**Back:** the alert recurred.\n\n{body}", comment_id), what
    root, title = issue_uuid(f"{dest}|{inc.incident_id}"), plain_line(headline(inc.primary))
    return root, lambda: issues.open(team, root, title, body, priority_for(inc.primary.severity)), what
