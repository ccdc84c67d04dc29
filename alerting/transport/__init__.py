"""Transports: where a rendered message goes. `slack` (Web API) and `stdout` (dry run).

A transport has a `name` (the destination prefix in the delivery log, e.g. `slack`), and
`post(channel, text, blocks, thread_ts=None) -> PostResult`; Slack also has
`upload_file(channel_id, thread_ts, filename, content, title) -> UploadResult`. Errors come
back as results (redacted), never raised. Each transport declares its `capabilities`
(threads, file uploads, message updates, closing, digests); `linear` (transport/linear.py) is
one item per incident (`IssueTransport`). A second platform is a renderer plus a transport.
"""

from alerting.transport.base import (
    Capabilities,
    IssueTransport,
    PostResult,
    Transport,
    TransportConfigError,
    UploadResult,
)
from alerting.transport.slack import API_URL_ENV, TOKEN_ENV, SlackTransport, transport_from_env
from alerting.transport.stdout import StdoutTransport

__all__ = [
    "API_URL_ENV",
    "TOKEN_ENV",
    "Capabilities",
    "IssueTransport",
    "PostResult",
    "SlackTransport",
    "StdoutTransport",
    "Transport",
    "TransportConfigError",
    "UploadResult",
    "transport_from_env",
]
