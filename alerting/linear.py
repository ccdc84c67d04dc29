"""Linear destination: one issue per incident through Linear's public GraphQL API.

Plain query strings and variables, JSON over POST with urllib from the standard library (as
slack_sdk does: one `urlopen` with a timeout per attempt). Operations: `issueCreate`,
`issueUpdate`, `commentCreate`, the query `workflowStates` (a team's completed / unstarted
state) and `issue(id:)` to look an issue or one of its comments up.

Exactly once: the caller picks every issue's and comment's id (`issue_uuid` of a stable key).
When a create gets no usable answer (timeout, dropped connection, 5xx after the retries, a body
that is not JSON) or an error (Linear refuses an id that exists), the object is looked up by that
id: returned when it exists, created again only when it does not. HTTP 429 / RATELIMITED waits
Retry-After (at most `max_wait` s), 5xx backs off; both a bounded number of times. The API key
never appears in an exception, a log record or a repr.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import math
import os
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from alerting.redact import redact
from alerting.sanitize import NAME_CAP, cap, clean, collapse
from alerting.transport.base import TransportConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")

API_KEY_ENV = "LINEAR_API_KEY"
API_URL_ENV = "LINEAR_API_URL"
DEFAULT_API_URL = "https://api.linear.app/graphql"
TITLE_CAP = 255
BACKOFF = 0.5  # seconds; doubled per attempt, as slack_sdk's default backoff
CREATE_ATTEMPTS = 2  # sends of one create, with a lookup after each failed one
# a personal API key is "lin_api_" and 40 letters/digits (gitleaks rule linear-api-key); looser on purpose
_KEY_SHAPE = re.compile(r"lin_api_[A-Za-z0-9_-]{16,}")
_PRIORITY = {"critical": 1, "warning": 2, "notice": 3}  # Linear: 0 none, 1 urgent, 2 high, 3 medium, 4 low
# look-alikes Linear's Markdown does not parse: no mention, link, image, HTML, code or escape
_LOOKALIKES = str.maketrans({"@": "＠", "[": "［", "]": "］", "<": "‹", ">": "›", "`": "ˋ", "\\": "∖"})

_ISSUE_CREATE = """mutation IssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } } }"""
_ISSUE_LOOKUP = "query IssueLookup($id: String!) { issue(id: $id) { id identifier url } }"
_ISSUE_MOVE = """mutation IssueMove($id: String!, $stateId: String!) {
  issueUpdate(id: $id, input: {stateId: $stateId}) { success } }"""
_COMMENT_CREATE = """mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id } } }"""
_COMMENT_LOOKUP = """query CommentLookup($issueId: String!, $commentId: ID!) {
  issue(id: $issueId) { comments(filter: {id: {eq: $commentId}}, first: 1) { nodes { id } } } }"""
_TEAM_STATES = """query TeamStates($teamId: ID!, $type: String!) {
  workflowStates(filter: {team: {id: {eq: $teamId}}, type: {eq: $type}}, first: 50) { nodes { id position } } }"""


class LinearConfigError(TransportConfigError):
    """No usable API key or URL; the message never contains any part of the key."""


class LinearError(RuntimeError):
    """A Linear request failed; the text is redacted."""


class LinearAmbiguous(LinearError):
    """No usable answer: the request may or may not have taken effect."""


class LinearRateLimited(LinearError):
    """Still rate limited after the retries: nothing was done."""


class LinearRefused(LinearError):
    """Linear answered with errors: the request did not take effect."""

    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass(frozen=True)
class IssueRef:
    id: str
    identifier: str  # e.g. "OPS-123"
    url: str


def issue_uuid(key: str) -> str:
    """The same UUID for the same key, in the v4 format Linear requires of a client-chosen id."""
    digest = hashlib.sha256(f"ltx-monitoring/linear/{key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def priority_for(severity: str) -> int:
    """Linear priority of an alert severity: critical 1, warning 2, notice 3; anything else 0 (none)."""
    return _PRIORITY.get(severity.strip().lower(), 0)


def neutral(value: object, limit: int = NAME_CAP) -> str:
    """A data string made inert for Linear Markdown: one short line, no mention, link, HTML, code or heading."""
    text = clean(value, limit).translate(_LOOKALIKES).replace("://", ":⁄⁄")
    return "＃" + text[1:] if text.startswith("#") else text


def one_line_title(text: str) -> str:
    """An issue title: one line of at most 255 characters."""
    return cap(collapse(text), TITLE_CAP)


def validate_api_key(key: str | None) -> str:
    """The key, or LinearConfigError naming the problem (never a character of the key)."""
    if not key:
        raise LinearConfigError(f"{API_KEY_ENV} is not set")
    bad = sum(1 for ch in key if not 33 <= ord(ch) <= 126)
    if bad:
        raise LinearConfigError(
            f"{API_KEY_ENV} has {bad} character(s) that are not printable ASCII: check how it was pasted "
            "or exported (a trailing newline or space?)"
        )
    if not _KEY_SHAPE.fullmatch(key):
        raise LinearConfigError(f"{API_KEY_ENV} is not a Linear personal API key (expected lin_api_ and letters)")
    return key


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(raw)
    except ValueError:  # includes UnicodeDecodeError
        return None
    return payload if isinstance(payload, dict) else None


def _errors(payload: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    errors = payload.get("errors") if payload else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _rate_limited(errors: list[dict[str, Any]]) -> bool:
    """Linear's rate-limit error: extensions code RATELIMITED (type "ratelimited")."""
    exts = [e.get("extensions") for e in errors]
    return any(isinstance(x, dict) and "RATELIMITED" in (f"{x.get('code')}".upper(), f"{x.get('type')}".upper())
               for x in exts)  # fmt: skip


def _wait(retry_after: str | None, attempt: int, max_wait: float) -> float:
    """Retry-After seconds when given, else exponential backoff; never more than `max_wait`."""
    try:
        seconds = float(retry_after) if retry_after else BACKOFF * 2**attempt
    except ValueError:
        seconds = BACKOFF * 2**attempt
    return min(seconds, max_wait) if math.isfinite(seconds) and seconds >= 0 else max_wait


def _issue_ref(node: Any) -> IssueRef:
    if not isinstance(node, dict) or not all(isinstance(node.get(k), str) for k in ("id", "identifier", "url")):
        raise LinearAmbiguous("Linear's answer has no issue id, identifier and url")
    return IssueRef(id=node["id"], identifier=node["identifier"], url=node["url"])


def _field(data: Mapping[str, Any], *path: str) -> Any:
    node: Any = data
    for name in path:
        node = node.get(name) if isinstance(node, dict) else None
    return node


class LinearClient:
    name = "linear"

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
        self._key = validate_api_key(api_key)
        if not api_url.startswith(("http://", "https://")):
            raise LinearConfigError(f"{API_URL_ENV} must be an http(s) URL")
        self.api_url = api_url
        self.timeout, self.retries, self.max_wait = timeout, retries, max_wait
        self._sleep = sleep
        self._states: dict[tuple[str, str], str | None] = {}  # (team id, state type) -> state id

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **options: Any) -> LinearClient:
        env = os.environ if env is None else env
        return cls(env.get(API_KEY_ENV, ""), env.get(API_URL_ENV) or DEFAULT_API_URL, **options)

    def __repr__(self) -> str:
        return f"LinearClient(api_url={self.api_url!r}, api_key='[redacted]')"

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self._key,)

    def _redact(self, text: str) -> str:
        return redact(text, self.secrets)

    def _send(self, body: bytes) -> tuple[int, str | None, bytes]:
        """One POST: (HTTP status, Retry-After, body) for any answer; no answer raises LinearAmbiguous."""
        headers = {"Content-Type": "application/json", "Authorization": self._key, "User-Agent": "ltx-monitoring"}
        request = urllib.request.Request(self.api_url, body, headers, method="POST")  # noqa: S310 - http(s) only
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, response.headers.get("Retry-After"), response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.headers.get("Retry-After"), exc.read()
        except (OSError, http.client.HTTPException) as exc:  # timeout, refused, reset, truncated body
            text = f"no answer from Linear ({type(exc).__name__}: {exc})"
            raise LinearAmbiguous(self._redact(text)) from None

    def execute(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """POST one operation and return its `data`; 429 / RATELIMITED and 5xx are retried, bounded."""
        body = json.dumps({"query": query, "variables": dict(variables)}).encode()
        for attempt in range(self.retries + 1):
            status, retry_after, raw = self._send(body)
            payload = _json_object(raw)
            limited = status == 429 or _rate_limited(_errors(payload))
            if not limited and status < 500:
                return self._data(status, payload)
            if attempt < self.retries:
                wait = _wait(retry_after if limited else None, attempt, self.max_wait)
                log.warning(self._redact(f"Linear answered HTTP {status}; retry {attempt + 1} in {wait:.1f}s"))
                self._sleep(wait)
        if limited:
            raise LinearRateLimited(f"Linear is still rate limiting after {self.retries} retries")
        raise LinearAmbiguous(f"Linear answered HTTP {status} {self.retries + 1} times")

    def _data(self, status: int, payload: dict[str, Any] | None) -> dict[str, Any]:
        errors = _errors(payload)
        if errors:
            messages = [clean(e.get("message"), 200) for e in errors]
            not_found = any("not found" in m.lower() for m in messages)
            text = f"Linear refused the request (HTTP {status}): " + "; ".join(messages)
            raise LinearRefused(self._redact(text), not_found)
        if status != 200:
            raise LinearRefused(f"Linear refused the request (HTTP {status})")
        data = payload.get("data") if payload else None
        if not isinstance(data, dict):
            raise LinearAmbiguous(f"Linear answered HTTP {status} without a JSON data object")
        return data

    def _exactly_once(self, what: str, send: Callable[[], T], lookup: Callable[[], T | None]) -> T:
        """send(); after an ambiguous or refused answer, the looked-up object if it exists, else send again."""
        last: LinearError = LinearAmbiguous(f"{what}: not sent")
        for _ in range(CREATE_ATTEMPTS):
            try:
                return send()
            except (LinearAmbiguous, LinearRefused) as exc:
                last = exc
            log.info("Linear %s: %s; looking it up", what, last)
            found = lookup()
            if found is not None:
                log.info("Linear %s already exists (%s); using it", what, type(last).__name__)
                return found
            if isinstance(last, LinearRefused):
                raise last
            log.warning("Linear %s does not exist after an ambiguous answer; sending it again", what)
        raise last

    def _lookup(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any] | None:
        """The query's data, or None when Linear says the entity is not found."""
        try:
            return self.execute(query, variables)
        except LinearRefused as exc:
            if exc.not_found:
                return None
            raise

    def find_issue(self, issue_id: str) -> IssueRef | None:
        """The issue with this id, or None when Linear has none."""
        data = self._lookup(_ISSUE_LOOKUP, {"id": issue_id})
        return None if data is None else _issue_ref(data.get("issue"))

    def create_issue(self, issue_id: str, team_id: str, title: str, description: str, priority: int) -> IssueRef:
        """issueCreate with our id: exactly one issue however often this is called (see module doc)."""
        fields = {"id": issue_id, "teamId": team_id, "title": one_line_title(title), "description": description}

        def send() -> IssueRef:
            data = self.execute(_ISSUE_CREATE, {"input": {**fields, "priority": priority}})
            if _field(data, "issueCreate", "success") is not True:
                raise LinearRefused("issueCreate answered success=false")
            return _issue_ref(_field(data, "issueCreate", "issue"))

        return self._exactly_once(f"issue {issue_id}", send, lambda: self.find_issue(issue_id))

    def find_comment(self, issue_id: str, comment_id: str) -> str | None:
        """`comment_id` when the issue has that comment, else None."""
        data = self._lookup(_COMMENT_LOOKUP, {"issueId": issue_id, "commentId": comment_id}) or {}
        nodes = _field(data, "issue", "comments", "nodes")
        ids = [n.get("id") for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
        return comment_id if comment_id in ids else None

    def comment(self, issue_id: str, body: str, comment_id: str) -> str:
        """commentCreate with our id (once, like create_issue); the comment's id.

        `body` is Markdown composed by the caller, every data string in it passed through `neutral`.
        """

        def send() -> str:
            data = self.execute(_COMMENT_CREATE, {"input": {"id": comment_id, "issueId": issue_id, "body": body}})
            if _field(data, "commentCreate", "success") is not True:
                raise LinearRefused("commentCreate answered success=false")
            return str(_field(data, "commentCreate", "comment", "id") or comment_id)

        return self._exactly_once(f"comment {comment_id}", send, lambda: self.find_comment(issue_id, comment_id))

    def state_id(self, team_id: str, types: tuple[str, ...]) -> str:
        """The team's first workflow state (by position) of the first type in `types` it has; cached."""
        for state_type in types:
            if (team_id, state_type) not in self._states:
                data = self.execute(_TEAM_STATES, {"teamId": team_id, "type": state_type})
                nodes = _field(data, "workflowStates", "nodes")
                states = [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []
                first = min(states, key=lambda n: float(n.get("position") or 0), default=None)
                self._states[team_id, state_type] = str(first["id"]) if first else None
            found = self._states[team_id, state_type]
            if found:
                return found
        raise LinearError(f"Linear team {team_id} has no workflow state of type {' or '.join(types)}")

    def _transition(self, issue_id: str, state_id: str, comment: str, comment_id: str) -> str:
        data = self.execute(_ISSUE_MOVE, {"id": issue_id, "stateId": state_id})
        if _field(data, "issueUpdate", "success") is not True:
            raise LinearRefused(f"issueUpdate of {issue_id} answered success=false")
        return self.comment(issue_id, comment, comment_id)

    def close(self, issue_id: str, team_id: str, comment: str, comment_id: str) -> str:
        """Move the issue to the team's completed state and comment why; the comment's id."""
        return self._transition(issue_id, self.state_id(team_id, ("completed",)), comment, comment_id)

    def reopen(self, issue_id: str, team_id: str, comment: str, comment_id: str) -> str:
        """Move the issue back to the team's first unstarted (else backlog) state and comment why."""
        return self._transition(issue_id, self.state_id(team_id, ("unstarted", "backlog")), comment, comment_id)
