"""Linear as a destination (docs/linear.md): its public GraphQL API (JSON over POST with urllib, as slack_sdk does),
and the plan's messages as issues (one per incident: headline, priority, Markdown, Slack link) and comments (repeats,
corrections; closing or reopening the issue). Each is created once: its id is `issue_uuid` of the destination and the
delivery keys, and after no usable answer (timeout, 5xx after the retries, no JSON) or an error (the id exists) it is
looked up by that id and created again only when missing. 429 / RATELIMITED waits Retry-After (at most `max_wait` s),
5xx backs off, both a bounded number of times. The key never appears in an exception, a log record or a repr."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import math
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from alerting.compose import headline
from alerting.delivery_log import ALERT_KINDS, OPENING_KINDS, LogEntry
from alerting.lifecycle import series_of_key
from alerting.model import Alert
from alerting.redact import TokenError, redact, validate_token
from alerting.render.markdown import plain_line
from alerting.sanitize import cap, clean, collapse
from alerting.transport.base import Capabilities, PostResult, TransportConfigError

if TYPE_CHECKING:
    from alerting.runner import PlannedMessage

log = logging.getLogger(__name__)
API_KEY_ENV, API_URL_ENV = "LINEAR_API_KEY", "LINEAR_API_URL"
DEFAULT_API_URL = "https://api.linear.app/graphql"
CLOSED, REOPENED = ("completed",), ("unstarted", "backlog")  # the state types an issue moves to
BACKOFF = 0.5  # seconds, doubled per attempt (slack_sdk's default)
_KEY_SHAPE = re.compile(r"lin_api_[A-Za-z0-9_-]{16,}")  # a personal API key (looser than gitleaks' rule)
_PRIORITY = {"critical": 1, "warning": 2, "notice": 3}  # Linear: 0 none, 1 urgent, 2 high, 3 medium

# each operation by its top-level field
OPERATIONS = {
    "issueCreate": "mutation($input: IssueCreateInput!) { issueCreate(input: $input) { success issue { id } } }",
    "issue": "query($id: String!) { issue(id: $id) { id } }",
    "issueUpdate": "mutation($id: String!, $stateId: String!) {"
    " issueUpdate(id: $id, input: {stateId: $stateId}) { success } }",
    "commentCreate": "mutation($input: CommentCreateInput!) {"
    " commentCreate(input: $input) { success comment { id } } }",
    "comments": "query($issueId: String!, $commentId: ID!) {"
    " issue(id: $issueId) { comments(filter: {id: {eq: $commentId}}, first: 1) { nodes { id } } } }",
    "workflowStates": "query($teamId: ID!, $type: String!) { workflowStates("
    "filter: {team: {id: {eq: $teamId}}, type: {eq: $type}}, first: 50) { nodes { id position } } }",
}


class LinearConfigError(TransportConfigError):  # no usable API key or URL (the text never holds the key)
    pass


class LinearError(RuntimeError):  # a request failed; the text is redacted
    pass


class LinearAmbiguous(LinearError):  # no usable answer: the request may or may not have taken effect
    pass


class LinearRefused(LinearError):  # Linear answered with errors: the request did not take effect
    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


def issue_uuid(key: str) -> str:
    """The same UUID for the same key, in the v4 format Linear requires of a client-chosen id."""
    digest = hashlib.sha256(f"ltx-monitoring/linear/{key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def priority_for(severity: str) -> int:
    return _PRIORITY.get(severity.strip().lower(), 0)


class LinearClient:
    def __init__(
        self,
        api_key: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        try:
            self._key = validate_token(api_key, API_KEY_ENV, ("lin_api_",))
        except TokenError as exc:
            raise LinearConfigError(str(exc)) from None
        if not _KEY_SHAPE.fullmatch(self._key):
            raise LinearConfigError(f"{API_KEY_ENV} is not a Linear personal API key (expected lin_api_ and letters)")
        if not api_url.startswith(("http://", "https://")):
            raise LinearConfigError(f"{API_URL_ENV} must be an http(s) URL")
        self.api_url, self.timeout, self.retries, self.max_wait = api_url, timeout, retries, max_wait
        self._sleep = sleep
        self._states: dict[tuple[str, str], str | None] = {}  # (team id, state type) -> state id
        self.secrets = (self._key,)

    def _post(self, body: bytes) -> tuple[int, str | None, dict[str, Any] | None]:
        """One POST: (HTTP status, Retry-After, the JSON object or None); no answer raises LinearAmbiguous."""
        headers = {"Content-Type": "application/json", "Authorization": self._key, "User-Agent": "ltx-monitoring"}
        request = urllib.request.Request(self.api_url, body, headers, method="POST")  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, retry_after, raw = response.status, response.headers.get("Retry-After"), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                status, retry_after, raw = exc.code, exc.headers.get("Retry-After"), exc.read()
        except (OSError, http.client.HTTPException) as exc:  # timeout, refused, reset, truncated body
            text = f"no answer from Linear ({type(exc).__name__}: {exc})"
            raise LinearAmbiguous(redact(text, self.secrets)) from None
        try:
            payload = json.loads(raw)
        except ValueError:
            payload = None
        return status, retry_after, payload if isinstance(payload, dict) else None

    def _wait(self, retry_after: str | None, attempt: int) -> float:
        try:
            seconds = float(retry_after or BACKOFF * 2**attempt)
        except ValueError:
            seconds = BACKOFF * 2**attempt
        return min(seconds, self.max_wait) if math.isfinite(seconds) and seconds >= 0 else self.max_wait

    def execute(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """POST one operation and return its `data`; 429 / RATELIMITED and 5xx are retried, bounded."""
        body = json.dumps({"query": query, "variables": dict(variables)}).encode()
        for attempt in range(self.retries + 1):
            status, retry_after, payload = self._post(body)
            errors = [e for e in (payload or {}).get("errors") or [] if isinstance(e, dict)]
            limited = status == 429 or any("RATELIMITED" in str(e.get("extensions")).upper() for e in errors)
            if not limited and status < 500:
                break
            if attempt < self.retries:
                wait = self._wait(retry_after if limited else None, attempt)
                log.warning("Linear answered HTTP %s; retry %s in %.1fs", status, attempt + 1, wait)
                self._sleep(wait)
        else:
            if limited:
                raise LinearError(f"Linear is still rate limiting after {self.retries} retries")
            raise LinearAmbiguous(f"Linear answered HTTP {status} {self.retries + 1} times")
        if errors or status != 200:
            messages = [clean(e.get("message"), 200) for e in errors]
            text = f"Linear refused the request (HTTP {status})" + (": " + "; ".join(messages) if messages else "")
            raise LinearRefused(redact(text, self.secrets), any("not found" in m.lower() for m in messages))
        if not isinstance(data := (payload or {}).get("data"), dict):
            raise LinearAmbiguous(f"Linear answered HTTP {status} without a JSON data object")
        return data

    def _mutate(self, field: str, variables: Mapping[str, Any]) -> None:
        result = self.execute(OPERATIONS[field], variables).get(field)
        if not isinstance(result, dict) or result.get("success") is not True:
            raise LinearRefused(f"{field} answered success=false")

    def _found(self, field: str, variables: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            return self.execute(OPERATIONS[field], variables)
        except LinearRefused as exc:
            if exc.not_found:
                return None
            raise

    def _create_once(self, field: str, fields: dict[str, Any], exists: Callable[[], bool]) -> str:
        """`field` creating the object of id fields["id"]; after an ambiguous or refused answer, that id when the
        object exists, else the create sent once more."""
        try:
            self._mutate(field, {"input": fields})
            return str(fields["id"])
        except (LinearAmbiguous, LinearRefused) as exc:
            log.info("Linear %s %s: %s; looking it up", field, fields["id"], exc)
            if exists():
                return str(fields["id"])
            if isinstance(exc, LinearRefused):
                raise
        log.warning("Linear %s %s: not there after an ambiguous answer; sending it again", field, fields["id"])
        self._mutate(field, {"input": fields})
        return str(fields["id"])

    def create_issue(self, issue_id: str, team_id: str, title: str, description: str, priority: int) -> str:
        title = cap(collapse(title), 255)
        fields = {"id": issue_id, "teamId": team_id, "title": title, "description": description, "priority": priority}
        return self._create_once("issueCreate", fields, lambda: self._found("issue", {"id": issue_id}) is not None)

    def comment(self, issue_id: str, body: str, comment_id: str) -> str:  # data strings in `body`: markdown_inert
        def exists() -> bool:
            data = self._found("comments", {"issueId": issue_id, "commentId": comment_id}) or {}
            nodes = ((data.get("issue") or {}).get("comments") or {}).get("nodes") or []
            return any(n.get("id") == comment_id for n in nodes)

        return self._create_once("commentCreate", {"id": comment_id, "issueId": issue_id, "body": body}, exists)

    def state_id(self, team_id: str, types: tuple[str, ...]) -> str:
        """The team's first workflow state (by position) of the first type in `types` it has; cached."""
        for state_type in types:
            if (team_id, state_type) not in self._states:
                data = self.execute(OPERATIONS["workflowStates"], {"teamId": team_id, "type": state_type})
                nodes = (data.get("workflowStates") or {}).get("nodes") or []
                first = min(nodes, key=lambda n: float(n.get("position") or 0), default=None)
                self._states[team_id, state_type] = str(first["id"]) if first else None
            if found := self._states[team_id, state_type]:
                return found
        raise LinearError(f"Linear team {team_id} has no workflow state of type {' or '.join(types)}")

    def move(self, issue_id: str, team_id: str, types: tuple[str, ...], comment: str, comment_id: str) -> str:
        """Move the issue to the team's first state of `types` (CLOSED or REOPENED) and comment why."""
        self._mutate("issueUpdate", {"id": issue_id, "stateId": self.state_id(team_id, types)})
        return self.comment(issue_id, comment, comment_id)


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
        series = series_of_key(e.series_key)
        if e.kind in ALERT_KINDS and series and (*series[:2], e.direction or "") == want:
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
        move = "close (completed)" if types == CLOSED else "reopen"
        return self._print(f"linear issue {issue_id} · {move} with a comment", comment, comment_id)


class LinearTransport:
    name = "linear"
    capabilities = Capabilities(file_uploads=False, closing=True, digests=False)

    def __init__(self, client: LinearClient | LinearPrinter) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinearTransport:
        """LINEAR_API_KEY (validated) and LINEAR_API_URL; LinearConfigError (a TransportConfigError) if unusable."""
        url = env.get(API_URL_ENV) or DEFAULT_API_URL
        return cls(LinearClient(env.get(API_KEY_ENV, ""), url))

    def _call(self, call: Callable[..., str], *args: Any) -> Callable[[], PostResult]:
        def send() -> PostResult:
            try:
                return PostResult(ok=True, ts=call(*args))
            except Exception as exc:  # reported, never raised; a LinearError is redacted already
                text = str(exc) if isinstance(exc, LinearError) else f"{type(exc).__name__}: {exc}"
                return PostResult(ok=False, error=redact(text, self.client.secrets))

        return send

    def request(
        self, m: PlannedMessage, log: Sequence[LogEntry], this_run: Sequence[LogEntry], reopen_window_days: int
    ) -> tuple[str, Callable[[], PostResult], str]:
        """(the issue's id, the call that sends `m`, what it is): a comment in its thread (closing the issue when
        `m.close`), else a new issue for its one incident or the reopened issue of its family."""
        client, dest, body, keys = self.client, m.dest, m.rendered.text, sorted(key for key, _, _ in m.rows)
        team, comment_id = dest.split(":", 1)[1], issue_uuid(f"{dest}|{'|'.join(keys)}")
        if m.thread is not None:
            root = m.thread.root_ts
            what = f"Linear {m.rows[0][1]}{' (closes the issue)' if m.close else ''} on issue {root}"
            if m.close:
                return root, self._call(client.move, root, team, CLOSED, body, comment_id), what
            return root, self._call(client.comment, root, body, comment_id), what
        [inc] = m.incidents
        link = incident_permalink([*log, *this_run], inc.incident_id)
        body += (f"\n[Slack message]({link})\n" if link else "") + f"\nIncident `{inc.incident_id}` · ltx-monitoring\n"
        old = resolved_issue(log, dest, inc.primary, reopen_window_days)
        what = f"{'reopened' if old else 'new'} Linear issue for incident {inc.incident_id}"
        if old:
            back = f"**Back:** the alert recurred.\n\n{body}"
            return old, self._call(client.move, old, team, REOPENED, back, comment_id), what
        root, priority = issue_uuid(f"{dest}|{inc.incident_id}"), priority_for(inc.primary.severity)
        day = inc.primary.alert_date.isoformat()  # tells a series' issues apart
        title = f"{plain_line(headline(inc.primary))} · {day}"
        return root, self._call(client.create_issue, root, team, title, body, priority), what
