"""A Linear GraphQL API double on loopback, strict about the schema.

Every request is parsed and validated by graphql-core against `linear_schema.graphql` (a subset
copied from Linear's own schema, see its header), so a misspelt field, argument or input field is
answered HTTP 400 with the validation errors, as Linear answers an invalid document. Valid
operations run against an in-memory store: teams with their workflow states, issues, comments.

Like Linear: `Authorization: <personal API key>` (no "Bearer"); client-chosen ids must be UUID v4;
`issue(id:)` of an unknown id is the error "Entity not found: Issue". A second create with an id
that exists is refused with an error (what Linear answers exactly is not documented; an error
either way). Fault injection (`fault(field, kind)`, consumed once, per top-level field):
"500" (answer 500, do nothing), "500-after" (do it, then answer 500), "delay" (do it, then
answer after `delay_s`: past the client's timeout), "garbage" (do it, answer 200 with HTML),
"429" (answer 429 with Retry-After and a RATELIMITED error, do nothing), "ratelimited" (the same
error in an HTTP 400), "echo-auth" (refuse with
an error that quotes the Authorization header back: a server that leaks).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)

SCHEMA = build_schema(Path(__file__).with_name("linear_schema.graphql").read_text())
STATE_TEMPLATE = (("Backlog", "backlog"), ("Todo", "unstarted"), ("In Progress", "started"), ("Done", "completed"))
Reply = tuple[int, dict[str, str], bytes]


def _invalid(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"type": "invalid input", "code": "INVALID_INPUT"})


def _not_found(kind: str) -> GraphQLError:
    return _invalid(f"Entity not found: {kind}")


def _matches(value: Any, comparator: dict[str, Any] | None) -> bool:
    """An IDComparator / StringComparator (eq, in, neq, nin) against one value."""
    tests: dict[str, Callable[[Any], bool]] = {
        "eq": lambda c: value == c,
        "in": lambda c: value in c,
        "neq": lambda c: value != c,
        "nin": lambda c: value not in c,
    }
    return all(tests[op](operand) for op, operand in (comparator or {}).items())


def _v4(value: Any) -> bool:
    try:
        return uuid.UUID(str(value)).version == 4
    except ValueError:
        return False


@dataclass
class Received:
    field: str  # the operation's first top-level field (issueCreate, issue, ...)
    variables: dict[str, Any]
    authorization: str


@dataclass
class LinearServer:
    api_key: str
    delay_s: float = 1.5
    teams: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)
    faults: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> LinearServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/graphql"

    # --- fixtures ---------------------------------------------------------------------------

    def add_team(self, key: str, states: tuple[tuple[str, str], ...] = STATE_TEMPLATE) -> str:
        team_id = str(uuid.uuid4())
        self.teams[team_id] = {"id": team_id, "key": key, "name": f"Team {key}"}
        for position, (name, state_type) in enumerate(states):
            state_id = str(uuid.uuid4())
            self.states[state_id] = {"id": state_id, "name": name, "type": state_type, "position": position,
                                     "team_id": team_id}  # fmt: skip
        return team_id

    def fault(self, top_field: str, kind: str, retry_after: str = "1") -> None:
        self.faults.setdefault(top_field, []).append((kind, retry_after))

    def calls(self) -> list[str]:
        return [r.field for r in self.requests]

    def state_of(self, issue_id: str) -> dict[str, Any]:
        return self.states[self.issues[issue_id]["state_id"]]

    # --- views (what the schema's object types resolve from) ----------------------------------

    def _state_view(self, state: dict[str, Any]) -> dict[str, Any]:
        return {**state, "team": self.teams[state["team_id"]]}

    def _issue_view(self, issue: dict[str, Any]) -> dict[str, Any]:
        def comments(_info: Any, filter: dict[str, Any] | None = None, first: int | None = None, **_: Any) -> Any:
            unknown = set(filter or {}) - {"id"}
            if unknown:
                raise GraphQLError(f"the test server does not implement CommentFilter {sorted(unknown)}")
            nodes = [c for c in self.comments.values() if c["issue_id"] == issue["id"]]
            nodes = [c for c in nodes if _matches(c["id"], (filter or {}).get("id"))]
            return {"nodes": nodes[: first or 50]}

        state = self.states[issue["state_id"]]
        return {**issue, "state": self._state_view(state), "team": self.teams[state["team_id"]], "comments": comments}

    def _find_issue(self, key: str) -> dict[str, Any]:
        found = self.issues.get(key) or next((i for i in self.issues.values() if i["identifier"] == key), None)
        if found is None:
            raise _not_found("Issue")
        return found

    # --- resolvers (root fields, called by graphql-core's default resolver) ---------------------

    def issue(self, _info: Any, id: str) -> dict[str, Any]:
        return self._issue_view(self._find_issue(id))

    def workflowStates(
        self, _info: Any, filter: dict[str, Any] | None = None, first: int | None = None, **_: Any
    ) -> Any:
        filter = filter or {}
        unknown = set(filter) - {"team", "type"} or set(filter.get("team") or {}) - {"id"}
        if unknown:
            raise GraphQLError(f"the test server does not implement this filter: {sorted(unknown)}")
        team_id = (filter.get("team") or {}).get("id")
        nodes = [s for s in self.states.values() if _matches(s["team_id"], team_id)]
        nodes = [self._state_view(s) for s in nodes if _matches(s["type"], filter.get("type"))]
        return {"nodes": nodes[: first or 50]}

    def issueCreate(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        issue_id = input.get("id") or str(uuid.uuid4())
        if not _v4(issue_id):
            raise _invalid("Argument Validation Error: id must be a UUID v4")
        if issue_id in self.issues:
            raise _invalid("Argument Validation Error: an entity with this id already exists")
        team = self.teams.get(input["teamId"])
        if team is None:
            raise _not_found("Team")
        priority = input.get("priority", 0)
        if priority not in range(5):
            raise _invalid("Argument Validation Error: priority must be 0 to 4")
        backlog = min((s for s in self.states.values() if s["team_id"] == team["id"]), key=lambda s: s["position"])
        number = sum(1 for i in self.issues.values() if i["team_id"] == team["id"]) + 1
        identifier = f"{team['key']}-{number}"
        self.issues[issue_id] = {
            "id": issue_id, "identifier": identifier, "url": f"https://linear.app/ltx/issue/{identifier}",
            "title": input.get("title") or "", "description": input.get("description"), "priority": priority,
            "team_id": team["id"], "state_id": input.get("stateId") or backlog["id"], "createdAt": "2026-01-01",
        }  # fmt: skip
        return {"success": True, "lastSyncId": len(self.issues), "issue": self._issue_view(self.issues[issue_id])}

    def issueUpdate(self, _info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        issue = self._find_issue(id)
        if "stateId" in input:
            state = self.states.get(input["stateId"])
            if state is None or state["team_id"] != issue["team_id"]:
                raise _not_found("WorkflowState")
            issue["state_id"] = state["id"]
        issue.update({k: input[k] for k in ("title", "priority") if k in input})
        return {"success": True, "lastSyncId": len(self.issues), "issue": self._issue_view(issue)}

    def commentCreate(self, _info: Any, input: dict[str, Any]) -> dict[str, Any]:
        comment_id = input.get("id") or str(uuid.uuid4())
        if not _v4(comment_id):
            raise _invalid("Argument Validation Error: id must be a UUID v4")
        if comment_id in self.comments:
            raise _invalid("Argument Validation Error: an entity with this id already exists")
        issue = self._find_issue(input.get("issueId") or "")
        if not input.get("body"):
            raise _invalid("Argument Validation Error: body is required")
        self.comments[comment_id] = {"id": comment_id, "issue_id": issue["id"], "body": input["body"],
                                     "url": f"{issue['url']}#comment-{comment_id[:8]}"}  # fmt: skip
        comment = {**self.comments[comment_id], "issue": self._issue_view(issue)}
        return {"success": True, "lastSyncId": len(self.comments), "comment": comment}

    # --- HTTP -------------------------------------------------------------------------------

    def _answer(self, raw: bytes, authorization: str) -> tuple[Reply, float]:
        """(status, headers, body) and how long to wait before answering."""
        try:
            request = json.loads(raw)
            document = parse(request["query"])
        except (ValueError, KeyError, TypeError, GraphQLSyntaxError) as exc:
            return _json(400, {"errors": [{"message": f"bad request: {exc}"}]}), 0
        errors = validate(SCHEMA, document)
        if errors:
            body = {"errors": [{**e.formatted, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for e in errors]}
            return _json(400, body), 0
        operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        top = next(s for s in operation.selection_set.selections if isinstance(s, FieldNode)).name.value
        variables = request.get("variables") or {}
        with self.lock:
            self.requests.append(Received(top, variables, authorization))
            queue = self.faults.get(top)
            kind, retry_after = queue.pop(0) if queue else ("", "")
            if kind == "echo-auth":
                return _json(400, {"errors": [{"message": f"Authentication failed for {authorization!r}"}]}), 0
            if authorization != self.api_key:
                return _json(401, {"errors": [{"message": "Authentication required, not authenticated"}]}), 0
            if kind in ("500", "429", "ratelimited"):
                return _fault(kind, retry_after), 0
            result = execute_sync(SCHEMA, document, root_value=self, variable_values=variables)
        body = {"data": result.data} | ({"errors": [e.formatted for e in result.errors]} if result.errors else {})
        if kind in ("500-after", "garbage"):
            return _fault(kind, retry_after), 0
        return _json(200, body), self.delay_s if kind == "delay" else 0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                (status, headers, body), wait = fake._answer(raw, self.headers.get("Authorization", ""))
                time.sleep(wait)
                try:
                    self.send_response(status)
                    for name, value in {"Content-Length": str(len(body)), **headers}.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up waiting (the "delay" fault)
                    pass

        return Handler


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
    return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(body).encode()


def _fault(kind: str, retry_after: str) -> Reply:
    if kind in ("429", "ratelimited"):  # HTTP 429, or Linear's GraphQL error RATELIMITED in an HTTP 400
        error = {"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED", "type": "ratelimited"}}
        return _json(429 if kind == "429" else 400, {"errors": [error]}, {"Retry-After": retry_after})
    if kind == "garbage":
        return 200, {"Content-Type": "text/html"}, b"<html><body>502 upstream hiccup</body></html>"
    return _json(500, {"errors": [{"message": "Internal server error"}]})
