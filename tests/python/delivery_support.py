"""Fixture marts (fct_alerts rows with their incident and hold columns) and runs of the runner."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from unittest import mock

import duckdb
import pyarrow as pa

from alerting import compose
from alerting.compose import Digest
from alerting.delivery_log import DeliveryLog
from alerting.lifecycle import LifecycleConfig
from alerting.message import MessageBody
from alerting.render.slack import Limits, SlackMessage
from alerting.routing import Routing, parse_routing
from alerting.runner import RunOptions, RunReport, render_body, run
from alerting.transport.base import CHAT, PostResult
from alerting.transport.slack import SlackTransport
from alerting.warehouse import DuckDBBackend
from tests.python.alerting_support import ALERT_COLUMNS, FAKE_TOKEN, FakeSlack, Reply

_compose_digest = compose.digest  # the real one, while a composed run records it
# the log kinds that notified the channel (top level or broadcast); fct_alert_posts.is_loud must agree
LOUD_KINDS = frozenset({"post", "data_health", "broadcast", "all_clear", "pipeline_health"})
COLUMNS = ALERT_COLUMNS  # every fct_alerts column, incident_id / is_postable / hold_reason included
ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
}


def team_routes(**channels: str) -> list[dict[str, Any]]:
    """[[routes]] sending each team's alerts to its channel, first match wins."""
    return [{"match": {"team": team}, "slack": channel} for team, channel in channels.items()]


ROUTING = parse_routing(
    {"default_channel": "#ltx-monitoring", "routes": team_routes(product="#usage", api="#api", data="#data")}, {}
)


def alert_row(
    day: dt.date,
    scope: str = "free",
    metric: str = "tokens",
    severity: str = "critical",
    direction: str = "decrease",
    z: float | None = -6.48,
    **kw: Any,
) -> dict[str, Any]:
    """One fct_alerts row; alert_id and incident_id as the marts compute them (md5 of the key)."""
    domain = kw.pop("domain", "usage")
    rule = kw.pop("rule", "usage_zscore")
    key = "|".join((domain, day.isoformat(), scope, metric, rule))
    inc_key = "|".join((domain, day.isoformat(), scope, direction if domain == "usage" else ""))
    row: dict[str, Any] = dict(
        alert_id=hashlib.md5(key.encode(), usedforsecurity=False).hexdigest(),
        alert_date=day,
        domain=domain,
        team="product" if domain == "usage" else ("data" if domain == "data_health" else "api"),
        scope=scope,
        metric=metric,
        unit="tokens" if metric == "tokens" else "count",
        current_value=1000.0 + (z or 0) * 100,
        baseline_mean=1000.0,
        baseline_stddev=100.0,
        z_score=z,
        pct_change=(z or 0) / 10,
        threshold=2.0,
        severity=severity,
        direction=direction,
        is_suppressed=False,
        suppression_reason=None,
        rule=rule,
        drivers_summary=None,
        recommended_action=f"{severity.upper()}: look at {scope} {metric}.",
        incident_id=hashlib.md5(inc_key.encode(), usedforsecurity=False).hexdigest(),
        is_postable=True,
        hold_reason=None,
    )
    row.update(kw)
    row.setdefault("is_loud", bool(row["is_postable"]))  # the policy's verdict: loud unless said otherwise
    return row


def with_run_days(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with fct_alerts.run_days where not given, counted here as the mart defines it: which day of the
    consecutive alert days of its series (domain, scope, metric, direction) the row is."""
    rows = [dict(r) for r in rows]  # the caller's rows stay as given
    days = {(r["domain"], r["scope"], r["metric"], r["direction"], r["alert_date"]) for r in rows}
    for r in rows:
        key, n = (r["domain"], r["scope"], r["metric"], r["direction"]), 1
        while (*key, r["alert_date"] - dt.timedelta(days=n)) in days:
            n += 1
        r.setdefault("run_days", n)
    return rows


def write_marts(
    path: Path, rows: Iterable[dict[str, Any]], health: Iterable[tuple[dt.date, str, str]] | None = None
) -> None:
    """(Re)build fct_alerts (and fct_data_health when given) in a DuckDB file, like a dbt build would."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists main_marts")
        cols = ", ".join(f"{n} {t}" for n, t in COLUMNS)
        con.execute(f"create or replace table main_marts.fct_alerts ({cols})")
        rows = with_run_days(rows)
        if rows:  # one insert from an Arrow table: executemany takes seconds for a few hundred rows
            batch = pa.table({n: pa.array([r.get(n) for r in rows], type=ARROW_TYPES[t]) for n, t in COLUMNS})
            con.register("fixture_rows", batch)
            con.execute("insert into main_marts.fct_alerts select * from fixture_rows")
            con.unregister("fixture_rows")
        if health is not None:
            con.execute(
                "create or replace table main_marts.fct_data_health (dt date, source varchar, status varchar,"
                " build_id varchar)"
            )
            health = list(health)
            if health:  # one build with fct_alerts (build_id null in both)
                con.executemany("insert into main_marts.fct_data_health values (?, ?, ?, null)", health)
    finally:
        con.close()


def run_day(
    path: Path,
    url: str,
    day: dt.date,
    *,
    lifecycle: LifecycleConfig | None = None,
    chart_for: Callable[..., Any] | None = None,
    release: bool = False,
    all_clear: bool = False,
    lock_timeout_s: float = 30.0,
    run_id: str | None = None,
    cost_finalisation_days: int = 3,
    claim_ttl_s: int = 900,
    transport: SlackTransport | None = None,
    routing: Routing = ROUTING,
) -> RunReport:
    """One morning's `alerting run` for usage day `day` against the loopback Slack at `url`."""
    backend = DuckDBBackend(path, "main_marts", "main_alerting", lock_timeout_s=lock_timeout_s)
    try:
        options = RunOptions(
            usage_date=day,
            cost_date=day + dt.timedelta(days=1 - cost_finalisation_days),
            lifecycle=lifecycle or LifecycleConfig(),
            release=release,
            all_clear=all_clear,
            claim_ttl_s=claim_ttl_s,
        )
        return run(
            backend,
            routing,
            transport or SlackTransport(FAKE_TOKEN, url),
            options,
            io.StringIO(),
            chart_for=chart_for,
            run_id=run_id,
        )
    finally:
        backend.close()


# --- what the runner composes: digests per channel, replies in threads ------------------------------


class RecordingComposer:
    """What a run composed: each digest (channel, the teams its header names, its alerts, the held alerts it
    counts) with its Slack messages (compose.digest, recorded), and each thread reply (channel, alert ids; from
    the run's delivery-log rows)."""

    def __init__(self) -> None:
        self.digests: list[tuple[Digest, list[SlackMessage]]] = []
        self.repeats: list[tuple[str, list[str]]] = []

    def digest(self, post: Digest) -> MessageBody | None:
        body = _compose_digest(post)
        self.digests.append((post, render_body(body, Limits())))
        return body


class InProcessSlack:
    """A transport that accepts every message (ts 1.<n>; the channel name is its id)."""

    name = "slack"
    capabilities = CHAT

    def __init__(self) -> None:
        self.posted: list[tuple[str, str | None]] = []  # (channel, thread_ts)

    def post(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]],
        thread_ts: str | None = None,
        broadcast: bool = False,
        *,
        delivery_key: str | None = None,
    ) -> PostResult:
        self.posted.append((channel, thread_ts))
        return PostResult(ok=True, ts=f"1.{len(self.posted)}", channel_id=channel)

    def upload_file(
        self, channel_id: str, thread_ts: str | None, filename: str, content: bytes, title: str
    ) -> PostResult:
        return PostResult(ok=True, ts="F1", channel_id=channel_id)


def composed_run(
    path: Path, routing: Routing, usage_date: dt.date, cost_date: dt.date
) -> tuple[RunReport, RecordingComposer]:
    """One real `alerting run` (delivery log included) over the marts at `path`: what it composed."""
    backend = DuckDBBackend(path, "main_marts", "main_alerting")
    composer, run_id = RecordingComposer(), f"composed-{time.monotonic_ns()}"
    try:
        options = RunOptions(usage_date=usage_date, cost_date=cost_date)
        with mock.patch.object(compose, "digest", composer.digest):
            report = run(backend, routing, InProcessSlack(), options, io.StringIO(), run_id=run_id)
        replies: dict[tuple[str, str], list[str]] = {}
        for e in DeliveryLog(backend).entries(dt.date.min):
            if e.run_id == run_id and e.kind in ("repeat", "broadcast"):
                replies.setdefault((e.destination.split(":", 1)[1], str(e.message_ts)), []).append(str(e.alert_id))
        composer.repeats = [(channel, sorted(ids)) for (channel, _), ids in replies.items()]
    finally:
        backend.close()
    assert report.ok, report.failures
    return report, composer


# --- a Slack that takes the message and then answers unclearly -------------------------------------


class LookupSlack(FakeSlack):
    """FakeSlack plus what resolving an unclear answer needs: each accepted message keeps its ts (and
    its `metadata`, as sent); `conversations.list` / `.history` / `.replies` answer GETs the way
    slack_sdk sends them (`include_all_metadata`); uploaded files show in their thread.

    `after_accept[method]` (chat.postMessage, files.completeUploadExternal): faults consumed in order,
    applied after the request was accepted: "late" (the answer comes `late_s` later), "non_json"
    (200 with an HTML body), "502" (a gateway error), "reset" (the connection drops unanswered).
    """

    def __init__(self) -> None:
        super().__init__()
        self.after_accept: dict[str, list[str]] = {}
        self.late_s = 3.0
        self.lookups: list[str] = []

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        base = super()._handler()

        class Handler(base):  # type: ignore[valid-type, misc]
            do_GET = base.do_POST  # slack_sdk reads conversations.* with GET

        return Handler

    def _answer(self, path: str, payload: dict[str, Any], raw: bytes) -> tuple[Reply, Any]:
        method = path.removeprefix("/api/")
        if method.startswith("conversations."):
            self.lookups.append(method)
            return Reply(), {"ok": True, "messages": self._history(method, payload), "channels": self._channels()}
        if method == "chat.postMessage":  # the channel exists (has an id) whatever this post's fate
            self.channel_id(self.channel_name(str(payload.get("channel", ""))))
        reply, body = super()._answer(path, payload, raw)
        if not (reply.status == 200 and isinstance(body, dict) and body.get("ok")):
            return reply, body
        if method == "chat.postMessage":  # a real ts: look-ups read a window of time
            body["ts"] = self.posted[-1]["ts"] = f"{time.time():.6f}"
        elif method == "files.completeUploadExternal":
            self.uploads[-1]["ts"] = f"{time.time():.6f}"
        faults = self.after_accept.get(method)
        if not faults:
            return reply, body
        fault = faults.pop(0)
        if fault == "late":
            self.lock.release()  # the look-up is answered meanwhile
            try:
                time.sleep(self.late_s)
            finally:
                self.lock.acquire()
            return reply, body
        if fault == "reset":
            raise ConnectionResetError("dropped after accepting")
        unclear = Reply(502, "<html>Bad Gateway</html>") if fault == "502" else Reply(200, "<html>ok</html>")
        return unclear, unclear.body

    def _channels(self) -> list[dict[str, str]]:
        return [{"id": i, "name": n.removeprefix("#")} for n, i in self.channel_ids.items()]

    def _history(self, method: str, query: dict[str, Any]) -> list[dict[str, Any]]:
        """conversations.history (top level and broadcasts) or .replies (a thread's root and replies)."""
        channel, oldest = self.channel_name(query.get("channel", "")), float(query.get("oldest") or 0)
        root = query.get("ts") if method == "conversations.replies" else None
        with_metadata = query.get("include_all_metadata") in ("1", "true", "True")
        out = []
        for p in self.posted:
            in_thread = p.get("thread_ts") == root or p["ts"] == root
            in_channel = not p.get("thread_ts") or bool(p.get("reply_broadcast"))
            if p["channel"] == channel and (in_thread if root else in_channel):
                out.append({"ts": p["ts"], "text": p["text"]})
                if with_metadata and "metadata" in p:
                    out[-1]["metadata"] = p["metadata"]
        for u in self.uploads:
            if root and u.get("thread_ts") == root and self.channel_name(str(u["channel_id"])) == channel:
                out.append({"ts": u["ts"], "files": [{"id": u["id"], "name": u["filename"]}]})
        return [m for m in out if float(m["ts"]) >= oldest]
