"""MessageBody -> Markdown for an issue tracker (Linear issue descriptions and comments).

One paragraph per line; template text is written as is, every data span goes through
`linear.neutral` (no mention, link, HTML, code or heading can come from data), strong spans
are bold, links come from configuration.
"""

from __future__ import annotations

from alerting.linear import neutral
from alerting.message import Block, Header, Line, MessageBody, block_lines
from alerting.model import SEVERITY_ORDER


def _strong(text: str) -> str:
    core = text.strip()
    if not core:
        return text
    start = text.index(core)
    return f"{text[:start]}**{core}**{text[start + len(core) :]}"


def markdown_line(ln: Line) -> str:
    """Spans in order; adjacent strong spans share one pair of `**`."""
    pieces: list[tuple[str, bool]] = []
    for span in ln:
        if span.icon:
            text = f"[{span.text.upper()}]" if span.text in SEVERITY_ORDER else ""  # severity icons only
        elif span.link:
            text = f"[{neutral(span.text)}]({span.link})"
        else:
            text = neutral(span.text, len(span.text) + 1) if span.data else span.text
        if pieces and pieces[-1][1] == span.strong and not span.icon:
            pieces[-1] = (pieces[-1][0] + text, span.strong)
        else:
            pieces.append((text, span.strong and not span.icon))
    return "".join(_strong(text) if strong else text for text, strong in pieces).strip()


def plain_line(ln: Line) -> str:
    """The line as plain text for a title: no markup, icons dropped, data made inert."""
    return "".join(neutral(s.text, len(s.text) + 1) if s.data else s.text for s in ln if not s.icon).strip()


def render_block(block: Block) -> list[str]:
    lines = [markdown_line(ln) for ln in block_lines(block)]
    if isinstance(block, Header):
        return [f"### {lines[0]}"]
    return [ln for ln in lines if ln]


def render(body: MessageBody) -> str:
    """The whole body as Markdown: header, intro, then each section; a blank line between lines."""
    return "\n\n".join(ln for block in body.blocks() for ln in render_block(block)) + "\n"
