"""What the runner sends to Slack for each delivery kind: compose.py, then its renderer (`runner.render_body`).

The lifecycle objects are stood in by SimpleNamespace with the attribute names of lifecycle.py /
delivery_log.py that compose.py reads (Correction, Withdrawal, Resolution, LogEntry).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace as NS

from alerting import compose
from alerting.compose import Digest
from alerting.lifecycle import IncidentPlan
from alerting.render.slack import Limits, SlackMessage
from alerting.runner import render_body
from tests.python.alerting_support import COST_DAY, DAY, drivers, usage_alert, with_drivers


class Replies:
    """A reply as the runner sends it: compose.<kind>(...), rendered for Slack (a reply is one message)."""

    def __getattr__(self, kind: str) -> Callable[..., SlackMessage]:
        return lambda *args: render_body(getattr(compose, kind)(*args), Limits())[0]


def section_texts(message: object) -> str:
    return "\n".join(b["text"]["text"] for b in message.blocks if b["type"] == "section")  # type: ignore[attr-defined]


def log_entry(**kw: object) -> NS:
    base = dict(alert_id="a", alert_date=DAY, series_key="usage|free|tokens|usage_zscore", severity="critical",
                direction="decrease", z_score=-6.4849, current_value=1_000.0, kind="post")  # fmt: skip
    base.update(kw)
    return NS(**base)


def test_new_post_is_the_digest() -> None:
    [message] = render_body(
        compose.digest(Digest("#usage", ("product",), DAY, COST_DAY, (usage_alert("a"),))), Limits()
    )
    assert message.alert_ids == ("a",)
    assert "*Free – Tokens* · WARNING increase" in section_texts(message)


def test_repeat_one_reply_per_thread_with_streak_and_trend() -> None:
    trend = ((DAY, 3.36), (DAY, 3.8), (DAY, 4.1), (DAY, 4.7))
    plan = IncidentPlan("inc-a", usage_alert("a", z_score=4.7, run_days=4), z_trend=trend)
    other = IncidentPlan("inc-b", usage_alert("b", scope="heavy", run_days=2))
    [message] = render_body(compose.repeats([plan, other]), Limits())
    text = section_texts(message)
    assert "Still ongoing: *Free – Tokens* · day 4 in a row" in text
    assert "Z trend: +3.36 → +3.80 → +4.10 → +4.70" in text
    assert "*Heavy – Tokens* · day 2 in a row" in text
    assert text.count("*Action:*") == 2
    assert message.alert_ids == ("a", "b")


def test_a_first_post_says_which_day_of_the_run_it_is() -> None:
    """Year 11's Free DAU shift: quiet on 04-20, 04-21 and 04-22 (within chance over the day's series), posted on
    04-23 as a plain CRITICAL; the next morning's reply said 'day 5 in a row', news to a reader of the post."""
    trend = ((DAY, -3.14), (DAY, -4.12), (DAY, -5.6), (DAY, -7.27))
    alert = usage_alert("a", severity="critical", direction="decrease", z_score=-7.27, run_days=4)
    plan = IncidentPlan("inc-a", alert, z_trend=trend)
    [message] = render_body(compose.digest(Digest("#usage", ("product",), DAY, COST_DAY, (alert,), plans=(plan,))),
                            Limits())  # fmt: skip
    text = section_texts(message)
    assert "*Free – Tokens* · CRITICAL decrease · day 4 in a row\n" in text, text
    assert "\nZ trend: -3.14 → -4.12 → -5.60 → -7.27\n" in text, text
    first = dataclasses.replace(alert, run_days=1)
    for plans in [(), (IncidentPlan("inc-a", first, z_trend=trend[-1:]),)]:  # a first day: neither
        [message] = render_body(compose.digest(Digest("#usage", ("product",), DAY, COST_DAY, (first,), plans=plans)),
                                Limits())  # fmt: skip
        assert "in a row" not in section_texts(message) and "Z trend" not in section_texts(message)


def test_a_broadcast_reply_says_what_is_news() -> None:
    """Year 8, 2026-09-15: 'Still ongoing: Heavy – DAU · day 2 in a row' was broadcast because its member video
    generations rose from NOTICE to a loud WARNING; the channel saw a repeat of yesterday and no reason."""
    dau = usage_alert("d", scope="heavy", metric="dau", severity="critical", direction="decrease", run_days=2)
    video = usage_alert("v", scope="heavy", metric="video_generations", severity="warning", direction="decrease")
    news = IncidentPlan("inc-h", dau, (video,), news=(video,))
    [message] = render_body(compose.repeats([news]), Limits())
    text = section_texts(message)
    assert "*News:* Video generations · WARNING, not announced in this thread before\n" in text, text
    [quiet] = render_body(compose.repeats([IncidentPlan("inc-h", dau, (video,))]), Limits())
    assert "News:" not in section_texts(quiet)


def test_a_series_new_to_the_thread_is_now_also_not_again() -> None:
    """The demo's Heavy thread (tokens up on Wednesday): Heavy DAU up on Saturday, a series that thread never
    carried, was posted as 'Still ongoing: Heavy – DAU · again' with a one-point 'Z trend'."""
    dau = usage_alert("d", scope="heavy", metric="dau")
    new = IncidentPlan("inc-d", dau, z_trend=((DAY, 2.23),), new_in_thread=True)
    [message] = render_body(compose.repeats([new]), Limits())
    text = section_texts(message)
    assert "Now also: *Heavy – DAU*\n" in text and "again" not in text and "Still ongoing" not in text, text
    assert "Z trend" not in text  # one point is not a trend
    streak = IncidentPlan("inc-d", dataclasses.replace(dau, run_days=3), new_in_thread=True)
    [message] = render_body(compose.repeats([streak]), Limits())
    assert "Now also: *Heavy – DAU* · day 3 in a row" in section_texts(message)
    said = IncidentPlan("inc-t", usage_alert("t", scope="heavy"))
    [message] = render_body(compose.repeats([said, new]), Limits())
    assert "Still ongoing: *Heavy – Tokens* · again" in section_texts(message)
    assert message.text.startswith(":repeat: In this thread: 2 incidents"), message.text


def test_a_thread_reply_says_what_its_action_points_at() -> None:
    """Year 6's Enterprise Pilot thread: on Independence Day (observed) the DAU fell to 0, CRITICAL and quiet (a
    known event); the reply said 'contact the account managers of the orgs below' and 'Baseline caveat: see the
    validity flags' above no organisation, no caveat and no event. A reply explains as its first post does."""
    action = (
        "CRITICAL: investigate now; contact the account managers of the orgs below."
        " Decrease: look for churn or product issues. Baseline caveat: see the validity flags."
    )
    dau = usage_alert(
        "p", scope="enterprise_pilot", metric="dau", severity="critical", direction="decrease",
        current_value=0.0, baseline_mean=11.7, baseline_stddev=1.57, recommended_action=action,
        calendar_event="Independence Day (observed)", is_loud=False, quiet_reason="calendar_event",
        has_baseline_outlier=True, baseline_outlier_date=DAY, is_baseline_valid=False,
    )  # fmt: skip
    dau = with_drivers(dau, drivers(("organization", "Nimbus Media", 0.0, 7.1, 0.61)))
    [message] = render_body(compose.repeats([IncidentPlan("inc-p", dau)]), Limits())
    lines = section_texts(message).splitlines()
    assert lines[-4:] == [
        "Drivers: *Nimbus Media* (organization): 0 vs 7.10 (-7.10, 61% of change)",
        "*Known event:* Independence Day (observed)",
        "Caveat: baseline holds an outlier on 2026-11-21",
        "*Action:* " + action,
    ], lines


def test_correction_withdrawal_resolved_all_clear() -> None:
    composer = Replies()
    now = NS(alert_id="a", alert_date=DAY, series_key="usage|free|tokens|usage_zscore", severity="warning",
             direction="increase", z_score=3.355, current_value=4_497_947.0)  # fmt: skip
    message = composer.correction(NS(alert=now, was=log_entry()), usage_alert("a"))
    text = section_texts(message)
    assert "Correction after late data: now WARNING increase, z +3.36; was CRITICAL decrease, z -6.48" in text
    assert "*Action:*" in text and "Current: 4,497,947" in text
    back = composer.correction(NS(alert=now, was=log_entry(kind="withdrawal")), None)
    assert "Back after a rebuild: now WARNING increase" in section_texts(back)

    gone = composer.withdrawal(NS(was=log_entry(), reason="gone"))
    assert "Withdrawn after late data: the alert CRITICAL decrease, z -6.48 (value 1,000) for 2026-11-21" in (
        section_texts(gone)
    )
    assert "no longer holds: it is no longer in the rebuilt data." in section_texts(gone)
    # muted, snoozed and incomplete_data never withdraw (lifecycle.NEVER_WITHDRAWN_FOR): held as too thin now
    held = composer.withdrawal(NS(was=log_entry(), reason="insufficient_baseline"))
    assert "it is held now: too few baseline points" in section_texts(held) and held.alert_ids == ()
    assert "Free – Tokens" in held.blocks[0]["text"]["text"]  # scope and metric from the series key

    resolution = NS(
        series=(NS(series=("usage", "free", "tokens"), last_alert_date=DAY, quiet_days=3),),
        alert_date=DAY + dt.timedelta(days=3),
        incident_id="inc-a",
    )
    text = section_texts(composer.resolved(resolution))
    # the day it came back is not the judging day: the series was quiet from the day after its last alert
    assert "*Free – Tokens* back inside its normal band since 2026-11-22 (3 quiet days to 2026-11-24)." in text

    clear = composer.all_clear(["product"], DAY, COST_DAY)
    assert "all clear" in clear.blocks[0]["text"]["text"] and clear.alert_ids == ()
