"""Linear as a destination: the lifecycle's actions as issues (alerting/linear.py does the API).

No digests and no files: one issue per incident (`open`), later news as comments, a resolution
closes the issue and a recurrence reopens it (see `capabilities`). Every id is chosen by the
caller (`linear.issue_uuid` of the destination and the delivery key), so a retry, a re-run or a
crash between Linear's answer and the delivery-log write never makes a second issue or comment.
Errors come back as results (redacted), never raised, like the Slack transport's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TextIO

from alerting.linear import LinearClient, LinearError
from alerting.redact import redact
from alerting.transport.base import Capabilities, PostResult

ISSUES = Capabilities(threads=True, file_uploads=False, message_updates=False, closing=True, digests=False)


class LinearTransport:
    name = "linear"
    capabilities = ISSUES

    def __init__(self, client: LinearClient) -> None:
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LinearTransport:
        """LINEAR_API_KEY (validated) and LINEAR_API_URL; LinearConfigError (a TransportConfigError) if unusable."""
        return cls(LinearClient.from_env(env))

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.client.secrets

    def _result(self, call: Callable[[], str]) -> PostResult:
        try:
            return PostResult(ok=True, ts=call())
        except LinearError as exc:  # already redacted by the client
            return PostResult(ok=False, error=str(exc))
        except Exception as exc:  # any other failure is reported, never raised
            return PostResult(ok=False, error=redact(f"{type(exc).__name__}: {exc}", self.secrets))

    def open(self, team_id: str, issue_id: str, title: str, body: str, priority: int) -> PostResult:
        """The incident's issue (created once); `ts` is the issue id."""
        return self._result(lambda: self.client.create_issue(issue_id, team_id, title, body, priority).id)

    def comment(self, issue_id: str, body: str, comment_id: str) -> PostResult:
        return self._result(lambda: self.client.comment(issue_id, body, comment_id))

    def close(self, issue_id: str, team_id: str, body: str, comment_id: str) -> PostResult:
        return self._result(lambda: self.client.close(issue_id, team_id, body, comment_id))

    def reopen(self, issue_id: str, team_id: str, body: str, comment_id: str) -> PostResult:
        return self._result(lambda: self.client.reopen(issue_id, team_id, body, comment_id))


class LinearPrinter:
    """Dry run: prints what would go to Linear, sends nothing."""

    name = "linear"
    capabilities = ISSUES

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def _print(self, head: str, body: str, ts: str) -> PostResult:
        self.out.write(f"===== {head} =====\n{body.rstrip()}\n")
        return PostResult(ok=True, ts=ts)

    def open(self, team_id: str, issue_id: str, title: str, body: str, priority: int) -> PostResult:
        return self._print(f"linear:{team_id} · new issue {issue_id} · priority {priority}", f"{title}\n---\n{body}",
                           issue_id)  # fmt: skip

    def comment(self, issue_id: str, body: str, comment_id: str) -> PostResult:
        return self._print(f"linear issue {issue_id} · comment", body, comment_id)

    def close(self, issue_id: str, team_id: str, body: str, comment_id: str) -> PostResult:
        return self._print(f"linear issue {issue_id} · close (completed) with a comment", body, comment_id)

    def reopen(self, issue_id: str, team_id: str, body: str, comment_id: str) -> PostResult:
        return self._print(f"linear issue {issue_id} · reopen with a comment", body, comment_id)
