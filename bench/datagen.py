"""The benchmark's raw data: a history written by ``ltx_synth`` and one appended day.

The appended day is written with the generator's own per-day functions, for the
same seed and population, with the day index that continues the history — the
same bytes ``ltx_synth`` would write for that day, plus one labelled usage and
one cost anomaly so the new day carries alerts to compare.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from ltx_synth.generate import (
    ENTERPRISE_DIR,
    GPU_DIR,
    USAGE_DIR,
    Config,
    generate,
    gpu_day,
    make_population,
    usage_day,
)

SPEC_FILE = "bench_spec.json"


@dataclass(frozen=True)
class DataSpec:
    seed: int
    end_date: dt.date  # last day of the history; the appended day is the day after
    days: int
    users: int
    gpu_requests_per_day: int

    @property
    def new_day(self) -> dt.date:
        return self.end_date + dt.timedelta(days=1)

    def config(self) -> Config:
        return Config(
            seed=self.seed,
            end_date=self.end_date,
            days=self.days,
            users=self.users,
            gpu_requests_per_day=self.gpu_requests_per_day,
        )

    def to_json(self) -> dict:
        return {**asdict(self), "end_date": self.end_date.isoformat()}

    @classmethod
    def from_json(cls, data: dict) -> DataSpec:
        return cls(**{**data, "end_date": dt.date.fromisoformat(data["end_date"])})


def new_day_anomalies(day: dt.date) -> tuple[list[dict], list[dict]]:
    """One usage and one cost anomaly on the appended day (generator plan format)."""
    usage = [
        {
            "dt": day.isoformat(),
            "segment": "paying",
            "kind": "metric",
            "metric": "tokens",
            "factor": 3.0,
            "direction": "increase",
            "affected_metrics": ["tokens"],
        }
    ]
    cost = [{"dt": day.isoformat(), "vertical": "api", "kind": "idle_spike", "factor": 4.0}]
    return usage, cost


def generate_history(spec: DataSpec, raw_dir: Path) -> dict:
    """Write the history (``spec.days`` days ending ``spec.end_date``) and remember the spec."""
    summary = generate(spec.config(), raw_dir)
    (raw_dir / SPEC_FILE).write_text(json.dumps(spec.to_json(), indent=2) + "\n")
    return summary


def read_spec(raw_dir: Path) -> DataSpec:
    path = raw_dir / SPEC_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: generate the bench data first (drop --skip-generate)")
    return DataSpec.from_json(json.loads(path.read_text()))


def new_day_paths(raw_dir: Path, day: dt.date) -> list[Path]:
    return [raw_dir / USAGE_DIR / f"{day.isoformat()}.parquet", raw_dir / GPU_DIR / f"{day.isoformat()}.parquet"]


def append_day(spec: DataSpec, raw_dir: Path, with_anomalies: bool = True) -> dict:
    """Write the day after the history into ``raw_dir``; return its row counts.

    ``with_anomalies=False`` writes exactly what ``ltx_synth`` writes for that day in a
    history one day longer (when it planned no anomaly on it): the harness test checks this.
    """
    cfg = spec.config()
    pop = make_population(cfg, np.random.default_rng(cfg.seed))
    day, index = spec.new_day, spec.days
    usage_anoms, cost_anoms = new_day_anomalies(day) if with_anomalies else ([], [])
    usage = usage_day(cfg, pop, day, np.random.default_rng([cfg.seed, index, 1]), usage_anoms)
    gpu = gpu_day(cfg, day, np.random.default_rng([cfg.seed, index, 2]), cost_anoms)
    usage_path, gpu_path = new_day_paths(raw_dir, day)
    pq.write_table(usage, usage_path)
    pq.write_table(gpu, gpu_path)
    return {"day": day.isoformat(), "user_day_rows": usage.num_rows, "gpu_rows": gpu.num_rows}


def remove_day(raw_dir: Path, day: dt.date) -> None:
    for path in new_day_paths(raw_dir, day):
        path.unlink(missing_ok=True)


def link_history(src: Path, dst: Path, spec: DataSpec, days: int) -> DataSpec:
    """A shorter history: symlinks to the last ``days`` days of ``src`` (same bytes, less past)."""
    if days > spec.days:
        raise ValueError(f"cannot take {days} days from a {spec.days}-day history")
    for sub in (USAGE_DIR, GPU_DIR, ENTERPRISE_DIR):
        (dst / sub).mkdir(parents=True, exist_ok=True)
        for old in (dst / sub).glob("*.parquet"):
            old.unlink()
    for f in (src / ENTERPRISE_DIR).glob("*.parquet"):
        os.symlink(f.resolve(), dst / ENTERPRISE_DIR / f.name)
    for k in range(days):
        day = spec.end_date - dt.timedelta(days=k)
        for sub in (USAGE_DIR, GPU_DIR):
            os.symlink((src / sub / f"{day.isoformat()}.parquet").resolve(), dst / sub / f"{day.isoformat()}.parquet")
    return DataSpec(spec.seed, spec.end_date, days, spec.users, spec.gpu_requests_per_day)


def link_new_day(src: Path, dst: Path, day: dt.date) -> None:
    for s, d in zip(new_day_paths(src, day), new_day_paths(dst, day), strict=True):
        d.unlink(missing_ok=True)
        os.symlink(s.resolve(), d)
