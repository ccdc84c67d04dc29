"""Linear as a destination (alerting/linear.py speaks the API): every id is the caller's, so a retry, a re-run
or a crash before the log write never makes a second issue or comment. Errors come back as results (redacted),
never raised, like the Slack transport's."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from alerting.linear import API_KEY_ENV, API_URL_ENV, CLOSED, DEFAULT_API_URL, REOPENED, LinearClient, LinearError
from alerting.redact import redact
from alerting.transport.base import Capabilities, PostResult

ISSUES = Capabilities(file_uploads=False, closing=True, digests=False)


class LinearTransport:
    name = "linear"
    capabilities = ISSUES

    def __init__(self, client: LinearClient) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinearTransport:
        """LINEAR_API_KEY (validated) and LINEAR_API_URL; LinearConfigError (a TransportConfigError) if unusable."""
        return cls(LinearClient(env.get(API_KEY_ENV, ""), env.get(API_URL_ENV) or DEFAULT_API_URL))

    def _result(self, call: Callable[[], str]) -> PostResult:
        try:
            return PostResult(ok=True, ts=call())
        except Exception as exc:  # reported, never raised; a LinearError is redacted already
            text = str(exc) if isinstance(exc, LinearError) else f"{type(exc).__name__}: {exc}"
            return PostResult(ok=False, error=redact(text, self.client.secrets))

    def open(self, team_id: str, issue_id: str, title: str, body: str, priority: int) -> PostResult:
        return self._result(lambda: self.client.create_issue(issue_id, team_id, title, body, priority))

    def comment(self, issue_id: str, body: str, comment_id: str) -> PostResult:
        return self._result(lambda: self.client.comment(issue_id, body, comment_id))

    def move(self, issue_id: str, team_id: str, close: bool, body: str, comment_id: str) -> PostResult:
        states = CLOSED if close else REOPENED
        return self._result(lambda: self.client.move(issue_id, team_id, states, body, comment_id))
