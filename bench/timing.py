"""Run one command as a whole process; measure its wall time and its own peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessRun:
    wall_s: float
    returncode: int
    max_rss_mb: float  # peak resident set of the process (and the children it waited for)
    log_path: Path
    cpu_s: float = 0.0  # user + system CPU seconds: far less sensitive to other load on the machine than wall time


def run_process(cmd: list[str], *, env: dict[str, str], cwd: Path, log_path: Path) -> ProcessRun:
    """Start ``cmd``, wait for it with ``wait4`` (per-process rusage), send its output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Linux reports ru_maxrss in KiB
    return ProcessRun(wall, proc.returncode, usage.ru_maxrss / 1024.0, log_path, usage.ru_utime + usage.ru_stime)


def checked(run: ProcessRun, what: str) -> ProcessRun:
    """Raise with the tail of the log when the process failed."""
    if run.returncode != 0:
        tail = "\n".join(run.log_path.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"{what} failed (exit {run.returncode}); log {run.log_path}:\n{tail}")
    return run


def summarise(runs: list[ProcessRun]) -> dict:
    """Median wall time (the headline number), every repetition, and the peak memory."""
    if not runs:
        raise ValueError("no runs to summarise")
    walls = [r.wall_s for r in runs]
    return {
        "median_s": round(statistics.median(walls), 3),
        "runs_s": [round(w, 3) for w in walls],
        "peak_rss_mb": round(max(r.max_rss_mb for r in runs), 1),
        "median_cpu_s": round(statistics.median(r.cpu_s for r in runs), 3),
    }
