"""What a message says against its own numbers (the test build's replay in test_alerting_real_marts.py, and
`python -m tests.python.replay_year` on a labelled year): a headline's direction and its change's sign, "day N in a
row" and its z trend and action, a cost cause of the headline's own quantity and its direction, a resolved line's
quiet days and its dates."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

HEADLINE = re.compile(r"^(:\w+: )?\*.*\* · (CRITICAL|WARNING|NOTICE)|^:repeat: (Still ongoing|Now also): \*")
QUANTITY = {"infrastructure": "Infrastructure cost", "inference": "Inference cost", "idle": "Idle cost"}


def section_disagreements(section: list[str], said: Counter[str]) -> list[str]:
    """What an incident's section says against its own numbers; `said` counts each rule that applied."""
    text, head, out = "\n".join(section), section[0], []
    direction = re.search(r"(?:CRITICAL|WARNING|NOTICE) (increase|decrease)", text)
    up = direction is not None and direction.group(1) == "increase"
    change = re.search(r"Change: ([+-])", text)
    if direction and change:
        said["direction"] += 1
        out += [] if (change.group(1) == "+") == up else ["the change's sign is not the headline's direction"]
    streak, trend = re.search(r"day (\d+) in a row", head), re.search(r"^Z trend: (.*)$", text, re.M)
    if streak and trend:
        said["trend"] += 1
        days, points = int(streak.group(1)), len(trend.group(1).split(" → "))
        out += [] if points == min(days, 7) else [f"day {days} in a row over a z trend of {points} days"]
    if streak:
        said["streak"] += 1
        out += (
            ["day N in a row, and an action of no alert yesterday"]
            if "no same-direction alert yesterday" in text
            else []
        )
    cause = re.search(r"^Cause: (infrastructure|inference|idle) cost ([+-])", text, re.M)
    if direction and cause and f"– {QUANTITY[cause.group(1)]}*" in head:
        said["cause"] += 1
        out += [] if (cause.group(2) == "+") == up else ["the cause of the headline's own quantity moved the other way"]
    return out


def disagreements(text: str, said: Counter[str]) -> list[str]:
    """Every disagreement of one message's text (each incident section's, and each resolved line's); `said` counts
    each rule that applied."""
    sections: list[list[str]] = []
    for ln in text.splitlines():
        if HEADLINE.match(ln):
            sections.append([ln])
        elif sections:
            sections[-1].append(ln)
    wrong = [f"{why}: {s[0]}" for s in sections for why in section_disagreements(s, said)]
    for since, quiet, to in re.findall(r"since (\S+) \((\d+) quiet days? to (\S+)\)", text):
        said["resolved"] += 1
        span = (dt.date.fromisoformat(to) - dt.date.fromisoformat(since)).days + 1
        wrong += [] if span == int(quiet) else [f"{quiet} quiet days from {since} to {to}"]
    return wrong
