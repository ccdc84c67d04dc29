"""Linear as a destination (alerting/linear.py speaks the API): a new post is one issue per incident (its headline,
its severity's priority, its Markdown and a link to its Slack message), a reply a comment, closing the issue or
reopening the issue of its family. Every id is `issue_uuid` of the destination and the delivery keys: a retry or a
crash before the log write never makes a second one. The log holds each like a Slack message (`message_ts` the
issue or comment id, `thread_ts` the issue id)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from alerting import linear
from alerting.compose import headline
from alerting.delivery_log import ALERT_KINDS, OPENING_KINDS, LogEntry
from alerting.model import Alert
from alerting.redact import redact
from alerting.render.markdown import plain_line
from alerting.transport.base import Capabilities, PostResult

if TYPE_CHECKING:
    from alerting.runner import PlannedMessage

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


class LinearPrinter:
    """Dry run: a client that prints each call, sends nothing."""

    secrets: tuple[str, ...] = ()

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _print(self, head: str, body: str, ts: str) -> str:
        self.out.write(f"===== {head} =====\n{body.rstrip()}\n")
        return ts

    def create_issue(self, issue_id: str, team_id: str, title: str, description: str, priority: int) -> str:
        head = f"linear:{team_id} · new issue {issue_id} · priority {priority}"
        return self._print(head, f"{title}\n---\n{description}", issue_id)

    def comment(self, issue_id: str, body: str, comment_id: str) -> str:
        return self._print(f"linear issue {issue_id} · comment", body, comment_id)

    def move(self, issue_id: str, team_id: str, types: tuple[str, ...], comment: str, comment_id: str) -> str:
        move = "close (completed)" if types == linear.CLOSED else "reopen"
        return self._print(f"linear issue {issue_id} · {move} with a comment", comment, comment_id)


class LinearTransport:
    name = "linear"
    capabilities = Capabilities(file_uploads=False, closing=True, digests=False)

    def __init__(self, client: linear.LinearClient | LinearPrinter) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinearTransport:
        """LINEAR_API_KEY (validated) and LINEAR_API_URL; LinearConfigError (a TransportConfigError) if unusable."""
        url = env.get(linear.API_URL_ENV) or linear.DEFAULT_API_URL
        return cls(linear.LinearClient(env.get(linear.API_KEY_ENV, ""), url))

    def _call(self, call: Callable[..., str], *args: Any) -> Callable[[], PostResult]:
        def send() -> PostResult:
            try:
                return PostResult(ok=True, ts=call(*args))
            except Exception as exc:  # reported, never raised; a LinearError is redacted already
                text = str(exc) if isinstance(exc, linear.LinearError) else f"{type(exc).__name__}: {exc}"
                return PostResult(ok=False, error=redact(text, self.client.secrets))

        return send

    def request(
        self, m: PlannedMessage, log: Sequence[LogEntry], this_run: Sequence[LogEntry], reopen_window_days: int
    ) -> tuple[str, Callable[[], PostResult], str]:
        """(the issue's id, the call that sends `m`, what it is): a comment in its thread (closing the issue when
        `m.close`), else a new issue for its one incident or the reopened issue of its family."""
        client, dest, body, keys = self.client, m.dest, m.rendered.text, sorted(key for key, _, _ in m.rows)
        team, comment_id = dest.split(":", 1)[1], linear.issue_uuid(f"{dest}|{'|'.join(keys)}")
        if m.thread is not None:
            root = m.thread.root_ts
            what = f"Linear {m.rows[0][1]}{' (closes the issue)' if m.close else ''} on issue {root}"
            if m.close:
                return root, self._call(client.move, root, team, linear.CLOSED, body, comment_id), what
            return root, self._call(client.comment, root, body, comment_id), what
        [inc] = m.incidents
        link = incident_permalink([*log, *this_run], inc.incident_id)
        body += (f"\n[Slack message]({link})\n" if link else "") + f"\nIncident `{inc.incident_id}` · ltx-monitoring\n"
        old = resolved_issue(log, dest, inc.primary, reopen_window_days)
        what = f"{'reopened' if old else 'new'} Linear issue for incident {inc.incident_id}"
        if old:
            back = f"**Back:** the alert recurred.\n\n{body}"
            return old, self._call(client.move, old, team, linear.REOPENED, back, comment_id), what
        root, priority = linear.issue_uuid(f"{dest}|{inc.incident_id}"), linear.priority_for(inc.primary.severity)
        title = plain_line(headline(inc.primary))
        return root, self._call(client.create_issue, root, team, title, body, priority), what
