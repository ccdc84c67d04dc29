"""End to end: `python -m alerting run` against a Slack-compatible HTTP server on 127.0.0.1.

The real slack_sdk WebClient talks to `FakeSlack` through SLACK_API_URL: 200 ok, 429 with
Retry-After, 500, `{"ok": false}` and a closed port. Fixture marts have the contract columns.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from alerting.cli import main
from tests.python.alerting_support import (
    DAY,
    FAKE_TOKEN,
    FakeSlack,
    Reply,
    add_alerts,
    cost_alert,
    create_marts,
    drivers,
    fake_slack,
    log_rows,
    posted_alert_texts,
    usage_alert,
    with_drivers,
)

REPO = Path(__file__).resolve().parents[2]
HOSTILE_ORGS = ["<!channel>", "<@U1>", "<https://evil|click>"]
ALERT_IDS = ["u-free-tokens", "u-ent-dau", "c-api-idle", "c-studio-cpr"]


@pytest.fixture
def marts(tmp_path: Path) -> Path:
    path = tmp_path / "marts.duckdb"
    create_marts(
        path,
        [
            usage_alert("u-free-tokens"),
            with_drivers(
                usage_alert(
                    "u-ent-dau", scope="enterprise_contract", metric="dau", unit="count", current_value=12.0,
                    baseline_mean=60.0, baseline_stddev=8.0, severity="critical",
                    drivers_summary="; ".join(HOSTILE_ORGS),
                ),
                drivers(*[("organization", org, 3.0, 15.0, 0.25) for org in HOSTILE_ORGS]),
            ),
            usage_alert("u-suppressed", scope="enterprise_pilot", is_suppressed=True),
            cost_alert("c-api-idle", drivers_summary="org Smith & Sons +$1,900.10"),
            cost_alert("c-studio-cpr", team="studio", scope="studio", metric="cost_per_request",
                       unit="usd_per_request", current_value=0.52, baseline_mean=0.4, threshold=0.46),
        ],
    )  # fmt: skip
    return path


def env_for(marts: Path, url: str, **extra: str) -> dict[str, str]:
    env = {"SLACK_BOT_TOKEN": FAKE_TOKEN, "SLACK_API_URL": url, "LTX_DUCKDB_PATH": str(marts)}
    env.update(extra)
    return env


def run_cli(marts: Path, url: str, *args: str, **extra: str) -> int:
    return main(["run", "--date", DAY.isoformat(), "--target", "duckdb", *args], env_for(marts, url, **extra))


def posted_ids(server: FakeSlack) -> list[str]:
    """Which fixture alerts the server accepted, recognised by their scope/metric titles."""
    text = posted_alert_texts(server)
    titles = {
        "u-free-tokens": "Free – Tokens",
        "u-ent-dau": "Enterprise Contract – DAU",
        "c-api-idle": "API – Idle cost",
        "c-studio-cpr": "Studio – Cost per request",
    }
    return sorted(k for k, title in titles.items() if title in text)


def test_posts_each_alert_once_and_a_rerun_posts_nothing(marts: Path) -> None:
    with fake_slack() as server:
        assert run_cli(marts, server.url) == 0
        assert len(server.post_requests) == 3  # usage, api, studio digests
        assert {r.path for r in server.post_requests} == {"/api/chat.postMessage"}
        assert {r.authorization for r in server.post_requests} == {f"Bearer {FAKE_TOKEN}"}
        assert sorted(p["channel"] for p in server.posted) == [
            "#ltx-api-cost-alerts", "#ltx-studio-cost-alerts", "#ltx-usage-alerts"
        ]  # fmt: skip
        assert posted_ids(server) == sorted(ALERT_IDS)
        assert "Enterprise Pilot" not in posted_alert_texts(server)  # suppressed: never posted
        for payload in server.posted:
            assert payload["text"] and payload["blocks"] and payload["unfurl_links"] is False
        assert sorted(a for a, _ in log_rows(marts)) == sorted(ALERT_IDS)

        assert run_cli(marts, server.url) == 0
        assert len(server.post_requests) == 3  # nothing posted again


def test_429_is_waited_out(marts: Path) -> None:
    with fake_slack() as server:
        server.script = [Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})]
        assert run_cli(marts, server.url) == 0
        first, second = server.post_requests[0], server.post_requests[1]
        assert first.payload == second.payload  # the same message retried
        assert second.at - first.at >= 1.0  # Retry-After honoured
        assert len(server.posted) == 3 and len(server.post_requests) == 4
        assert len(log_rows(marts)) == len(ALERT_IDS)


def test_500_fails_the_run_and_the_next_healthy_run_delivers_everything(
    marts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_slack() as server:
        server.default = Reply(500, {"ok": False, "error": "internal_error"})
        assert run_cli(marts, server.url) == 1
        assert len(server.post_requests) == 3  # every digest was still tried
        assert log_rows(marts) == []
        assert "internal_error" in capsys.readouterr().err

        server.default = Reply(500, "<html>Internal Server Error</html>")  # not even JSON
        assert run_cli(marts, server.url) == 1
        assert log_rows(marts) == []

        server.default = Reply()
        assert run_cli(marts, server.url) == 0
        assert posted_ids(server) == sorted(ALERT_IDS)
        assert len(server.posted) == 3
        assert run_cli(marts, server.url) == 0 and len(server.posted) == 3


def test_ok_false_for_one_channel_others_delivered(marts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fake_slack() as server:
        server.per_channel["#ltx-api-cost-alerts"] = Reply(200, {"ok": False, "error": "channel_not_found"})
        assert run_cli(marts, server.url) == 1
        assert "channel_not_found" in capsys.readouterr().err
        assert posted_ids(server) == ["c-studio-cpr", "u-ent-dau", "u-free-tokens"]
        del server.per_channel["#ltx-api-cost-alerts"]
        before = len(server.post_requests)
        assert run_cli(marts, server.url) == 0
        assert len(server.post_requests) == before + 1
        assert server.post_requests[-1].payload["channel"] == "#ltx-api-cost-alerts"


def test_hostile_org_names_arrive_escaped(marts: Path) -> None:
    with fake_slack() as server:
        assert run_cli(marts, server.url) == 0
        body = posted_alert_texts(server)
        texts = [p["text"] for p in server.posted]
        sections = [b["text"]["text"] for p in server.posted for b in p["blocks"] if b["type"] == "section"]
        texts += [b["text"]["text"] for p in server.posted for b in p["blocks"] if "text" in b]
        for raw, escaped in [
            ("<!channel>", "&lt;!channel&gt;"),
            ("<@U1>", "&lt;@U1&gt;"),
            ("Smith & Sons", "Smith &amp; Sons"),
            ("<https://evil|click>", "&lt;https://evil|click&gt;"),
        ]:
            assert raw not in body
            assert any(escaped in t for t in sections), escaped  # in the incident sections
            assert any(escaped in p["text"] for p in server.posted), escaped  # and in the fallback text
        assert not any("<" in t or ">" in t for t in texts)


def test_env_channel_override(marts: Path) -> None:
    with fake_slack() as server:
        assert run_cli(marts, server.url, LTX_SLACK_CHANNEL_API="#api-oncall") == 0
        assert "#api-oncall" in {p["channel"] for p in server.posted}
        assert ("c-api-idle", "#api-oncall") in log_rows(marts)


def test_dry_run_needs_no_token_and_touches_neither_slack_nor_log(
    marts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_slack() as server:
        code = main(["run", "--date", DAY.isoformat(), "--dry-run"], {"LTX_DUCKDB_PATH": str(marts),
                                                                      "SLACK_API_URL": server.url})  # fmt: skip
        out = capsys.readouterr().out
        assert code == 0
        assert server.post_requests == []
        assert log_rows(marts) == []
        assert out.count("--- Block Kit JSON ---") == 3
        assert "Current: 4,497,947 | Same-weekday mean (10 pts): 3,068,455 | Std Dev (σ): 426,074" in out


def test_missing_token_is_a_usage_error(marts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fake_slack() as server:
        assert (
            main(["run", "--date", DAY.isoformat()], {"LTX_DUCKDB_PATH": str(marts), "SLACK_API_URL": server.url}) == 2
        )
        assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err
        assert server.post_requests == []


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/"


class RawRecords(logging.Handler):
    """Sees records before any root-level redaction (attached to the emitting loggers)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


def test_token_never_in_output_or_log_records(marts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = RawRecords()
    loggers = [logging.getLogger(n) for n in ("slack_sdk", "alerting", "alerting.warehouse")]
    for lg in loggers:
        lg.addHandler(raw)
    try:
        with fake_slack() as server:
            server.script = [
                Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
                Reply(500, {"ok": False, "error": f"echo {FAKE_TOKEN}"}),  # a server echoing the token back
                Reply(200, {"ok": False, "error": "invalid_auth"}),
            ]
            assert run_cli(marts, server.url, "--verbose") == 1
            assert run_cli(marts, server.url, "--verbose") == 0
        assert run_cli(marts, closed_port_url(), "--verbose") == 0  # nothing left to post
        add_alerts(marts, [usage_alert("u-late", scope="heavy")])
        assert run_cli(marts, closed_port_url(), "--verbose") == 1  # connection refused, retried, failed
    finally:
        for lg in loggers:
            lg.removeHandler(raw)
    captured = capsys.readouterr()
    assert raw.lines, "no log records captured: the test would prove nothing"
    assert any("Sending a request" in line for line in raw.lines)  # slack_sdk debug logging was on
    for text in [captured.out, captured.err, *raw.lines]:
        assert FAKE_TOKEN not in text
        assert "FAKE0TOKEN" not in text


def test_cli_subprocess_help_and_no_token_leak(marts: Path) -> None:
    help_run = subprocess.run(
        [sys.executable, "-m", "alerting", "run", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert help_run.returncode == 0
    for needle in ("--date", "--target", "--dry-run", "finalised", "SLACK_BOT_TOKEN", "delivery log"):
        assert needle in help_run.stdout
    with fake_slack() as server:
        server.default = Reply(500, {"ok": False, "error": f"token {FAKE_TOKEN} rejected"})
        env = {"PATH": "/usr/bin:/bin", **env_for(marts, server.url)}
        started = time.time()
        proc = subprocess.run(
            [sys.executable, "-m", "alerting", "run", "--date", DAY.isoformat(), "--verbose"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        assert time.time() - started < 60
        assert {r.authorization for r in server.post_requests} == {f"Bearer {FAKE_TOKEN}"}  # the token was used
        assert FAKE_TOKEN not in proc.stdout + proc.stderr
        assert "FAKE0TOKEN" not in proc.stdout + proc.stderr
        assert "FAILED" in proc.stderr
