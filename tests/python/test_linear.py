"""The Linear client of alerting/transport/linear.py against the schema-checking double (linear_server.py)."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import parse, validate

from alerting.redact import redact
from alerting.sanitize import markdown_inert
from alerting.transport import linear
from alerting.transport.linear import (
    DEFAULT_API_URL,
    LinearClient,
    LinearConfigError,
    LinearError,
    LinearRefused,
    LinearTransport,
    issue_uuid,
    priority_for,
)
from tests.python.linear_server import SCHEMA, LinearServer

KEY = "lin_api_" + "Qm7xK2pR9t" * 4  # the shape of a real personal key: lin_api_ + 40 letters/digits
INCIDENT = "usage:acme:daily_active_users:2026-03-01"
# the "delay" fault answers after SLOW s; a client waiting TIMEOUT s gives up first. Other requests
# get 10 s, so a busy machine cannot turn an ordinary answer into a timeout.
SLOW, TIMEOUT = 3.0, 1.0


@pytest.fixture
def server() -> Iterator[LinearServer]:
    with LinearServer(KEY, delay_s=SLOW) as srv:
        yield srv


@pytest.fixture
def team(server: LinearServer) -> str:
    return server.add_team("OPS")


class Waits(list[float]):
    """Stands in for time.sleep: records each wait instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(server: LinearServer, **options: Any) -> LinearClient:
    options = {"timeout": 10.0, "sleep": Waits(), **options}
    return LinearClient(KEY, server.url, **options)


def create(c: LinearClient, team: str, key: str = INCIDENT, **fields: Any) -> str:
    args = {"title": "CRITICAL: acme daily active users down 62%", "description": "body", "priority": 1} | fields
    return c.create_issue(issue_uuid(key), team, **args)


# --- issue creation: exactly once ----------------------------------------------------------------


def test_one_create_makes_one_issue(server: LinearServer, team: str) -> None:
    ref = create(client(server), team)
    assert list(server.issues) == [issue_uuid(INCIDENT)] == [ref]
    stored = server.issues[ref]
    assert (stored["title"], stored["description"], stored["priority"]) == (
        "CRITICAL: acme daily active users down 62%", "body", 1,
    )  # fmt: skip
    assert stored["identifier"] == "OPS-1"
    assert server.state_of(ref)["type"] == "backlog"
    assert server.calls() == ["issueCreate"]
    assert {r.authorization for r in server.requests} == {KEY}  # the key as is, no "Bearer"


def test_rerun_with_same_id_looks_the_issue_up(server: LinearServer, team: str) -> None:
    c = client(server)
    first = create(c, team)
    again = create(c, team)
    assert again == first and len(server.issues) == 1
    assert server.calls() == ["issueCreate", "issueCreate", "issue"]  # refused (id exists) -> lookup


def test_crash_between_answer_and_log_write_still_one_issue(server: LinearServer, team: str) -> None:
    # the run that created it died before its delivery log row: a new process sends the same create
    first = create(client(server), team)
    second = create(client(server), team, description="body, composed again")
    assert second == first and len(server.issues) == 1
    assert server.issues[first]["description"] == "body"


@pytest.mark.parametrize("kind", ["500", "500-after"])
def test_500_then_retry_one_issue(server: LinearServer, team: str, kind: str) -> None:
    server.fault("issueCreate", kind)  # 500 before doing anything / after creating the issue
    c = client(server)
    ref = create(c, team)
    assert list(server.issues) == [ref]
    assert c._sleep == [0.5]  # one backoff before the retry
    expected = ["issueCreate", "issueCreate"] + (["issue"] if kind == "500-after" else [])
    assert server.calls() == expected


def test_timeout_after_the_server_created_it_one_issue(server: LinearServer, team: str) -> None:
    server.fault("issueCreate", "delay")  # the issue is created, the answer comes after SLOW s
    ref = create(client(server, timeout=TIMEOUT), team)
    assert list(server.issues) == [ref] and server.issues[ref]["identifier"] == "OPS-1"
    assert server.calls() == ["issueCreate", "issue"]  # no answer -> lookup finds it -> no second create


def test_non_json_answer_is_ambiguous_then_looked_up(server: LinearServer, team: str) -> None:
    server.fault("issueCreate", "garbage")  # created, then a 200 HTML page
    ref = create(client(server), team)
    assert list(server.issues) == [ref]
    assert server.calls() == ["issueCreate", "issue"]


def test_ambiguous_and_not_there_creates_again(server: LinearServer, team: str) -> None:
    server.fault("issueCreate", "500")  # nothing done; with no retries the answer stays ambiguous
    ref = create(client(server, retries=0), team)
    assert list(server.issues) == [ref]
    assert server.calls() == ["issueCreate", "issue", "issueCreate"]


def test_refused_create_is_not_retried(server: LinearServer) -> None:
    with pytest.raises(LinearRefused, match="Entity not found: Team"):
        create(client(server), str(uuid.uuid4()))
    assert server.issues == {} and server.calls() == ["issueCreate", "issue"]


def test_every_5xx_is_ambiguous_after_bounded_retries(server: LinearServer, team: str) -> None:
    for _ in range(3):
        server.fault("issueCreate", "500")
    for _ in range(3):
        server.fault("issue", "500")
    c = client(server, retries=2)
    with pytest.raises(linear.LinearAmbiguous, match="HTTP 500 3 times"):
        create(c, team)
    assert server.calls() == ["issueCreate"] * 3 + ["issue"] * 3 and c._sleep == [0.5, 1.0, 0.5, 1.0]


# --- rate limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "retry_after", "waited"),
    [("429", "2", 2.0), ("429", "3600", 30.0), ("429", "soon", 0.5), ("ratelimited", "3", 3.0)],
)
def test_rate_limit_honours_retry_after_with_a_cap(
    server: LinearServer, team: str, kind: str, retry_after: str, waited: float
) -> None:
    server.fault("issueCreate", kind, retry_after=retry_after)
    c = client(server)
    create(c, team)
    assert c._sleep == [waited] and len(server.issues) == 1
    assert server.calls() == ["issueCreate", "issueCreate"]


def test_429_beyond_the_retries_fails_without_creating(server: LinearServer, team: str) -> None:
    for _ in range(4):
        server.fault("issueCreate", "429", retry_after="1")
    c = client(server, retries=3)
    with pytest.raises(LinearError, match="still rate limiting"):
        create(c, team)
    assert c._sleep == [1.0, 1.0, 1.0] and server.issues == {}


# --- comments, close, reopen -------------------------------------------------------------------------


def test_comment_is_idempotent(server: LinearServer, team: str) -> None:
    c = client(server)
    ref = create(c, team)
    comment_id = issue_uuid(f"{INCIDENT}:repeat:2026-03-02")
    assert c.comment(ref, "Seen again on 2026-03-02.", comment_id) == comment_id
    assert c.comment(ref, "Seen again on 2026-03-02.", comment_id) == comment_id
    assert server.calls() == ["issueCreate", "commentCreate", "commentCreate", "issue"]  # refused -> looked up
    server.fault("commentCreate", "delay")  # made, answered too late
    other = issue_uuid(f"{INCIDENT}:repeat:2026-03-03")
    assert client(server, timeout=TIMEOUT).comment(ref, "Seen again on 2026-03-03.", other) == other
    assert server.calls()[4:] == ["commentCreate", "issue"]
    assert sorted(server.comments) == sorted([comment_id, other])
    assert [x["body"] for x in server.comments.values()] == ["Seen again on 2026-03-02.", "Seen again on 2026-03-03."]


def test_close_moves_to_completed_with_a_comment(server: LinearServer, team: str) -> None:
    c = client(server)
    ref = create(c, team)
    c.move(ref, team, linear.CLOSED, "Resolved: back within range on 2026-03-04.", issue_uuid(f"{INCIDENT}:resolved"))
    assert server.state_of(ref)["name"] == "Done" and server.state_of(ref)["type"] == "completed"
    assert [x["body"] for x in server.comments.values()] == ["Resolved: back within range on 2026-03-04."]
    second = create(c, team, key="another incident")
    c.move(second, team, linear.CLOSED, "Withdrawn.", issue_uuid("another incident:withdrawn"))
    assert server.state_of(second)["type"] == "completed"
    assert server.calls().count("workflowStates") == 1  # cached per team


def test_reopen_moves_to_the_first_unstarted_state(server: LinearServer) -> None:
    states = (("Triage", "triage"), ("Later", "backlog"), ("Next", "unstarted"), ("Todo", "unstarted"),
              ("Done", "completed"))  # fmt: skip
    team = server.add_team("SRE", states)
    # positions: Next 2 before Todo 3; the double answers in insertion order, so reverse them
    server.states = dict(reversed(list(server.states.items())))
    c = client(server)
    ref = create(c, team)
    c.move(ref, team, linear.CLOSED, "Resolved.", issue_uuid(f"{INCIDENT}:resolved"))
    c.move(ref, team, linear.REOPENED, "Back again on 2026-03-09.", issue_uuid(f"{INCIDENT}:reopened:2026-03-09"))
    assert server.state_of(ref)["name"] == "Next"
    assert [x["body"] for x in server.comments.values()] == ["Resolved.", "Back again on 2026-03-09."]


def test_reopen_falls_back_to_backlog(server: LinearServer) -> None:
    team = server.add_team("DATA", (("Backlog", "backlog"), ("Done", "completed")))
    c = client(server)
    ref = create(c, team)
    c.move(ref, team, linear.CLOSED, "Resolved.", issue_uuid("r"))
    c.move(ref, team, linear.REOPENED, "Again.", issue_uuid("o"))
    assert server.state_of(ref)["name"] == "Backlog"


def test_team_without_a_completed_state_is_an_error(server: LinearServer) -> None:
    team = server.add_team("ODD", (("Backlog", "backlog"),))
    c = client(server)
    ref = create(c, team)
    with pytest.raises(LinearError, match="no workflow state of type completed"):
        c.move(ref, team, linear.CLOSED, "Resolved.", issue_uuid("r"))


# --- priority, ids -----------------------------------------------------------------------------------


def test_priority_from_severity(server: LinearServer, team: str) -> None:
    assert [priority_for(s) for s in ("critical", "warning", "notice")] == [1, 2, 3]
    assert [priority_for(s) for s in (" CRITICAL ", "Warning", "unknown", "")] == [1, 2, 0, 0]
    ref = create(client(server), team, priority=priority_for("warning"))
    assert server.issues[ref]["priority"] == 2


def test_issue_uuid_is_stable_distinct_and_v4() -> None:
    assert issue_uuid("a") == issue_uuid("a") != issue_uuid("b")
    assert uuid.UUID(issue_uuid("a")).version == 4 and uuid.UUID(issue_uuid("a")).variant == uuid.RFC_4122


# --- the double really checks the schema ----------------------------------------------------------


def _post(server: LinearServer, query: str, key: str = KEY) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"query": query, "variables": {}}).encode()
    headers = {"Content-Type": "application/json", "Authorization": key}
    request = urllib.request.Request(server.url, body, headers)  # noqa: S310 - the loopback double
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(
    ("query", "wrong"),
    [
        ('mutation { issueCreate(input: {teamId: "t", titel: "x"}) { success } }', "titel"),
        ('mutation { issueCreate(input: {teamId: "t"}) { success issue { identifer } } }', "identifer"),
        ('query { workflowStates(filter: {team: {id: {equals: "t"}}}) { nodes { id } } }', "equals"),
        ('mutation { commentCreate(input: {issue: "t", body: "x"}) { success } }', "issue"),
    ],
)
def test_a_wrong_field_name_is_rejected(server: LinearServer, team: str, query: str, wrong: str) -> None:
    status, body = _post(server, query)
    assert status == 400 and f"'{wrong}'" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert server.issues == {} and server.comments == {}
    with pytest.raises(LinearRefused, match=wrong):
        client(server).execute(query, {})


def test_a_right_query_is_accepted_by_the_double(server: LinearServer, team: str) -> None:
    status, body = _post(server, '{ workflowStates(filter: {type: {eq: "completed"}}) { nodes { name } } }')
    assert status == 200 and body == {"data": {"workflowStates": {"nodes": [{"name": "Done"}]}}}


def test_every_operation_of_the_client_is_valid_against_linear_schema() -> None:
    assert len(linear.OPERATIONS) == 6
    for name, query in linear.OPERATIONS.items():
        assert validate(SCHEMA, parse(query)) == [], name


def test_the_key_goes_without_bearer(server: LinearServer, team: str) -> None:
    status, body = _post(server, '{ issue(id: "x") { id } }', key=f"Bearer {KEY}")
    assert status == 401 and "Authentication required" in body["errors"][0]["message"]


# --- configuration and secrets --------------------------------------------------------------------


def test_config_from_env(server: LinearServer) -> None:
    assert LinearTransport.from_env({"LINEAR_API_KEY": KEY}).client.api_url == DEFAULT_API_URL
    assert LinearTransport.from_env({"LINEAR_API_KEY": KEY, "LINEAR_API_URL": server.url}).client.api_url == server.url
    with pytest.raises(LinearConfigError, match="http"):
        LinearTransport.from_env({"LINEAR_API_KEY": KEY, "LINEAR_API_URL": "file:///etc/passwd"})


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "not set"),
        (KEY + "\n", "non-ASCII"),
        (" " + KEY, "non-ASCII"),
        (KEY[:20] + "é" + KEY[21:], "non-ASCII"),
        ("Bearer " + KEY, "non-ASCII"),
        ("xoxb-1234-5678-abcdefghijkl", "not a Linear personal API key"),
        ("lin_api_short", "not a Linear personal API key"),
        ("lin_oauth_" + "a" * 40, "not a Linear personal API key"),
    ],
    ids=["empty", "newline", "space", "non-ascii", "bearer", "slack", "short", "oauth"],
)
def test_bad_keys_are_refused_without_printing_them(key: str, problem: str) -> None:
    with pytest.raises(LinearConfigError, match=problem) as info:
        LinearTransport.from_env({"LINEAR_API_KEY": key})
    assert "Qm7xK2pR" not in str(info.value) and "xoxb" not in str(info.value) and "aaaaaaaa" not in str(info.value)


def test_the_key_never_appears_in_errors_logs_or_repr(
    server: LinearServer, team: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = client(server, retries=1)
    server.fault("issueCreate", "429")
    server.fault("issueCreate", "500-after")
    server.fault("issue", "echo-auth")  # the lookup's answer quotes our Authorization header back
    texts: list[str] = [repr(c)]
    with pytest.raises(LinearError) as info:
        create(c, team)
    assert KEY in json.dumps([r.authorization for r in server.requests])  # the key was really sent
    texts += [str(info.value), repr(info.value), str(info.value.__cause__), str(info.value.__context__)]
    server.fault("issueCreate", "delay")
    server.fault("issue", "delay")
    with pytest.raises(LinearError) as slow:
        create(client(server, timeout=TIMEOUT, retries=0), team, key="other")
    texts += [str(slow.value), repr(slow.value)]
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert "Authentication failed for '[redacted]'" in str(info.value)
    assert len(caplog.records) >= 3
    for text in texts:
        assert KEY not in text and KEY[8:16] not in text and "lin_api_" not in text, text


def test_redact_removes_any_linear_key_shape() -> None:
    unknown = "lin_api_" + "Z9" * 20
    assert redact(f"echo {unknown}!") == "echo [redacted]!"
    assert redact("see lin_oauth_abc123 here") == "see [redacted] here"


def test_no_server_is_an_ambiguous_error(server: LinearServer, team: str) -> None:
    closed = LinearServer(KEY)  # bound, never served and closed: the port refuses connections
    closed.server.server_close()
    c = client(closed)
    with pytest.raises(linear.LinearAmbiguous, match="no answer from Linear"):
        create(c, team)
    assert c._sleep == []


def test_a_hostile_org_name_cannot_mention_link_or_format(server: LinearServer, team: str) -> None:
    org = "# @channel [pay here](https://evil.example/x) <img src=x> `rm` \\* \u202eevil\u200b\nsecond line"
    shown = markdown_inert(org)
    for forbidden in ("@", "[", "]", "<", ">", "`", "://", "\\", "\u202e", "\u200b", "\n"):
        assert forbidden not in shown, forbidden
    assert shown.startswith("＃ ＠channel ［pay here］(https:⁄⁄evil.example/x)")
    assert len(markdown_inert("x" * 500)) == 80
    title = "CRITICAL: " + markdown_inert(org, 400) + " " + "y" * 400
    ref = create(client(server), team, title=title, description=f"**Org:** {shown}")
    stored = server.issues[ref]
    assert len(stored["title"]) == 255 and "\n" not in stored["title"] and "@" not in stored["title"]
    assert stored["description"] == f"**Org:** {shown}"
