"""Transports: where a rendered message goes (`base.py`: the protocols and results). A second
platform is a renderer plus a transport."""

from alerting.transport.base import IssueTransport, PostResult, Transport, TransportConfigError, UploadResult
from alerting.transport.slack import TOKEN_ENV, SlackTransport, transport_from_env
from alerting.transport.stdout import StdoutTransport

__all__ = [
    "TOKEN_ENV",
    "IssueTransport",
    "PostResult",
    "SlackTransport",
    "StdoutTransport",
    "Transport",
    "TransportConfigError",
    "UploadResult",
    "transport_from_env",
]
