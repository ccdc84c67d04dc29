"""Test helpers for the alerting module: alert factories, fixture marts in DuckDB, a fake Slack.

The fixture tables have exactly the contract columns of fct_alerts and
fct_usage_alert_drivers (BRIEF / DESIGN.md §3.3). The fake Slack is a real HTTP server on
127.0.0.1 speaking the Web API's chat.postMessage, so the real slack_sdk client is used.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb

from alerting import model
from alerting.delivery_log import ALERT_KINDS
from alerting.model import Alert, Driver

FAKE_TOKEN = "xoxb-FAKE0TOKEN-4242424242-do-not-print-me"

# the fct_alerts contract columns with their DuckDB types, derived from the Alert dataclass (one list, not re-typed)
_DUCK_TYPES = {"str": "varchar", "dt.date": "date", "float": "double", "int": "bigint", "bool": "boolean"}
ALERT_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    (f.name, _DUCK_TYPES[str(f.type).replace(" | None", "")])
    for f in dataclasses.fields(Alert)
    if f.name in model.ALERT_COLUMN_NAMES
)
DRIVER_COLUMNS = (
    ("alert_id", "varchar"),
    ("dt", "date"),
    ("segment", "varchar"),
    ("metric", "varchar"),
    ("contributor_type", "varchar"),
    ("contributor", "varchar"),
    ("value", "double"),
    ("baseline_mean", "double"),
    ("delta", "double"),
    ("share_of_delta", "double"),
    ("contributor_rank", "bigint"),
)

DAY = dt.date(2026, 11, 21)
COST_DAY = DAY + dt.timedelta(days=1 - 3)


def usage_alert(alert_id: str, **kw: Any) -> Alert:
    """A usage alert with sensible defaults; z and change computed from the numbers given."""
    current = kw.pop("current_value", 4_497_947.0)
    mean = kw.pop("baseline_mean", 3_068_455.0)
    std = kw.pop("baseline_stddev", 426_074.0)
    base: dict[str, Any] = dict(
        alert_id=alert_id,
        incident_id=f"inc-{alert_id}",
        is_loud=True,  # what the policy says of a postable WARNING with a large effect (fct_alerts.is_loud)
        alert_date=DAY,
        domain="usage",
        team="product",
        scope="free",
        metric="tokens",
        rule="usage_zscore",
        threshold_kind="z",
        baseline_kind="same_weekday",
        unit="tokens",
        current_value=current,
        baseline_mean=mean,
        baseline_stddev=std,
        baseline_points=10,
        z_score=(current - mean) / std if std else None,
        robust_z_score=None,
        pct_change=(current - mean) / mean if mean else None,
        threshold=2.0,
        severity="warning",
        direction="increase" if current >= mean else "decrease",
        is_suppressed=False,
        suppression_reason=None,
        is_postable=True,
        hold_reason=None,
        is_baseline_valid=True,
        has_insufficient_baseline=False,
        is_low_variance=False,
        has_baseline_outlier=False,
        baseline_outlier_date=None,
        is_incident_primary=True,
        drivers_summary=None,
        recommended_action="WARNING: no same-direction alert yesterday; watch whether it repeats tomorrow.",
    )
    base.update(kw)
    if base["is_suppressed"] and "is_postable" not in kw:
        base["is_postable"], base["hold_reason"] = False, "enterprise_weekend"
    return Alert(**base)


def cost_alert(alert_id: str, **kw: Any) -> Alert:
    base: dict[str, Any] = dict(
        alert_id=alert_id,
        incident_id=f"inc-{alert_id}",
        is_loud=True,
        alert_date=COST_DAY,
        domain="gpu_cost",
        team="api",
        scope="api",
        metric="idle_cost",
        rule="idle_cost_above_threshold",
        threshold_kind="absolute",
        baseline_kind="rolling",
        unit="usd",
        current_value=16_234.5,
        baseline_mean=14_000.0,
        baseline_stddev=None,
        baseline_points=28,
        z_score=None,
        robust_z_score=None,
        pct_change=(16_234.5 - 14_000.0) / 14_000.0,
        threshold=15_600.0,
        severity="critical",
        direction="increase",
        is_suppressed=False,
        suppression_reason=None,
        is_postable=True,
        hold_reason=None,
        is_incident_primary=True,
        drivers_summary="endpoint /v1/video +$1,900.10; model ltxv-13b +$300.00",
        recommended_action="Check idle GPU capacity of the API cluster.",
    )
    base.update(kw)
    return Alert(**base)


def create_marts(path: Path, alerts: Iterable[Alert], with_drivers: bool = True, schema: str = "main_marts") -> None:
    """Write fct_alerts (+ fct_usage_alert_drivers from each alert's drivers) into a DuckDB file."""
    con = duckdb.connect(str(path))
    try:
        con.execute(f'create schema if not exists "{schema}"')
        cols = ", ".join(f"{n} {t}" for n, t in ALERT_COLUMNS)
        con.execute(f'create or replace table "{schema}".fct_alerts ({cols})')
        alerts = list(alerts)
        if alerts:
            marks = ", ".join("?" for _ in ALERT_COLUMNS)
            con.executemany(
                f'insert into "{schema}".fct_alerts values ({marks})',
                [[getattr(a, n) for n, _ in ALERT_COLUMNS] for a in alerts],
            )
        if with_drivers:
            dcols = ", ".join(f"{n} {t}" for n, t in DRIVER_COLUMNS)
            con.execute(f'create or replace table "{schema}".fct_usage_alert_drivers ({dcols})')
            rows = [
                [a.alert_id, a.alert_date, a.scope, a.metric, d.contributor_type, d.contributor, d.value,
                 d.baseline_value, d.delta, d.share_of_delta, d.rank]
                for a in alerts
                for d in a.drivers
            ]  # fmt: skip
            if rows:
                con.executemany(
                    f'insert into "{schema}".fct_usage_alert_drivers values ({", ".join("?" for _ in DRIVER_COLUMNS)})',
                    rows,
                )
    finally:
        con.close()


def add_alerts(path: Path, alerts: Iterable[Alert]) -> None:
    """Append rows to an existing fixture fct_alerts (late data arriving)."""
    con = duckdb.connect(str(path))
    try:
        marks = ", ".join("?" for _ in ALERT_COLUMNS)
        con.executemany(
            f"insert into main_marts.fct_alerts values ({marks})",
            [[getattr(a, n) for n, _ in ALERT_COLUMNS] for a in alerts],
        )
    finally:
        con.close()


def drivers(*rows: tuple[str, str, float, float, float]) -> tuple[Driver, ...]:
    """(type, contributor, value, baseline, share) -> ranked drivers with delta = value - baseline."""
    return tuple(
        Driver(contributor_type=t, contributor=c, value=v, baseline_value=b, delta=v - b, share_of_delta=s, rank=i)
        for i, (t, c, v, b, s) in enumerate(rows, start=1)
    )


def with_drivers(alert: Alert, ds: tuple[Driver, ...]) -> Alert:
    return dataclasses.replace(alert, drivers=ds)


def log_entries(path: Path, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Rows of alert_delivery_log (all columns), or [] when the log does not exist yet."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            ["main_alerting", "alert_delivery_log"],
        ).fetchone()
        if not exists or not exists[0]:
            return []
        cur = con.execute("select * from main_alerting.alert_delivery_log order by delivered_at, delivery_key")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    return [r for r in rows if kinds is None or r["kind"] in kinds]


def log_rows(path: Path) -> list[tuple[str, str]]:
    """(alert_id, channel) of every alert delivered in a thread (delivery_log.ALERT_KINDS), sorted."""
    rows = log_entries(path, tuple(ALERT_KINDS))
    return sorted((str(r["alert_id"]), str(r["destination"]).split(":", 1)[1]) for r in rows)


# --- a Slack-compatible server on loopback -------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | str | None = None  # None -> {"ok": true, ...}
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    authorization: str
    payload: dict[str, Any]
    at: float


class FakeSlack:
    """A Slack Web API double on loopback: chat.postMessage (threads) and files_upload_v2's calls.

    chat.postMessage: `script` replies are consumed in order, then `default`; `per_channel`
    maps a channel name to a fixed reply (checked first). An ok answer carries the channel's
    id (`C...`, stable per name) and a new ts, like Slack; ids are accepted as `channel` later.
    `delay_s` makes every chat.postMessage slow (a Slack that hangs).

    files.getUploadURLExternal -> an upload URL on this server (`/upload/<file id>`, raw
    bytes) -> files.completeUploadExternal (channel_id, thread_ts). `method_replies[method]`
    (method = "files.getUploadURLExternal", "upload", "files.completeUploadExternal") scripts
    failures of each step: a list consumed in order. `uploads` holds completed files.
    Every request is kept in `requests`; `posted` holds the message payloads answered ok.
    """

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default = Reply()
        self.per_channel: dict[str, Reply] = {}
        self.method_replies: dict[str, list[Reply]] = {}
        self.delay_s = 0.0
        self.in_flight = threading.Event()  # set while a (delayed) chat.postMessage is being answered
        self.in_flight_count = 0
        self.hang = False  # when True, chat.postMessage waits for `release` (a Slack that hangs until told)
        self.release = threading.Event()
        self.requests: list[Received] = []
        self.posted: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.channel_ids: dict[str, str] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        self._ts = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def post_requests(self) -> list[Received]:
        """The chat.postMessage calls only (chart uploads make their own three calls)."""
        return [r for r in self.requests if r.path == "/api/chat.postMessage"]

    @property
    def url(self) -> str:
        host, port = str(self.server.server_address[0]), self.server.server_address[1]
        return f"http://{host}:{port}/api/"

    def channel_id(self, name: str) -> str:
        if name in self.channel_ids.values():
            return name
        return self.channel_ids.setdefault(name, f"C{len(self.channel_ids) + 1:08d}")

    def channel_name(self, channel: str) -> str:
        return next((n for n, i in self.channel_ids.items() if i == channel), channel)

    def top_level(self) -> list[dict[str, Any]]:
        return [p for p in self.posted if not p.get("thread_ts")]

    def replies(self) -> list[dict[str, Any]]:
        return [p for p in self.posted if p.get("thread_ts")]

    def _scripted(self, method: str) -> Reply | None:
        replies = self.method_replies.get(method)
        return replies.pop(0) if replies else None

    def _answer(self, path: str, payload: dict[str, Any], raw: bytes) -> tuple[Reply, Any]:
        method = path.removeprefix("/api/")
        if path.startswith("/upload/"):
            reply = self._scripted("upload")
            if reply is not None:
                return reply, reply.body or "upload failed"
            file_id = path.removeprefix("/upload/")
            if file_id not in self._pending_files:
                return Reply(404), "no such upload"
            self._pending_files[file_id]["content"] = raw
            return Reply(), f"OK - {len(raw)}"
        if method == "files.getUploadURLExternal":
            reply = self._scripted(method)
            if reply is not None:
                return reply, reply.body
            self._ts += 1
            file_id = f"F{self._ts:08d}"
            self._pending_files[file_id] = {"filename": payload.get("filename"), "length": payload.get("length")}
            host, port = str(self.server.server_address[0]), self.server.server_address[1]
            return Reply(), {"ok": True, "upload_url": f"http://{host}:{port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            reply = self._scripted(method)
            if reply is not None:
                return reply, reply.body
            files = json.loads(payload.get("files") or "[]")
            done = []
            for f in files:
                pending = self._pending_files.pop(f["id"], None)
                if pending is None or "content" not in pending:
                    return Reply(), {"ok": False, "error": "file_not_found"}
                self.uploads.append(
                    {**pending, "id": f["id"], "title": f.get("title"), "channel_id": payload.get("channel_id"),
                     "thread_ts": payload.get("thread_ts")}
                )  # fmt: skip
                done.append({"id": f["id"], "title": f.get("title")})
            return Reply(), {"ok": True, "files": done}
        if method != "chat.postMessage":
            return Reply(404), {"ok": False, "error": "unknown_method"}
        channel = self.channel_name(str(payload.get("channel", "")))
        if channel in self.per_channel:
            reply = self.per_channel[channel]
        elif self.script:
            reply = self.script.pop(0)
        else:
            reply = self.default
        body: Any = reply.body
        if body is None and reply.status == 200:
            self._ts += 1
            body = {"ok": True, "channel": self.channel_id(channel), "ts": f"1700000000.{self._ts:06d}"}
        if isinstance(body, dict) and body.get("ok") and reply.status == 200:
            self.posted.append({**payload, "channel": channel})
        return reply, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # silence stderr
                pass

            def do_POST(self) -> None:
                import time
                from urllib.parse import parse_qsl, urlsplit

                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = urlsplit(self.path).path
                payload: dict[str, Any] = dict(parse_qsl(urlsplit(self.path).query))
                ctype = self.headers.get("Content-Type", "")
                if path.startswith("/upload/"):
                    pass
                elif "application/x-www-form-urlencoded" in ctype:
                    payload.update(parse_qsl(raw.decode("utf-8")))
                else:
                    try:
                        payload.update(json.loads(raw.decode("utf-8")) if raw else {})
                    except json.JSONDecodeError:
                        payload["_raw"] = raw.decode("utf-8", "replace")
                if path == "/api/chat.postMessage" and (fake.delay_s or fake.hang):
                    fake.in_flight_count += 1
                    fake.in_flight.set()
                    if fake.hang:
                        fake.release.wait(300)
                    else:
                        time.sleep(fake.delay_s)
                    fake.in_flight.clear()
                with fake.lock:
                    fake.requests.append(Received(path, self.headers.get("Authorization", ""), payload, time.time()))
                    reply, body = fake._answer(path, payload, raw)
                data = (body if isinstance(body, str) else json.dumps(body or {})).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def posted_alert_texts(server: FakeSlack) -> str:
    """Everything the server accepted, as one JSON string (to search for escaped names)."""
    return json.dumps(server.posted, ensure_ascii=False)
