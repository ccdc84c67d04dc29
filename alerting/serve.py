"""`python -m alerting serve`: the Slack interactivity endpoint for the feedback buttons (issue 23).

HTTP (a threading `http.server` in front of a `slack_bolt` App): `POST /slack/events` and
`GET /healthz`. Every POST is checked before bolt sees it: the signature (`v0:{ts}:{body}`,
HMAC-SHA256 with SLACK_SIGNING_SECRET) must match and the timestamp be within 5 minutes
(else 401), and a request whose signature was already seen within that window is a replay
(409, logged, nothing processed). A click is appended to the spool (fsync'ed) and only then
acknowledged (`ack()`), so the HTTP answer never waits on the warehouse; the worker writes
it to `alert_feedback` (see feedback_worker.py). With `--socket-mode` the clicks come over
Slack's Socket Mode (SLACK_APP_TOKEN) instead, and the port serves only `/healthz`.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from slack_bolt import Ack, App, BoltRequest
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from alerting import redact
from alerting.feedback import ClickError, FeedbackStore, click_from_payload
from alerting.feedback_buttons import ACTION_ID_PREFIX
from alerting.feedback_spool import Spool, SpoolError
from alerting.feedback_worker import FeedbackWorker
from alerting.transport.slack import API_URL_ENV, TOKEN_ENV
from alerting.warehouse import WarehouseConfig, WarehouseError, config_from_env, open_backend

log = logging.getLogger(__name__)
SECRET_ENV = "SLACK_SIGNING_SECRET"  # noqa: S105 - the variable's name
APP_TOKEN_ENV = "SLACK_APP_TOKEN"  # noqa: S105 - the variable's name
SPOOL_ENV = "LTX_FEEDBACK_SPOOL_DIR"
EVENTS_PATH, HEALTH_PATH = "/slack/events", "/healthz"
WINDOW_S = 300  # Slack's replay window: a timestamp older than 5 minutes is refused
MAX_BODY = 1 << 20
EXIT_OK, EXIT_USAGE = 0, 2

DESCRIPTION = """\
Serve the Slack interactivity endpoint of the feedback buttons (Acknowledge, Snooze 1 day,
Snooze 7 days, Snooze until resolved, Expected, False alarm): POST /slack/events (signed by
Slack), GET /healthz. Each click is written once to the alert_feedback table beside the
delivery log and the message is updated in place. See docs/feedback.md.
"""

EPILOG = """\
environment:
  SLACK_SIGNING_SECRET   the app's signing secret (required; never printed)
  SLACK_BOT_TOKEN        bot token for chat.update / chat.postEphemeral (required; never printed)
  SLACK_APP_TOKEN        app-level token xapp-... (only with --socket-mode; never printed)
  SLACK_API_URL          Web API base URL (default https://slack.com/api/)
  LTX_FEEDBACK_SPOOL_DIR the click spool (default data/feedback_spool)
  LTX_DUCKDB_PATH, LTX_DUCKDB_LOCK_TIMEOUT, LTX_BQ_* as for `alerting run`
"""


class ConfigError(ValueError):
    """Bad configuration; the message never contains a secret."""


def validate_signing_secret(secret: str | None) -> str:
    """Non-empty printable ASCII without spaces, 16-128 characters (Slack's are 32 hex)."""
    if not secret:
        raise ConfigError(f"{SECRET_ENV} is not set")
    if not all(33 <= ord(ch) <= 126 for ch in secret):
        raise ConfigError(
            f"{SECRET_ENV} contains whitespace, control or non-ASCII characters: check how it was pasted or exported"
        )
    if not 16 <= len(secret) <= 128:
        raise ConfigError(f"{SECRET_ENV} has {len(secret)} characters; Slack's signing secrets have 32")
    return secret


def _token(env: Mapping[str, str], name: str, prefix: str) -> str:
    try:
        check = redact.validate_token(env.get(name), name)
    except redact.TokenError as exc:
        raise ConfigError(str(exc)) from None
    if not check.token.startswith(prefix):
        raise ConfigError(f"{name} does not start with {prefix!r}")
    return check.token


@dataclass(frozen=True)
class Settings:
    signing_secret: str
    bot_token: str
    app_token: str | None
    api_url: str
    spool_dir: Path
    warehouse: WarehouseConfig

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.signing_secret, self.bot_token, self.app_token) if s)

    def __repr__(self) -> str:
        return f"Settings(api_url={self.api_url!r}, spool_dir={self.spool_dir!r}, secrets=[redacted])"


def settings_from_env(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    secret = validate_signing_secret(env.get(SECRET_ENV))
    bot = _token(env, TOKEN_ENV, "xox")
    app_token = _token(env, APP_TOKEN_ENV, "xapp-") if args.socket_mode else None
    api_url = env.get(API_URL_ENV) or "https://slack.com/api/"
    if not api_url.startswith(("http://", "https://")):
        raise ConfigError(f"{API_URL_ENV} must be an http(s) URL")
    spool = args.spool_dir or Path(env.get(SPOOL_ENV) or "data/feedback_spool")
    return Settings(secret, bot, app_token, api_url, spool, config_from_env(args.target, env))


class ReplayGuard:
    """Remembers each accepted signature until its timestamp leaves the 5-minute window."""

    def __init__(self, window_s: int = WINDOW_S) -> None:
        self.window_s = window_s
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, timestamp: str, signature: str) -> bool:
        now = time.time()
        with self._lock:
            self._seen = {k: t for k, t in self._seen.items() if t > now - self.window_s}
            if signature in self._seen:
                return False
            self._seen[signature] = float(timestamp)
            return True


def build_app(settings: Settings, client: WebClient, spool: Spool, worker: FeedbackWorker) -> App:
    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # one workspace, one bot token: no auth.test before a click is spooled and acked
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=settings.bot_token)

    app = App(
        signing_secret=settings.signing_secret,
        client=client,
        authorize=authorize,
        logger=logging.getLogger("alerting.serve.bolt"),
    )

    @app.action(re.compile("^" + re.escape(ACTION_ID_PREFIX)))
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        try:
            click = click_from_payload(body)
        except (ClickError, ValueError) as exc:
            log.warning("a click was ignored: %s", exc)
            ack()
            return
        if not spool.add(click):  # durable before the ack; an OSError here means no ack (Slack shows an error)
            log.info("click %s is already pending (a retried delivery)", click.feedback_id)
        ack()
        worker.wake()

    return app


def _handler(app: App | None, verifier: SignatureVerifier, guard: ReplayGuard, spool: Spool) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http: %s", format % args)

        def _send(self, status: int, body: str | dict[str, Any], headers: Mapping[str, Sequence[str]] = {}) -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(status)
            for key, values in headers.items():
                for value in values:
                    if key.lower() != "content-length":
                        self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.partition("?")[0] == HEALTH_PATH:
                self._send(200, {"ok": True, "pending": len(spool.pending())})
            else:
                self._send(404, "not found")

        def do_POST(self) -> None:
            if app is None or self.path.partition("?")[0] != EVENTS_PATH:
                self._send(404, "not found")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, "too large")
                return
            body = self.rfile.read(length).decode("utf-8", "replace")
            ts = self.headers.get("X-Slack-Request-Timestamp") or ""
            signature = self.headers.get("X-Slack-Signature") or ""
            if not ts.isdigit() or not verifier.is_valid(body, ts, signature):
                log.warning("request refused (401): invalid signature or a timestamp outside 5 minutes")
                self._send(401, "invalid request")
                return
            if not guard.first_time(ts, signature):
                retry = self.headers.get("X-Slack-Retry-Num")
                log.warning("request refused (409): a replay of a request already seen (retry %s)", retry or "-")
                self._send(409, "replayed request")
                return
            response = app.dispatch(BoltRequest(body=body, query="", headers=dict(self.headers.items())))
            self._send(response.status, response.body, response.headers)

    return Handler


def make_server(host: str, port: int, app: App | None, settings: Settings, spool: Spool) -> ThreadingHTTPServer:
    verifier = SignatureVerifier(settings.signing_secret)
    server = _Server((host, port), _handler(app, verifier, ReplayGuard(), spool))
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # through logging (redacted), never socketserver's raw traceback on stderr
        log.exception("request from %s failed", client_address[0])


def add_parser(sub: Any, env: Mapping[str, str]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the Slack interactivity endpoint of the feedback buttons",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    default_target = env.get("LTX_DBT_TARGET") if env.get("LTX_DBT_TARGET") in ("duckdb", "bigquery") else "duckdb"
    p.add_argument("--port", type=int, default=3000, help="port (default %(default)s; 0: any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    p.add_argument("--target", choices=("duckdb", "bigquery"), default=default_target, help="warehouse")
    p.add_argument("--socket-mode", action="store_true", help="take clicks over Socket Mode (SLACK_APP_TOKEN)")
    p.add_argument("--spool-dir", type=Path, default=None, help=f"click spool (default ${SPOOL_ENV})")
    p.add_argument("--verbose", action="store_true", help="debug logging (secrets redacted)")


def main(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    try:
        settings = settings_from_env(args, env)
    except (ConfigError, WarehouseError) as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    redact.install(settings.secrets)
    # bolt's start-up notes (the token it ignores in favour of `authorize`) are noise here
    logging.getLogger("alerting.serve.bolt").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    spool = Spool(settings.spool_dir)
    try:
        pending = spool.open()
    except SpoolError as exc:
        log.error("%s", exc)
        return EXIT_USAGE
    client = WebClient(token=settings.bot_token, base_url=settings.api_url)
    worker = FeedbackWorker(spool, lambda: FeedbackStore(open_backend(settings.warehouse)), client, settings.secrets)
    app = build_app(settings, client, spool, worker)
    try:
        server = make_server(args.host, args.port, None if args.socket_mode else app, settings, spool)
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", args.host, args.port, exc.strerror)
        spool.close()
        return EXIT_USAGE
    return _run(server, app, settings, worker, spool, pending)


def _run(server: ThreadingHTTPServer, app: App, settings: Settings, worker: FeedbackWorker, spool: Spool,
         pending: int) -> int:  # fmt: skip
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    worker.start()
    worker.wake()  # drain what a previous run left pending
    host, port = server.server_address[:2]
    socket = None
    if settings.app_token:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        socket = SocketModeHandler(app, settings.app_token)
        socket.connect()  # type: ignore[no-untyped-call]
        log.info("clicks over Socket Mode; health on http://%s:%s%s", host, port, HEALTH_PATH)
    else:
        log.info("listening on http://%s:%s%s (health %s)", host, port, EVENTS_PATH, HEALTH_PATH)
    log.info("%d click(s) pending in %s", pending, settings.spool_dir)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if socket is not None:
            socket.close()  # type: ignore[no-untyped-call]
        worker.stop()
        spool.close()
    log.info("stopped; %d click(s) left pending in the spool", len(spool.pending()))
    return EXIT_OK
