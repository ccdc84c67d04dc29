"""`python -m alerting serve`: the Slack interactivity endpoint of the feedback buttons (docs/operations.md).

A `slack_bolt` App on a threading WSGI server: `POST /slack/events` (bolt checks the signature and its 5-minute
window: 401) and `GET /healthz`. A click is spooled (fsync'ed) before the ack;
one worker thread writes it to `alert_feedback` and updates the message, retrying with back-off while the
warehouse is busy. `--socket-mode` takes clicks over Socket Mode; the port then serves only `/healthz`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import signal
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient

from alerting import redact, sanitize
from alerting.feedback import Click, FeedbackStore, click_from_payload, decide
from alerting.feedback_buttons import ACTION_ID_PREFIX, BLOCK_ID_PREFIX, block_id
from alerting.transport.slack import API_URL_ENV, TOKEN_ENV
from alerting.warehouse import WarehouseBusy, WarehouseError, config_from_env, open_backend

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)
SECRET_ENV, APP_TOKEN_ENV = "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"
SPOOL_ENV = "LTX_FEEDBACK_SPOOL_DIR"
EVENTS_PATH, HEALTH_PATH = "/slack/events", "/healthz"
FIRST_RETRY_S, MAX_RETRY_S, IDLE_S = 1.0, 60.0, 30.0


class ConfigError(ValueError):
    """Bad configuration; the message never contains a secret."""


def secret_from_env(env: Mapping[str, str], name: str, prefix: str = "") -> str:
    """The secret, or a ValueError (redact.TokenError or ConfigError) that names the problem, never the secret."""
    value = redact.validate_token(env.get(name), name, ())  # printable ASCII; the prefix below
    if not value.startswith(prefix):
        raise ConfigError(f"{name} does not start with {prefix!r}")
    if name == SECRET_ENV and not 16 <= len(value) <= 128:
        raise ConfigError(f"{SECRET_ENV} is not 16-128 ASCII characters (Slack's signing secrets have 32)")
    return value


class Spool:
    """Acknowledged clicks not yet written or rejected: one fsync'ed file each (the raw payload)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory / "clicks"
        self._mutex = threading.Lock()
        try:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # payloads name people: not for others
            self._lock = (directory / "lock").open("a")
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"spool {directory} is in use by another `alerting serve`") from None
        except OSError as exc:
            raise ConfigError(f"spool {directory} cannot be used: {exc.strerror}") from None

    def add(self, click: Click, payload: Mapping[str, Any]) -> bool:
        """Store the click durably; False when the same click is already pending."""
        path = self.dir / f"{click.feedback_id}.json"
        with self._mutex:
            if path.exists():
                return False
            tmp = path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as f:
                f.write(json.dumps(payload))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            fd = os.open(self.dir, os.O_RDONLY)
            os.fsync(fd)  # the rename itself survives a crash
            os.close(fd)
        return True

    def pending(self) -> list[Path]:
        return sorted(self.dir.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)

    def count(self) -> int:  # not len(pending()): a file the worker removes meanwhile must not fail /healthz
        return sum(1 for _ in self.dir.glob("*.json"))


def updated_blocks(click: Click, current: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The message's blocks with this incident's actions block replaced by "<done> by <@user>"."""
    target = block_id(click.incident_id)
    blocks = list(click.message_blocks if current is None else current)
    for i, block in enumerate(blocks):
        if block.get("type") == "actions" and block.get("block_id") == target:
            context = {
                "type": "context",
                "block_id": target.replace(BLOCK_ID_PREFIX, "ltx_feedback_done:", 1),
                "elements": [{"type": "mrkdwn", "text": f"{click.action.done} by <@{click.user_id}>"}],
            }
            return [*blocks[:i], context, *blocks[i + 1 :]]
    return None


class Worker:
    """Spooled clicks -> `alert_feedback` (once per feedback_id) -> the message in Slack."""

    def __init__(self, spool: Spool, open_store: Callable[[], FeedbackStore], slack: WebClient) -> None:
        self.spool, self.slack, self._open_store = spool, slack, open_store
        self._store: FeedbackStore | None = None
        self.wake, self.stopping = threading.Event(), False
        self._sent: dict[tuple[str, str], list[dict[str, Any]]] = {}  # last blocks we sent per message

    def run(self) -> None:
        delay = 0.0
        while not self.stopping:
            self.wake.wait(delay or IDLE_S)
            self.wake.clear()
            delay = 0.0 if self.stopping or self.drain() else min(max(delay * 2, FIRST_RETRY_S), MAX_RETRY_S)
            if delay:
                log.info("feedback: %d click(s) pending; next try in %.0f s", self.spool.count(), delay)

    def drain(self) -> bool:
        """Process every pending click; False when one stays pending (a busy warehouse ends the round)."""
        ok = True
        for path in self.spool.pending():
            try:
                self._process(click_from_payload(json.loads(path.read_text(encoding="utf-8"))))
                path.unlink()
            except Exception as exc:  # busy/missing warehouse, network: kept, retried later
                self._store = None
                log.warning(
                    "feedback %s not written yet, kept in the spool: %s: %s", path.stem, type(exc).__name__, exc
                )
                if isinstance(exc, WarehouseBusy):
                    return False  # every other click would wait on the same lock
                ok = False
        return ok

    def _process(self, click: Click) -> None:
        store = self._store = self._store or self._open_store()
        with store.backend.session():
            row = decide(click, store.incident_alerts(click.incident_id), dt.datetime.now(dt.UTC).replace(tzinfo=None))
            if not isinstance(row, str):
                store.record(row)
        if isinstance(row, str):
            log.warning("feedback %s rejected, nothing written: %s", click.feedback_id, row)
            text = f"Not recorded: {sanitize.slack_mrkdwn(sanitize.clean(row, sanitize.TEXT_CAP))}."
            self._call("chat.postEphemeral", channel=click.channel_id, user=click.user_id, text=text)
            return
        log.info("feedback %s recorded: %s by %s", click.feedback_id, row.action, click.user_id)
        key = (click.channel_id, click.message_ts)
        blocks = updated_blocks(click, self._sent.get(key))  # another incident's click may carry an older copy
        if blocks is None:
            log.warning("feedback %s: no actions block of ours in the payload: message not updated", click.feedback_id)
        elif self._call("chat.update", channel=key[0], ts=key[1], text=click.message_text, blocks=blocks):
            self._sent.pop(key, None)
            self._sent[key] = blocks
            if len(self._sent) > 512:
                del self._sent[next(iter(self._sent))]

    def _call(self, method: str, **kwargs: Any) -> bool:
        try:
            self.slack.api_call(method, json=kwargs)
        except Exception as exc:  # the row is written; Slack's view is best effort, logged
            log.warning("Slack %s failed: %s: %s", method, type(exc).__name__, exc)
            return False
        return True


def build_app(secret: str, bot_token: str, client: WebClient, spool: Spool, worker: Worker) -> App:
    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # one workspace, one bot token: no auth.test before a click is spooled and acked
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=bot_token)

    app = App(signing_secret=secret, client=client, authorize=authorize, logger=logging.getLogger("alerting.bolt"))

    @app.action(re.compile("^" + re.escape(ACTION_ID_PREFIX)))
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        try:  # durable before the ack: an OSError means no ack (Slack shows the clicker an error)
            if not spool.add(click := click_from_payload(body), body):
                log.info("click %s is already pending (a retry or a replay)", click.feedback_id)
            worker.wake.set()
        except ValueError as exc:
            log.warning("a click was ignored: %s", exc)
        ack()

    return app


def wsgi(app: App | None, spool: Spool) -> WSGIApplication:
    """/healthz, and bolt's WSGI adapter for /slack/events (not in Socket Mode)."""
    events = SlackRequestHandler(app, EVENTS_PATH) if app else None

    def serve(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"ok": True, "pending": spool.count()}).encode()]
        if events is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith("401"):
                log.warning("request refused (401): invalid signature or a timestamp outside 5 minutes")
            return start_response(status, headers, exc_info)

        return events(environ, respond)

    return serve


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Handler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: %s", format % args)


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    try:
        secret = secret_from_env(env, SECRET_ENV)
        bot = secret_from_env(env, TOKEN_ENV, "xox")
        app_token = secret_from_env(env, APP_TOKEN_ENV, "xapp-") if args.socket_mode else None
        warehouse = config_from_env(args.target, env)
        spool = Spool(args.spool_dir or Path(env.get(SPOOL_ENV) or "data/feedback_spool"))
    except (ValueError, WarehouseError) as exc:  # TokenError, ConfigError: they never hold the secret
        log.error("%s", exc)
        return 2
    redact.install([s for s in (secret, bot, app_token) if s])
    logging.getLogger("alerting.bolt").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    client = WebClient(token=bot, base_url=env.get(API_URL_ENV) or "https://slack.com/api/")
    worker = Worker(spool, lambda: FeedbackStore(open_backend(warehouse)), client)
    app = build_app(secret, bot, client, spool, worker)
    try:
        server = make_server(args.host, args.port, wsgi(None if app_token else app, spool), _Server, _Handler)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, exc.strerror)
        return 2
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    log.info("%d click(s) pending in %s", spool.count(), spool.dir)
    _serve(server, app, app_token, worker)
    log.info("stopped; %d click(s) left pending in the spool", spool.count())
    return 0


def _serve(server: WSGIServer, app: App, app_token: str | None, worker: Worker) -> None:
    thread = threading.Thread(target=worker.run, name="feedback-worker", daemon=True)
    thread.start()
    worker.wake.set()  # drain what a previous run left pending
    host, port = server.server_address[:2]
    socket = None
    if app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        socket = SocketModeHandler(app, app_token)
        socket.connect()  # type: ignore[no-untyped-call]
        log.info("clicks over Socket Mode; health on http://%s:%s%s", host, port, HEALTH_PATH)
    else:
        log.info("listening on http://%s:%s%s (health %s)", host, port, EVENTS_PATH, HEALTH_PATH)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    finally:
        server.server_close()
        if socket is not None:
            socket.close()  # type: ignore[no-untyped-call]
        worker.stopping = True
        worker.wake.set()
        thread.join(10)
