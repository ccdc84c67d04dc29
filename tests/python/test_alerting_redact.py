"""Token validation and fragment redaction (issue 14 finding 1, issue 25's non-Latin-1 token)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from alerting.cli import main
from alerting.redact import REDACTED, RedactingFilter, TokenError, redact, validate_token
from alerting.transport.base import TransportConfigError
from alerting.transport.slack import SlackTransport

TOKEN = "xoxb-1234567890-ABCDEFGHIJKLMNOP-secretpart"


@pytest.mark.parametrize(
    "bad",
    [TOKEN + "\n", "xoxb-123\nSECRETSECRETSECRET", " " + TOKEN, "xoxb-12\t34", "xoxb-\x00abc", "xoxb-a\u200bb", "",
     "xoxb-123€SECRET", "xoxb-abcé123", "xoxb-١٢٣abc"],
)  # fmt: skip
def test_malformed_token_refused_without_showing_any_of_it(bad: str) -> None:
    with pytest.raises(TokenError) as info:
        validate_token(bad)
    message = str(info.value)
    assert "SLACK_BOT_TOKEN" in message
    for piece in ("xoxb", "SECRET", "123", "abc", "€", "é", "١"):
        assert piece not in message


@pytest.mark.parametrize("bad", ["xoxb-123€SECRETSECRET", "xoxb-SECRET SECRET", "xoxb-SECRETé"])
def test_the_transport_and_the_cli_refuse_it_before_any_request(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A non-Latin-1 token used to be accepted, then every post failed showing one character of it."""
    with pytest.raises(TransportConfigError) as info:
        SlackTransport(bad, "http://127.0.0.1:9/api/")
    assert "SECRET" not in str(info.value) and "xoxb" not in str(info.value)
    env = {"SLACK_BOT_TOKEN": bad, "SLACK_API_URL": "http://127.0.0.1:9/api/", "LTX_DUCKDB_PATH": "/nonexistent"}
    assert main(["run", "--date", dt.date(2026, 11, 20).isoformat()], env) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN contains" in err and "SECRET" not in err and bad[5:8] not in err


def test_unusual_shape_warned_not_rejected(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="alerting.redact"):
        assert validate_token(TOKEN) == TOKEN
        assert caplog.messages == []
        assert validate_token("not-a-slack-token-but-maybe-a-proxy-key") == "not-a-slack-token-but-maybe-a-proxy-key"
        assert len(caplog.messages) == 1 and "does not start with xoxb-" in caplog.messages[0]
        assert "proxy" not in caplog.messages[0]
        caplog.clear()
        validate_token("lin_api_abcdef123", "LINEAR_API_KEY", ("lin_api_", "lin_oauth_"))  # reusable
        validate_token("a-signing-secret", "SLACK_SIGNING_SECRET", ())  # no prefix: nothing to warn about
        assert caplog.messages == []
        validate_token("x", "K", ("lin_api_",))
        assert len(caplog.messages) == 1 and "K does not start with lin_api_" in caplog.messages[0]


@pytest.mark.parametrize(
    "leak",
    [
        f"Invalid header value b'Bearer {TOKEN}'",
        "Invalid header value b'Bearer xoxb-1234567890-ABCD'",  # a prefix fragment
        "…ABCDEFGHIJKLMNOP…",  # a middle fragment (16 chars)
        "server said: secretpart and more",  # a tail fragment (10 chars)
        "EFGHIJKL",  # exactly 8 characters of it
    ],
)
def test_any_8_char_fragment_is_redacted(leak: str) -> None:
    out = redact(leak, [TOKEN])
    assert REDACTED in out
    for i in range(len(TOKEN) - 7):
        assert TOKEN[i : i + 8] not in out


def test_newline_token_fragments_and_escaped_form_are_redacted() -> None:
    token = "zzzz-ABCDEFGH\nSECRETSECRET1234"  # not a Slack shape: only fragment matching can catch it
    for leak in [f"b'Bearer {token}'", repr(f"Bearer {token}"), "SECRETSECRET1234 leaked", "ABCDEFGH\\nSECR"]:
        out = redact(leak, [token])
        assert "SECRETSECRET" not in out and "ABCDEFGH" not in out, out


def test_short_common_strings_are_not_redacted() -> None:
    assert redact("posted 3 alerts to #api", [TOKEN]) == "posted 3 alerts to #api"
    assert redact("xoxb is a prefix", [TOKEN]) == "xoxb is a prefix"


def test_filter_redacts_messages_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed: %s", (TOKEN[5:20],), None)
    try:
        raise RuntimeError(f"boom {TOKEN[10:30]}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter([TOKEN]).filter(record)
    assert TOKEN[5:20] not in record.getMessage()
    assert record.exc_text is not None and TOKEN[10:30] not in record.exc_text
