"""MessageBody -> Markdown for Linear issues and comments: one paragraph per line; every data span goes through
`sanitize.markdown_inert` (no mention, link, HTML, code or heading can come from data)."""

from __future__ import annotations

from alerting.message import Line, MessageBody, Span, marked_up
from alerting.model import SEVERITY_ORDER
from alerting.sanitize import markdown_inert


def _span_markdown(span: Span) -> str:
    if span.icon:
        return f"[{span.text.upper()}]" if span.text in SEVERITY_ORDER else ""  # severity icons only
    if span.link:
        return f"[{markdown_inert(span.text)}]({span.link})"
    return markdown_inert(span.text, len(span.text) + 1) if span.data else span.text


def plain_line(ln: Line) -> str:
    """The line as plain text for a title: no markup, icons dropped, data made inert."""
    return "".join(markdown_inert(s.text, len(s.text) + 1) if s.data else s.text for s in ln if not s.icon).strip()


def render(body: MessageBody) -> str:
    header, *rest = [marked_up(ln, _span_markdown, "**").strip() for ln in body.lines()]
    return "\n\n".join([f"### {header}", *(ln for ln in rest if ln)]) + "\n"
