"""A durable local queue of clicks: written (and fsync'ed) before Slack gets its ack.

Two append-only JSON-lines files in one directory: `clicks.jsonl` (one click per line) and
`done.jsonl` (the feedback_id of each click that was written to the warehouse or rejected).
Pending = clicks without a done line. A line cut short by a crash is ignored (it was never
acknowledged: the append and fsync come before the ack). At start the files are compacted
to the pending clicks (written to a temporary file, then renamed). An exclusive `flock` on
`lock` keeps a second service from using the same directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from pathlib import Path
from typing import IO

from alerting.feedback import Click, ClickError

log = logging.getLogger(__name__)
CLICKS, DONE, LOCK = "clicks.jsonl", "done.jsonl", "lock"


class SpoolError(RuntimeError):
    """The spool directory cannot be used (locked by another service, not writable)."""


def _append(path: Path, line: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    out = []
    for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            item = json.loads(text)
        except json.JSONDecodeError:
            log.warning("%s line %d is not JSON (cut short by a crash?): skipped", path.name, n)
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


class Spool:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._mutex = threading.Lock()
        self._pending: dict[str, Click] = {}
        self._lock_file: IO[str] | None = None

    def open(self) -> int:
        """Take the directory's lock, load and compact the pending clicks; returns how many are pending."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = (self.dir / LOCK).open("a")
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SpoolError(f"spool {self.dir} is in use by another `alerting serve`") from None
        except OSError as exc:
            raise SpoolError(f"spool {self.dir} cannot be used: {exc.strerror}") from None
        done = {str(d.get("feedback_id")) for d in _lines(self.dir / DONE)}
        for item in _lines(self.dir / CLICKS):
            try:
                click = Click.from_json(item)
            except (ClickError, ValueError) as exc:
                log.warning("a spooled click is not valid (%s): skipped", exc)
                continue
            if click.feedback_id not in done:
                self._pending[click.feedback_id] = click
        self._compact()
        return len(self._pending)

    def _compact(self) -> None:
        tmp = self.dir / (CLICKS + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            for click in self._pending.values():
                f.write(json.dumps(click.to_json()) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.dir / CLICKS)
        with contextlib.suppress(FileNotFoundError):
            (self.dir / DONE).unlink()

    def add(self, click: Click) -> bool:
        """Append the click durably; False when the same click is already pending (nothing appended)."""
        with self._mutex:
            if click.feedback_id in self._pending:
                return False
            _append(self.dir / CLICKS, json.dumps(click.to_json()))
            self._pending[click.feedback_id] = click
            return True

    def done(self, click: Click) -> None:
        with self._mutex:
            _append(self.dir / DONE, json.dumps({"feedback_id": click.feedback_id}))
            self._pending.pop(click.feedback_id, None)

    def pending(self) -> list[Click]:
        with self._mutex:
            return list(self._pending.values())

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
