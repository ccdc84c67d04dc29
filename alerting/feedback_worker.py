"""The one background worker of `alerting serve`: spooled clicks -> `alert_feedback` -> Slack.

For each pending click, in order: read the incident's alerts from `fct_alerts`, decide,
write the row (exactly once by `feedback_id`), mark the click done in the spool, then tell
Slack: `chat.update` of the original message (its blocks kept, our actions block replaced
by "Snoozed 7 days by <@U…>"), or for a rejected click a `chat.postEphemeral` to the
clicker saying why nothing was recorded. A warehouse that is busy (a DuckDB file held by a
build) or unreadable keeps the click pending: retried with back-off (1 s doubling to 60 s)
with the reason logged; new clicks wake the worker at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from slack_sdk import WebClient

from alerting import sanitize
from alerting.feedback import Click, FeedbackStore, decide
from alerting.feedback_buttons import BLOCK_ID_PREFIX, block_id
from alerting.feedback_spool import Spool
from alerting.redact import redact
from alerting.warehouse import WarehouseBusy

log = logging.getLogger(__name__)
FIRST_RETRY_S, MAX_RETRY_S, IDLE_S = 1.0, 60.0, 30.0
SENT_MEMORY = 512  # messages whose last update is remembered


def done_line(click: Click) -> str:
    return f"{click.action.done} by <@{click.user_id}>"  # user id validated: [UW][A-Z0-9]+


def updated_blocks(click: Click, current: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]] | None:
    """The message's blocks (`current`, else the click's copy) with this incident's actions block
    replaced by a context line; None when the block is not there."""
    target = block_id(click.incident_id)
    blocks = list(click.message_blocks if current is None else current)
    for i, block in enumerate(blocks):
        if block.get("type") == "actions" and block.get("block_id") == target:
            context = {
                "type": "context",
                "block_id": target.replace(BLOCK_ID_PREFIX, "ltx_feedback_done:", 1),
                "elements": [{"type": "mrkdwn", "text": done_line(click)}],
            }
            return [*blocks[:i], context, *blocks[i + 1 :]]
    return None


class FeedbackWorker:
    def __init__(
        self,
        spool: Spool,
        open_store: Callable[[], FeedbackStore],
        slack: WebClient | None,
        secrets: Sequence[str] = (),
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None),
    ) -> None:
        self.spool = spool
        self._open_store = open_store
        self._store: FeedbackStore | None = None
        self.slack = slack
        self.secrets = tuple(secrets)
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sent: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()
        self._thread = threading.Thread(target=self._loop, name="feedback-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            self._wake.wait(delay or IDLE_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self.drain():
                delay = 0.0
                continue
            delay = min(max(delay * 2, FIRST_RETRY_S), MAX_RETRY_S)
            log.info("feedback: %d click(s) pending; next try in %.0f s", len(self.spool.pending()), delay)

    def drain(self) -> bool:
        """Process every pending click; False when one stays pending (a busy warehouse stops the round)."""
        ok = True
        for click in self.spool.pending():
            try:
                self._process(click)
            except Exception as exc:  # busy/missing warehouse, network: keep the click, retry later
                self._store = None  # opened afresh on the next try
                log.warning(
                    "feedback %s (%s on incident %s) not written yet, kept in the spool: %s",
                    click.feedback_id,
                    click.action.key,
                    click.incident_id,
                    redact(f"{type(exc).__name__}: {exc}", self.secrets),
                )
                if isinstance(exc, WarehouseBusy):
                    return False  # every other click would wait on the same lock
                ok = False  # one click that fails for its own reason does not hold up the others
        return ok

    def _process(self, click: Click) -> None:
        if self._store is None:
            self._store = self._open_store()
        store = self._store
        with store.backend.session():
            decision = decide(click, store.incident_alerts(click.incident_id), self.clock())
            if decision.row is not None:
                store.record(decision.row)
        self.spool.done(click)
        if decision.row is None:
            log.warning("feedback %s rejected, nothing written: %s", click.feedback_id, decision.reason)
            reason = sanitize.slack_mrkdwn(sanitize.clean(decision.reason, sanitize.TEXT_CAP))
            self._tell(click, f"Not recorded: {reason}.")
            return
        log.info(
            "feedback %s recorded: %s by %s on incident %s (expires %s)",
            click.feedback_id,
            decision.row.action,
            click.user_id,
            click.incident_id,
            decision.row.expires_on or "-",
        )
        self._update(click)

    def _update(self, click: Click) -> None:
        """chat.update; starts from the blocks this worker last sent to that message, when it did:
        a click on another incident of the same message may carry a copy older than our update."""
        key = (click.channel_id, click.message_ts)
        blocks = updated_blocks(click, self._sent.get(key))
        if blocks is None:
            log.warning("feedback %s: no actions block of ours in the payload: message not updated", click.feedback_id)
            self._tell(click, f"Recorded: {done_line(click)}.")
            return
        if self._call(
            "chat.update", channel=click.channel_id, ts=click.message_ts, text=click.message_text, blocks=blocks
        ):
            self._sent[key] = blocks
            self._sent.move_to_end(key)
            while len(self._sent) > SENT_MEMORY:
                self._sent.popitem(last=False)

    def _tell(self, click: Click, mrkdwn: str) -> None:
        """An ephemeral message to the clicker (`mrkdwn` has its data spans escaped already)."""
        self._call("chat.postEphemeral", channel=click.channel_id, user=click.user_id, text=mrkdwn)

    def _call(self, method: str, **kwargs: Any) -> bool:
        if self.slack is None:
            return False
        try:
            self.slack.api_call(method, json=kwargs)
        except Exception as exc:  # the row is written; Slack's view is best effort, logged
            log.warning("Slack %s failed: %s", method, redact(f"{type(exc).__name__}: {exc}", self.secrets))
            return False
        return True
