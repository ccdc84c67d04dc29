"""`python -m alerting serve` end to end: real signed HTTP requests on loopback, a loopback Slack
for chat.update / chat.postEphemeral, a DuckDB warehouse with a hand-made fct_alerts (no dbt).

Each service test starts the real CLI in a subprocess (`--port 0`), reads its port from the log,
and signs requests as Slack does: `v0:{timestamp}:{body}`, HMAC-SHA256 with the signing secret.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from slack_sdk import WebClient

from alerting import feedback_buttons as fb
from alerting.feedback import Click, FeedbackRow, FeedbackStore, click_from_payload, decide
from alerting.model import Alert
from alerting.serve import SECRET_ENV, Spool, Worker, secret_from_env
from alerting.warehouse import DuckDBBackend
from tests.python.alerting_support import (
    COST_DAY,
    DAY,
    FAKE_TOKEN,
    FakeSlack,
    Reply,
    cost_alert,
    create_marts,
    usage_alert,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "8f742231b10e8888abcd99e2d4f5a6b7"  # 32 characters like Slack's
USER, CHANNEL, MSG_TS = "U0123ABCD", "C0000AAAA", "1764900000.000100"


class FeedbackSlack(FakeSlack):
    """FakeSlack that also answers chat.update and chat.postEphemeral (kept in `calls`)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def _answer(self, path: str, payload: dict[str, Any], raw: bytes) -> tuple[Reply, Any]:
        method = path.removeprefix("/api/")
        if method in ("chat.update", "chat.postEphemeral"):
            self.calls.append((method, payload))
            return Reply(), {"ok": True, "channel": payload.get("channel"), "ts": payload.get("ts")}
        return super()._answer(path, payload, raw)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.calls if m == method]


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def feedback_rows(db: Path) -> list[dict[str, Any]]:
    """alert_feedback rows, read from another process's view (retrying while the service holds the file)."""
    for _ in range(100):
        try:
            con = duckdb.connect(str(db), read_only=True)
        except duckdb.Error:
            time.sleep(0.05)
            continue
        try:
            n = con.execute(
                "select count(*) from information_schema.tables where table_schema = 'main_alerting'"
                " and table_name = 'alert_feedback'"
            ).fetchone()
            if not n or not n[0]:
                return []
            cur = con.execute("select * from main_alerting.alert_feedback order by created_at")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        finally:
            con.close()
    raise AssertionError("the DuckDB file stayed locked")


ALERTS = [
    usage_alert("a1", incident_id="inc1"),
    usage_alert("a2", incident_id="inc1", metric="dau", is_incident_primary=False),
    cost_alert("c1", incident_id="inc2"),
    usage_alert("w1", incident_id="inc3", is_postable=False, hold_reason="insufficient_baseline"),
]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    db = tmp_path / "wh.duckdb"
    create_marts(db, ALERTS)
    return db


def message_blocks(incident_id: str, alert_ids: list[str]) -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Usage alert"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Free – Tokens* +46.6 %"}},
        *fb.actions_block(incident_id, alert_ids),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "report"}]},
    ]


def click_body(key: str, incident_id: str = "inc1", alert_ids: tuple[str, ...] = ("a1", "a2"), **kw: Any) -> str:
    blocks = kw.get("blocks") or message_blocks(incident_id, list(alert_ids))
    payload = {
        "type": "block_actions",
        "user": {"id": kw.get("user", USER), "username": "ana"},
        "channel": {"id": CHANNEL, "name": "ltx-usage-alerts"},
        "container": {"type": "message", "message_ts": MSG_TS, "channel_id": CHANNEL},
        "message": {"ts": MSG_TS, "text": "Usage alert", "blocks": blocks},
        "actions": [
            {
                "type": "button",
                "action_id": fb.ACTION_ID_PREFIX + key,
                "block_id": fb.block_id(incident_id),
                "value": kw.get("value", fb.button_value(incident_id, alert_ids)),
                "action_ts": kw.get("action_ts", "1764912345.123456"),
            }
        ],
        "response_url": "https://hooks.slack.invalid/actions/x",
    }
    return "payload=" + urllib.parse.quote(json.dumps(payload))


def signed(body: str, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    log_path: Path
    url: str = ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(self, body: str, headers: dict[str, str]) -> tuple[int, float]:
        url = self.url + "/slack/events"
        req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")  # noqa: S310
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback
                return resp.status, time.monotonic() - start
        except urllib.error.HTTPError as exc:
            return exc.code, time.monotonic() - start

    def health(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/healthz", timeout=5) as resp:  # noqa: S310 - loopback
            assert resp.status == 200
            return dict(json.loads(resp.read()))

    def stop(self, kill: bool = False) -> None:
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            self.proc.wait(10)


def start_service(db: Path, slack: FeedbackSlack, spool: Path, *extra: str) -> Service:
    env = {
        **os.environ,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": FAKE_TOKEN,
        "SLACK_API_URL": slack.url,
        "LTX_DUCKDB_PATH": str(db),
        "LTX_DUCKDB_LOCK_TIMEOUT": "0.5",
    }
    log_path = spool.parent / f"serve-{time.monotonic_ns()}.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alerting", "serve", "--port", "0", "--spool-dir", str(spool), *extra],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    svc = Service(proc, log_path)
    match = wait_for(
        lambda: proc.poll() is None and re.search(r"listening on (http://127\.0\.0\.1:\d+)", svc.log()),
        what="the service to listen",
    )
    svc.url = match.group(1)
    return svc


@pytest.fixture
def slack() -> Iterator[FeedbackSlack]:
    with FeedbackSlack() as server:
        yield server


@pytest.fixture
def service(warehouse: Path, slack: FeedbackSlack, tmp_path: Path) -> Iterator[Service]:
    svc = start_service(warehouse, slack, tmp_path / "spool", "--verbose")
    yield svc
    svc.stop()
    text = svc.log()
    assert SECRET not in text and FAKE_TOKEN not in text
    assert SECRET[:8] not in text and FAKE_TOKEN[5:15] not in text


# --- the service ---------------------------------------------------------------------------------


def test_snooze_7_days_writes_one_row_and_updates_the_message(service: Service, slack, warehouse) -> None:
    body = click_body("snooze_7d")
    status, took = service.post(body, signed(body))
    assert status == 200 and took < 3.0
    rows = wait_for(lambda: feedback_rows(warehouse), what="the feedback row")
    assert len(rows) == 1
    row = rows[0]
    assert (row["incident_id"], row["alert_id"], row["alert_ids"]) == ("inc1", "a1", "a1,a2")
    assert (row["action"], row["action_id"], row["user_id"]) == ("snooze", "ltx_feedback_snooze_7d", USER)
    assert (row["channel_id"], row["message_ts"], row["note"]) == (CHANNEL, MSG_TS, None)
    assert row["alert_date"] == DAY and row["expires_on"] == DAY + dt.timedelta(days=7)
    assert row["created_at"] == dt.datetime(2025, 12, 5, 5, 25, 45, 123456)  # action_ts 1764912345.123456 UTC
    update = wait_for(lambda: slack.of("chat.update"), what="chat.update")[0]
    assert (update["channel"], update["ts"]) == (CHANNEL, MSG_TS)
    blocks = update["blocks"]
    original = message_blocks("inc1", ["a1", "a2"])
    assert [b["type"] for b in blocks] == ["header", "section", "context", "context"]
    assert blocks[:2] == original[:2] and blocks[3] == original[3]
    assert blocks[2]["elements"][0]["text"] == f"Snoozed 7 days by <@{USER}>"
    assert service.health() == {"ok": True, "pending": 0}


def test_bad_and_stale_signatures_are_refused_and_write_nothing(service: Service, slack, warehouse) -> None:
    body = click_body("acknowledge")
    assert service.post(body, signed(body, secret="0" * 32))[0] == 401
    assert service.post(body, signed(body + "x"))[0] == 401  # body changed after signing
    assert service.post(body, signed(body, ts=int(time.time()) - 301))[0] == 401  # stale (> 5 minutes)
    assert service.post(body, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    assert service.health()["pending"] == 0
    time.sleep(1.0)
    assert feedback_rows(warehouse) == [] and slack.calls == []
    assert service.log().count("request refused (401)") == 4
    # and the same click, signed in time, is taken (the refusals did not poison anything)
    assert service.post(body, signed(body, ts=int(time.time()) - 240))[0] == 200
    assert len(wait_for(lambda: feedback_rows(warehouse), what="the row")) == 1


def test_replay_and_slack_retry_give_one_row(service: Service, slack, warehouse) -> None:
    body = click_body("false_alarm")
    headers = signed(body)
    assert service.post(body, headers)[0] == 200
    assert service.post(body, headers)[0] == 200  # the very same request again (a replay): the same click
    retry = {**signed(body, ts=int(time.time()) + 1), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"}
    assert service.post(body, retry)[0] == 200  # a new delivery of the same click
    wait_for(lambda: slack.of("chat.update"), what="chat.update")
    wait_for(lambda: service.health()["pending"] == 0, what="the spool to drain")
    time.sleep(0.5)
    rows = feedback_rows(warehouse)
    assert [(r["action"], r["expires_on"]) for r in rows] == [("false_alarm", None)]


def test_two_concurrent_identical_clicks_give_one_row(service: Service, slack, warehouse) -> None:
    body = click_body("snooze_1d")
    now = int(time.time())
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def send(ts: int) -> None:
        barrier.wait()
        statuses.append(service.post(body, signed(body, ts=ts))[0])

    threads = [threading.Thread(target=send, args=(now - i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    wait_for(lambda: feedback_rows(warehouse), what="the row")
    wait_for(lambda: service.health()["pending"] == 0, what="the spool to drain")
    time.sleep(0.5)
    rows = feedback_rows(warehouse)
    assert len(rows) == 1 and rows[0]["expires_on"] == DAY + dt.timedelta(days=1)


def hold_lock(db: Path, seconds: float) -> subprocess.Popen[str]:
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(db)!r})\n"
        "print('locked', flush=True)\n"
        f"time.sleep({seconds})\n"
        "con.close()\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_locked_warehouse_click_is_acked_then_written_once(service: Service, slack, warehouse) -> None:
    holder = hold_lock(warehouse, 4.0)
    body = click_body("snooze_resolved")
    status, took = service.post(body, signed(body))
    assert status == 200 and took < 3.0
    wait_for(lambda: "not written yet, kept in the spool" in service.log(), what="the busy log line")
    assert holder.poll() is None and service.health()["pending"] == 1  # still locked: queued, not lost
    assert "locked by another process" in service.log()
    holder.wait(20)
    rows = wait_for(lambda: feedback_rows(warehouse), timeout=90, what="the row after the lock")
    assert [(r["action"], r["expires_on"], r["note"]) for r in rows] == [("snooze", None, "until resolved")]
    wait_for(lambda: slack.of("chat.update"), what="chat.update")
    assert slack.of("chat.update")[0]["blocks"][2]["elements"][0]["text"] == f"Snoozed until resolved by <@{USER}>"
    assert len(feedback_rows(warehouse)) == 1


def test_acked_click_survives_a_crash_and_is_written_at_restart(warehouse, slack, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    first = start_service(warehouse, slack, spool)
    holder = hold_lock(warehouse, 60.0)
    try:
        body = click_body("expected")
        assert first.post(body, signed(body))[0] == 200
        wait_for(lambda: "not written yet" in first.log(), what="the busy log line")
        first.stop(kill=True)  # SIGKILL: no shutdown code runs
    finally:
        holder.kill()
        holder.wait(10)
    second = start_service(warehouse, slack, spool)
    try:
        rows = wait_for(lambda: feedback_rows(warehouse), what="the row written at restart")
        assert [(r["action"], r["user_id"]) for r in rows] == [("expected", USER)]
        assert "1 click(s) pending" in second.log()
        wait_for(lambda: second.health()["pending"] == 0, what="the spool to drain")
    finally:
        second.stop()
    third = start_service(warehouse, slack, spool)  # the compacted spool holds nothing to redo
    third.stop()
    assert "0 click(s) pending" in third.log() and len(feedback_rows(warehouse)) == 1


@pytest.mark.parametrize(
    ("incident", "ids", "reason"),
    [("inc-nope", ("x1",), "is not in fct_alerts"), ("inc3", ("w1",), "was withdrawn (insufficient_baseline)")],
)
def test_unknown_or_withdrawn_incident_is_rejected_without_a_row(
    service: Service, slack, warehouse, incident: str, ids: tuple[str, ...], reason: str
) -> None:
    body = click_body("acknowledge", incident_id=incident, alert_ids=ids)
    assert service.post(body, signed(body))[0] == 200
    told = wait_for(lambda: slack.of("chat.postEphemeral"), what="the ephemeral message")[0]
    assert (told["channel"], told["user"]) == (CHANNEL, USER)
    assert told["text"].startswith("Not recorded: incident") and reason in told["text"]
    assert reason in service.log() and "rejected, nothing written" in service.log()
    assert feedback_rows(warehouse) == [] and slack.of("chat.update") == []


def test_health_and_unknown_paths(service: Service) -> None:
    assert service.health() == {"ok": True, "pending": 0}
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(service.url + "/other", timeout=5)  # noqa: S310 - loopback
    assert err.value.code == 404


def test_bad_secret_exits_2_and_is_never_printed(warehouse, tmp_path: Path) -> None:
    bad = "secret with spaces inside 12345"
    env = {**os.environ, "SLACK_SIGNING_SECRET": bad, "SLACK_BOT_TOKEN": FAKE_TOKEN, "LTX_DUCKDB_PATH": str(warehouse)}
    proc = subprocess.run(
        [sys.executable, "-m", "alerting", "serve", "--port", "0", "--spool-dir", str(tmp_path / "s")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "SLACK_SIGNING_SECRET contains whitespace" in proc.stderr
    assert "spaces" not in proc.stderr and FAKE_TOKEN not in proc.stderr


# --- the parts -----------------------------------------------------------------------------------


def test_buttons_carry_a_short_reference_and_name_their_action() -> None:
    ids = [f"alert-{i:04d}-" + "x" * 40 for i in range(500)]  # far more than the value could hold
    [block] = fb.actions_block("d41d8cd98f00b204e9800998ecf8427e", ids)
    labels = [e["text"]["text"] for e in block["elements"]]
    assert labels == [
        "Acknowledge",
        "Snooze 1 day",
        "Snooze 7 days",
        "Snooze until resolved",
        "Expected",
        "False alarm",
    ]
    assert [e["action_id"] for e in block["elements"]] == [
        "ltx_feedback_acknowledge",
        "ltx_feedback_snooze_1d",
        "ltx_feedback_snooze_7d",
        "ltx_feedback_snooze_resolved",
        "ltx_feedback_expected",
        "ltx_feedback_false_alarm",
    ]
    value = block["elements"][0]["value"]
    assert len(value) <= 2000 and fb.parse_value(value) == ("d41d8cd98f00b204e9800998ecf8427e", fb.alert_set_hash(ids))
    assert fb.alert_set_hash(reversed(ids)) == fb.alert_set_hash(ids) != fb.alert_set_hash(ids[:-1])
    with pytest.raises(fb.FeedbackValueError):
        fb.button_value("bad id with spaces", ["a"])
    for bad in ("v2:inc:0123456789ab", "v1:inc:xyz", "v1:inc", 42):
        with pytest.raises(fb.FeedbackValueError):
            fb.parse_value(bad)


def _click(key: str, alert_hash: str) -> Click:
    body = json.loads(urllib.parse.unquote(click_body(key).removeprefix("payload=")))
    body["actions"][0]["value"] = f"v1:inc1:{alert_hash}"
    return click_from_payload(body)


def test_decide_expiry_and_changed_alert_set() -> None:
    now = dt.datetime(2026, 11, 22, 9, 0)
    alerts = [usage_alert("a2", is_incident_primary=False), usage_alert("a1", is_incident_primary=True)]
    same = fb.alert_set_hash(["a1", "a2"])
    one_day = decide(_click("snooze_1d", same), alerts, now)
    assert (
        isinstance(one_day, FeedbackRow) and one_day.expires_on == DAY + dt.timedelta(days=1) and one_day.note is None
    )
    ack = decide(_click("acknowledge", fb.alert_set_hash(["a1"])), alerts, now)
    assert isinstance(ack, FeedbackRow) and ack.expires_on is None and ack.alert_ids == "a1,a2"
    assert ack.note == f"the incident's alerts changed since the post (posted set {fb.alert_set_hash(['a1'])})"
    muted = [dataclasses.replace(a, is_postable=False, hold_reason="muted") for a in alerts]
    assert isinstance(decide(_click("expected", same), muted, now), FeedbackRow)  # silenced, not withdrawn
    gone = [dataclasses.replace(a, is_postable=False, hold_reason="insufficient_baseline") for a in alerts]
    assert decide(_click("expected", same), gone, now) == "incident inc1 was withdrawn (insufficient_baseline)"


def test_store_writes_a_feedback_id_once(warehouse: Path) -> None:
    store = FeedbackStore(DuckDBBackend(warehouse, "main_marts", "main_alerting"))
    row = decide(
        _click("snooze_7d", fb.alert_set_hash(["a1", "a2"])), store.incident_alerts("inc1"), dt.datetime(2026, 1, 1)
    )
    assert isinstance(row, FeedbackRow)
    store.record(row)
    store.record(dataclasses.replace(row, note="a second write of the same click"))
    store.backend.close()
    assert [(r["feedback_id"], r["note"]) for r in feedback_rows(warehouse)] == [(row.feedback_id, None)]


@pytest.mark.parametrize("secret", ["", "short", "x" * 129, "abc\x00" * 8, "é" * 32, " " + "a" * 31])
def test_signing_secret_validation(secret: str) -> None:
    with pytest.raises(ValueError, match=SECRET_ENV) as err:
        secret_from_env({SECRET_ENV: secret}, SECRET_ENV)
    assert secret.strip() == "" or secret not in str(err.value)


def test_a_click_that_cannot_be_spooled_is_not_acked(service: Service, warehouse, tmp_path: Path) -> None:
    clicks = tmp_path / "spool" / "clicks"
    clicks.rmdir()
    clicks.write_text("")  # writing a click into it now fails (even as root)
    body = click_body("acknowledge")
    status, _ = service.post(body, signed(body))
    assert status >= 500  # no ack: Slack shows the clicker an error instead of a silent loss
    assert service.health()["pending"] == 0 and feedback_rows(warehouse) == []


def test_a_second_service_on_the_same_spool_exits_2(service: Service, tmp_path: Path) -> None:
    env = {**os.environ, "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": FAKE_TOKEN}
    proc = subprocess.run(
        [sys.executable, "-m", "alerting", "serve", "--port", "0", "--spool-dir", str(tmp_path / "spool")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "is in use by another `alerting serve`" in proc.stderr


def test_socket_mode_needs_an_app_token(warehouse: Path, tmp_path: Path) -> None:
    env = {**os.environ, "SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": FAKE_TOKEN, "SLACK_APP_TOKEN": FAKE_TOKEN}
    proc = subprocess.run(
        [sys.executable, "-m", "alerting", "serve", "--socket-mode", "--spool-dir", str(tmp_path / "s")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "SLACK_APP_TOKEN does not start with 'xapp-'" in proc.stderr
    assert FAKE_TOKEN not in proc.stderr


def test_two_incidents_of_one_message_keep_both_updates(service: Service, slack, warehouse) -> None:
    both = [*message_blocks("inc1", ["a1", "a2"]), *fb.actions_block("inc2", ["c1"])]
    first = click_body("acknowledge", blocks=both)
    assert service.post(first, signed(first))[0] == 200
    wait_for(lambda: slack.of("chat.update"), what="the first chat.update")
    # the second click's payload was taken before the first update: it still shows inc1's buttons
    second = click_body("snooze_7d", incident_id="inc2", alert_ids=("c1",), blocks=both, action_ts="1764912350.5")
    assert service.post(second, signed(second))[0] == 200
    updates = wait_for(lambda: slack.of("chat.update")[1:] and slack.of("chat.update"), what="the second update")
    texts = [b["elements"][0]["text"] for b in updates[1]["blocks"] if b["type"] == "context" and "by <@" in str(b)]
    assert texts == [f"Acknowledged by <@{USER}>", f"Snoozed 7 days by <@{USER}>"]
    assert not [b for b in updates[1]["blocks"] if b["type"] == "actions"]
    rows = wait_for(lambda: len(feedback_rows(warehouse)) == 2 and feedback_rows(warehouse), what="two rows")
    assert [(r["incident_id"], r["expires_on"]) for r in rows] == [
        ("inc1", None),
        ("inc2", COST_DAY + dt.timedelta(days=7)),
    ]


def test_one_failing_click_does_not_hold_up_the_others(warehouse: Path, tmp_path: Path) -> None:
    class Flaky(FeedbackStore):
        def incident_alerts(self, incident_id: str) -> list[Alert]:
            if incident_id == "inc2":
                raise ValueError("a malformed row")
            return super().incident_alerts(incident_id)

    spool = Spool(tmp_path / "spool")
    for body in (click_body("acknowledge", incident_id="inc2", alert_ids=("c1",)), click_body("expected")):
        payload = json.loads(urllib.parse.unquote(body.removeprefix("payload=")))
        spool.add(click_from_payload(payload), payload)
        time.sleep(0.01)  # distinct file times: the spool keeps the order of arrival
    nowhere = WebClient(token=FAKE_TOKEN, base_url="http://127.0.0.1:9/api/")  # the message update fails, logged
    worker = Worker(spool, lambda: Flaky(DuckDBBackend(warehouse, "main_marts", "main_alerting")), nowhere)
    assert worker.drain() is False
    [left] = spool.pending()  # kept, retried later
    assert json.loads(left.read_text())["actions"][0]["value"].startswith("v1:inc2:")
    assert [(r["incident_id"], r["action"]) for r in feedback_rows(warehouse)] == [("inc1", "expected")]
