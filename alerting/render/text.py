"""MessageBody -> plain text (dry runs, logs, tests, e-mail-like outputs).

Data spans are already one clean, capped line (`sanitize.clean`); nothing is marked up.
Icons become bracketed words for severities and are dropped otherwise.
"""

from __future__ import annotations

from alerting.message import Actions, Block, Divider, Header, Line, MessageBody, block_lines

ICON_WORDS = {"critical": "[CRITICAL]", "warning": "[WARNING]", "notice": "[NOTICE]"}


def text_line(ln: Line) -> str:
    out = []
    for span in ln:
        if span.icon:
            out.append(ICON_WORDS.get(span.text, ""))
        elif span.link:
            out.append(f"{span.text} ({span.link})")
        else:
            out.append(span.text)
    return "".join(out).strip()


def render_block(block: Block) -> list[str]:
    if isinstance(block, Divider):
        return ["----"]
    if isinstance(block, Actions):
        return []  # buttons need an interactive platform
    lines = [text_line(ln) for ln in block_lines(block)]
    if isinstance(block, Header):
        return [lines[0], "=" * min(len(lines[0]), 72)]
    return lines


def render(body: MessageBody) -> str:
    """The whole body as text: header, intro, sections separated by blank lines."""
    out: list[str] = []
    out += render_block(body.header)
    for block in body.intro:
        out += render_block(block)
    for section in body.sections:
        out.append("")
        for block in section.blocks:
            out += render_block(block)
    return "\n".join(out) + "\n"
