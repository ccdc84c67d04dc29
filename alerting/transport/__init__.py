"""Transports: where a rendered message goes (`base.py`: the protocols and results). A second
platform is a renderer plus a transport."""

from alerting.transport.base import IssueTransport, PostResult, Transport, UploadResult
from alerting.transport.slack import SlackTransport
from alerting.transport.stdout import StdoutTransport

__all__ = ["IssueTransport", "PostResult", "SlackTransport", "StdoutTransport", "Transport", "UploadResult"]
