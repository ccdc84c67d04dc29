"""Vectorised, seed-deterministic generator of the three raw tables.

Shape and column types follow DESIGN.md §3.2.  The generator knows the "true"
segment of every synthetic user, so it can inject labelled anomalies per
segment x metric x day and per GPU vertical x day and write them to a
ground-truth file used to measure detection quality.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

USAGE_DIR = "ltxstudio_agg_user_date"
ENTERPRISE_DIR = "enterprise_users"
GPU_DIR = "gpu_request_attribution_and_cost"
GROUND_TRUTH_FILE = "ground_truth.json"

USAGE_METRICS = ("dau", "image_generations", "video_generations", "tokens")
SEGMENTS = ("enterprise_contract", "enterprise_pilot", "heavy", "paying", "free")

# (organization_id, organization_name, contract_type, share of enterprise seats, teams)
ORGS = (
    ("org_mccann", "McCann", "contract", 0.30, ("NY", "Paris")),
    ("org_acme", "Acme Studios", "contract", 0.20, (None,)),
    ("org_nimbus", "Nimbus Media", "pilot", 0.15, (None,)),
    ("org_orbit", "Orbit & Co <Films>", "pilot", 0.10, (None,)),
    ("org_lightricks", "Lightricks", "contract", 0.15, (None,)),
    ("org_popular_pays", "Popular Pays", "contract", 0.10, (None,)),
)
EXCLUDED_ORGS = ("Lightricks", "Popular Pays")

# tier of a non-enterprise user; None and "Legacy" exercise the unknown-tier path
TIERS = ("Free", "Lite", "Standard", "Pro", None, "Legacy")
TIER_P = (0.64, 0.12, 0.10, 0.08, 0.04, 0.02)
PAID_TIERS = ("Lite", "Standard", "Pro")

USAGE_SCHEMA = pa.schema(
    [
        ("dt", pa.date32()),
        ("lt_id", pa.string()),
        ("griffin_tier_name", pa.string()),
        ("num_tokens_consumed", pa.int64()),
        ("num_generate_image", pa.int64()),
        ("num_generate_video", pa.int64()),
    ]
)
ENTERPRISE_SCHEMA = pa.schema(
    [
        ("lt_id", pa.string()),
        ("organization_id", pa.string()),
        ("organization_name", pa.string()),
        ("team_name", pa.string()),
        ("contract_type", pa.string()),
    ]
)
GPU_SCHEMA = pa.schema(
    [
        ("dt", pa.date32()),
        ("request_id", pa.string()),
        ("vertical", pa.string()),
        ("cost_category", pa.string()),
        ("endpoint", pa.string()),
        ("model_type", pa.string()),
        ("organization_name", pa.string()),
        ("process_name", pa.string()),
        ("workspace_id", pa.string()),
        ("result", pa.string()),
        ("is_lt_team", pa.bool_()),
        ("gpu_type", pa.string()),
        ("row_cost", pa.float64()),
        ("attributed_idle_cost", pa.float64()),
        ("attributed_overhead_cost", pa.float64()),
    ]
)

API_ENDPOINTS = ("/v1/text-to-video", "/v1/image-to-video", "/v1/text-to-image")
API_MODELS = ("ltxv-2b", "ltxv-13b", "ltxv-13b-distilled")
API_ORGS = ("Acme Studios", "Nimbus Media", "Pixel Forge", "Orbit & Co <Films>", "Self-serve")
# the scenario switches' fixed choices (labelled in ground_truth.json)
VOLUME_SPIKE_DRIVER = {"organization_name": "Pixel Forge", "endpoint": "/v1/image-to-video"}
VOLUME_SPIKE_FACTOR = 5.0
IDLE_SPIKE_FACTOR = 3.0
FAILURE_SPIKE_DRIVER = {"endpoint": "/v1/image-to-video"}
FAILURE_SPIKE_RATE = 0.85
STUDIO_PROCESSES = ("storyboard", "video_generation", "image_generation", "upscale")
STUDIO_MODELS = ("ltxv-13b", "flux-dev", "ltxv-2b")
GPU_TYPES = ("H100", "A100")
# mean row_cost per inference request and the daily idle / overhead / unused
# cost expressed per request of the vertical (keeps totals scale-free)
VERTICALS = {
    "api": {"requests": 0.55, "row_cost": 0.09, "idle": 0.20, "overhead": 0.03, "unused": 0.04},
    "studio": {"requests": 1.0, "row_cost": 0.06, "idle": 0.14, "overhead": 0.02, "unused": 0.03},
}


@dataclass(frozen=True)
class Config:
    seed: int = 42
    end_date: dt.date = dt.date(2026, 11, 22)
    days: int = 120
    users: int = 5000
    gpu_requests_per_day: int = 1500
    usage_anomalies: int = 8
    cost_anomalies: int = 4
    # demo: one labelled usage anomaly on the last day and one cost anomaly on the
    # day the cost alerts evaluate (end_date - 2 = run date - 3), so a dry run has something to show
    anomaly_on_last_day: bool = False
    # scenario switches (all off by default: the default output stays byte-identical).
    # weekend request level per vertical, e.g. (("studio", 0.6),); unnamed verticals keep 0.8
    gpu_weekend_factor: tuple[tuple[str, float], ...] = ()
    # request level per vertical, e.g. (("api", 3.0),) makes API most of the request rows
    gpu_volume_factor: tuple[tuple[str, float], ...] = ()
    # API: one organisation on one endpoint sends VOLUME_SPIKE_FACTOR x its requests that day
    org_volume_spike: dt.date | None = None
    # Studio: idle cost x IDLE_SPIKE_FACTOR that day, traffic unchanged
    studio_idle_spike: dt.date | None = None
    # API: no inference request at all that day (an outage), idle / overhead / unused as usual
    api_outage: dt.date | None = None
    # API: FAILURE_SPIKE_RATE of the requests on FAILURE_SPIKE_DRIVER's endpoint fail that day
    api_failure_spike: dt.date | None = None
    # API: idle cost x IDLE_SPIKE_FACTOR that day, traffic unchanged
    api_idle_spike: dt.date | None = None
    # usage level shifts: (segment, metric, first day, days, factor); metric dau (factor < 1),
    # tokens, image_generations or video_generations; labelled in ground_truth.json
    usage_level_shifts: tuple[tuple[str, str, dt.date, int, float], ...] = ()
    # a partial load: the last day's usage file keeps only this fraction of its users
    # (lt_id number mod 100 < fraction x 100); labelled in ground_truth.json as partial_loads
    partial_last_day: float | None = None
    # public holidays / days off: users and GPU requests behave as on a weekend that day
    # (listed in ground_truth.json as `holidays`: expected, not anomalies)
    holidays: tuple[dt.date, ...] = ()
    # yearly growth of the user base: 0.5 = the regular (non-enterprise) users active at the end
    # are 1.5x those at the start; the newcomers join on days spread evenly over the period
    user_growth: float = 0.0
    # corruption switches, used by tests that prove bad input fails the build
    duplicate_user_day: bool = False
    negative_cost: bool = False
    double_idle_attribution: bool = False
    unknown_cost_category: bool = False

    @property
    def start_date(self) -> dt.date:
        return self.end_date - dt.timedelta(days=self.days - 1)


@dataclass
class Population:
    lt_id: np.ndarray
    tier: np.ndarray  # object array, may hold None
    segment: np.ndarray  # generator's ground-truth segment ("excluded" for internal orgs)
    org_index: np.ndarray  # -1 when not enterprise
    team: np.ndarray
    propensity: np.ndarray  # probability of being active on a weekday
    token_scale: np.ndarray
    weekend_factor: np.ndarray
    joins_on_day: np.ndarray  # day index (0 = start_date) from which the user can be active


@dataclass
class GroundTruth:
    usage: list[dict] = field(default_factory=list)
    gpu_cost: list[dict] = field(default_factory=list)


def make_population(cfg: Config, rng: np.random.Generator) -> Population:
    n = cfg.users
    n_ent = max(len(ORGS) * 4, round(n * 0.04))
    n_reg = n - n_ent
    lt_id = np.array([f"u{i:08d}" for i in range(n)], dtype=object)

    shares = np.array([o[3] for o in ORGS])
    org_index = np.concatenate([rng.choice(len(ORGS), size=n_ent, p=shares / shares.sum()), np.full(n_reg, -1)])
    team = np.full(n, None, dtype=object)
    segment = np.empty(n, dtype=object)
    tier = np.empty(n, dtype=object)
    for k, (_, name, ctype, _, teams) in enumerate(ORGS):
        members = np.flatnonzero(org_index == k)
        team[members] = rng.choice(np.array(teams, dtype=object), size=members.size)
        segment[members] = "excluded" if name in EXCLUDED_ORGS else f"enterprise_{ctype}"
    tier[:n_ent] = rng.choice(np.array(["Pro", "Standard"], dtype=object), size=n_ent)

    tier[n_ent:] = rng.choice(np.array(TIERS, dtype=object), size=n_reg, p=TIER_P)
    heavy = np.zeros(n, dtype=bool)
    heavy[n_ent:] = rng.random(n_reg) < 0.04
    paid = np.isin(tier, PAID_TIERS)
    regular = org_index < 0
    segment[regular & heavy] = "heavy"
    segment[regular & ~heavy & paid] = "paying"
    segment[regular & ~heavy & ~paid] = "free"

    propensity = np.clip(rng.beta(1.3, 4.5, size=n), 0.02, 0.55)
    propensity[org_index >= 0] = rng.uniform(0.55, 0.85, size=n_ent)
    propensity[heavy] = rng.uniform(0.9, 0.99, size=heavy.sum())
    token_scale = rng.lognormal(mean=np.log(2500), sigma=0.6, size=n)
    token_scale[paid] *= 1.8
    token_scale[heavy] *= 7.0
    token_scale[org_index >= 0] *= 2.5
    weekend_factor = np.where(org_index >= 0, 0.04, np.where(heavy, 0.9, 0.65))
    joins_on_day = np.zeros(n, dtype=np.int64)
    if cfg.user_growth > 0:
        # a stream of its own, so the population above is the same with and without growth
        growth_rng = np.random.default_rng([cfg.seed, 0, 3])
        newcomer = regular & (growth_rng.random(n) < (1 - 1 / (1 + cfg.user_growth * cfg.days / 365)))
        joins_on_day[newcomer] = growth_rng.integers(1, cfg.days, size=newcomer.sum())
    return Population(lt_id, tier, segment, org_index, team, propensity, token_scale, weekend_factor, joins_on_day)


def enterprise_table(pop: Population) -> pa.Table:
    idx = np.flatnonzero(pop.org_index >= 0)
    return pa.table(
        {
            "lt_id": pop.lt_id[idx].tolist(),
            "organization_id": [ORGS[k][0] for k in pop.org_index[idx]],
            "organization_name": [ORGS[k][1] for k in pop.org_index[idx]],
            "team_name": pop.team[idx].tolist(),
            "contract_type": [ORGS[k][2] for k in pop.org_index[idx]],
        },
        schema=ENTERPRISE_SCHEMA,
    )


def plan_usage_anomalies(cfg: Config, rng: np.random.Generator) -> list[dict]:
    """Pick labelled anomalies on days that have a full 10-week baseline."""
    first = 70
    if cfg.days <= first or cfg.usage_anomalies <= 0:
        return []
    candidates = [cfg.start_date + dt.timedelta(days=d) for d in range(first, cfg.days)]
    weekdays = [d for d in candidates if d.weekday() < 5]
    plans: list[dict] = []
    used: set[tuple[str, dt.date]] = set()
    kinds = ["metric", "metric", "dau"]
    while len(plans) < cfg.usage_anomalies and len(used) < len(weekdays) * len(SEGMENTS):
        segment = SEGMENTS[rng.integers(len(SEGMENTS))]
        day = weekdays[rng.integers(len(weekdays))]
        if (segment, day) in used:
            continue
        used.add((segment, day))
        kind = kinds[rng.integers(len(kinds))]
        if kind == "dau":
            factor = float(rng.choice([0.35, 0.5]))
            metrics = list(USAGE_METRICS)
            metric = "dau"
        else:
            metric = USAGE_METRICS[1 + rng.integers(3)]
            factor = float(rng.choice([0.3, 2.2, 3.0]))
            metrics = [metric]
        plans.append(
            {
                "dt": day.isoformat(),
                "segment": segment,
                "kind": kind,
                "metric": metric,
                "factor": factor,
                "direction": "increase" if factor > 1 else "decrease",
                "affected_metrics": metrics,
            }
        )
    if cfg.anomaly_on_last_day:
        plans = [p for p in plans if p["dt"] != cfg.end_date.isoformat()]
        plans.append(
            {
                "dt": cfg.end_date.isoformat(),
                "segment": "free",
                "kind": "metric",
                "metric": "tokens",
                "factor": 2.2,
                "direction": "increase",
                "affected_metrics": ["tokens"],
            }
        )
    return sorted(plans, key=lambda p: (p["dt"], p["segment"]))


def usage_day(
    cfg: Config,
    pop: Population,
    day: dt.date,
    rng: np.random.Generator,
    anomalies: list[dict],
) -> pa.Table:
    weekend = day.weekday() >= 5 or day in cfg.holidays
    day_noise = rng.lognormal(0.0, 0.04)
    p = pop.propensity * (pop.weekend_factor if weekend else 1.0) * day_noise
    p = np.where(pop.joins_on_day <= (day - cfg.start_date).days, p, 0.0)
    active = rng.random(p.size) < p
    todays = [a for a in anomalies if a["dt"] == day.isoformat()]
    todays += [
        {"kind": "dau" if metric == "dau" else "metric", "segment": segment, "metric": metric, "factor": factor}
        for segment, metric, first, length, factor in cfg.usage_level_shifts
        if first <= day < first + dt.timedelta(days=length)
    ]
    for a in todays:
        if a["kind"] == "dau":
            in_seg = active & (pop.segment == a["segment"])
            drop = in_seg & (rng.random(p.size) > a["factor"])
            active &= ~drop
    idx = np.flatnonzero(active)
    n = idx.size
    tokens = rng.lognormal(np.log(pop.token_scale[idx]), 0.5)
    images = rng.poisson(np.maximum(tokens / 900.0, 0.2))
    videos = rng.poisson(np.maximum(tokens / 2600.0, 0.1))
    seg = pop.segment[idx]
    for a in todays:
        if a["kind"] != "metric":
            continue
        hit = seg == a["segment"]
        if a["metric"] == "tokens":
            tokens = np.where(hit, tokens * a["factor"], tokens)
        elif a["metric"] == "image_generations":
            images = np.where(hit, np.round(images * a["factor"]), images)
        else:
            videos = np.where(hit, np.round(videos * a["factor"]), videos)
    table = pa.table(
        {
            "dt": pa.array(np.full(n, day), type=pa.date32()),
            "lt_id": pop.lt_id[idx].tolist(),
            "griffin_tier_name": pop.tier[idx].tolist(),
            "num_tokens_consumed": np.round(tokens).astype(np.int64),
            "num_generate_image": images.astype(np.int64),
            "num_generate_video": videos.astype(np.int64),
        },
        schema=USAGE_SCHEMA,
    )
    if cfg.duplicate_user_day and day == cfg.end_date and n:
        table = pa.concat_tables([table, table.slice(0, 1)])
    if cfg.partial_last_day is not None and day == cfg.end_date:
        table = table.filter(pa.array(_kept_in_partial_load(pop.lt_id[idx], cfg.partial_last_day)))
    return table


def _kept_in_partial_load(lt_ids: np.ndarray, fraction: float) -> np.ndarray:
    """Rows a partial load keeps: users whose number mod 100 is below fraction x 100."""
    numbers = np.array([int(x[1:]) for x in lt_ids], dtype=np.int64)
    return numbers % 100 < round(fraction * 100)


def plan_cost_anomalies(cfg: Config, rng: np.random.Generator) -> list[dict]:
    return _with_scenarios(cfg, _planned_cost_anomalies(cfg, rng))


def _planned_cost_anomalies(cfg: Config, rng: np.random.Generator) -> list[dict]:
    first = 21
    if cfg.days <= first or cfg.cost_anomalies <= 0:
        return []
    days = [cfg.start_date + dt.timedelta(days=d) for d in range(first, cfg.days)]
    kinds = ("idle_spike", "inference_spike", "failure_spike")
    plans: list[dict] = []
    used: set[dt.date] = set()
    while len(plans) < cfg.cost_anomalies and len(used) < len(days):
        day = days[rng.integers(len(days))]
        # keep a clean week between cost anomalies so each one is judged alone
        if any(abs((day - u).days) < 8 for u in used):
            if len(used) * 16 >= len(days):
                break
            continue
        used.add(day)
        vertical = ("api", "studio")[rng.integers(2)]
        kind = kinds[len(plans) % len(kinds)]
        plan = {"dt": day.isoformat(), "vertical": vertical, "kind": kind}
        if kind == "inference_spike":
            if vertical == "api":
                plan["driver"] = {
                    "endpoint": API_ENDPOINTS[rng.integers(len(API_ENDPOINTS))],
                    "model_type": API_MODELS[rng.integers(len(API_MODELS))],
                }
            else:
                plan["driver"] = {"process_name": STUDIO_PROCESSES[rng.integers(len(STUDIO_PROCESSES))]}
            plan["factor"] = 6.0
        elif kind == "idle_spike":
            plan["factor"] = 4.0
        else:
            plan["driver"] = (
                {"endpoint": API_ENDPOINTS[rng.integers(len(API_ENDPOINTS))]}
                if vertical == "api"
                else {"process_name": STUDIO_PROCESSES[rng.integers(len(STUDIO_PROCESSES))]}
            )
            plan["failure_rate"] = 0.85
        plans.append(plan)
    if cfg.anomaly_on_last_day:
        day = (cfg.end_date - dt.timedelta(days=2)).isoformat()
        plans = [p for p in plans if p["dt"] != day]
        plans.append({"dt": day, "vertical": "api", "kind": "idle_spike", "factor": 4.0})
    return plans


def _with_scenarios(cfg: Config, plans: list[dict]) -> list[dict]:
    """The scenario switches' labelled cost events replace any planned one on their day x vertical."""
    scenarios = []
    if cfg.org_volume_spike:
        scenarios.append(
            {
                "dt": cfg.org_volume_spike.isoformat(),
                "vertical": "api",
                "kind": "volume_spike",
                "driver": dict(VOLUME_SPIKE_DRIVER),
                "factor": VOLUME_SPIKE_FACTOR,
            }
        )
    for vertical, day in (("studio", cfg.studio_idle_spike), ("api", cfg.api_idle_spike)):
        if day:
            scenarios.append(
                {"dt": day.isoformat(), "vertical": vertical, "kind": "idle_spike", "factor": IDLE_SPIKE_FACTOR}
            )
    if cfg.api_failure_spike:
        scenarios.append(
            {
                "dt": cfg.api_failure_spike.isoformat(),
                "vertical": "api",
                "kind": "failure_spike",
                "driver": dict(FAILURE_SPIKE_DRIVER),
                "failure_rate": FAILURE_SPIKE_RATE,
            }
        )
    if cfg.api_outage:
        scenarios.append({"dt": cfg.api_outage.isoformat(), "vertical": "api", "kind": "zero_traffic"})
    taken = {(p["dt"], p["vertical"]) for p in scenarios}
    plans = [p for p in plans if (p["dt"], p["vertical"]) not in taken] + scenarios
    return sorted(plans, key=lambda p: (p["dt"], p["vertical"]))


def plan_usage_level_shifts(cfg: Config) -> list[dict]:
    return [
        {
            "start": first.isoformat(),
            "end": (first + dt.timedelta(days=length - 1)).isoformat(),
            "segment": segment,
            "metric": metric,
            "factor": factor,
            "direction": "increase" if factor > 1 else "decrease",
        }
        for segment, metric, first, length, factor in cfg.usage_level_shifts
    ]


def _pick(rng: np.random.Generator, values: tuple, n: int, p: tuple | None = None) -> np.ndarray:
    return rng.choice(np.array(values, dtype=object), size=n, p=p)


def gpu_day(cfg: Config, day: dt.date, rng: np.random.Generator, anomalies: list[dict]) -> pa.Table:
    parts: list[pa.Table] = []
    weekend = day.weekday() >= 5
    todays = {a["vertical"]: a for a in anomalies if a["dt"] == day.isoformat()}
    weekend_factor = dict(cfg.gpu_weekend_factor)
    volume_factor = dict(cfg.gpu_volume_factor)
    for vertical, spec in VERTICALS.items():
        base = cfg.gpu_requests_per_day * spec["requests"] * (weekend_factor.get(vertical, 0.8) if weekend else 1.0)
        base *= volume_factor.get(vertical, 1.0)
        n = max(int(rng.poisson(base)), 10)
        anomaly = todays.get(vertical)
        if anomaly and anomaly["kind"] == "zero_traffic":
            n = 0
        if vertical == "api":
            endpoint = _pick(rng, API_ENDPOINTS, n, (0.5, 0.3, 0.2))
            model = _pick(rng, API_MODELS, n, (0.4, 0.35, 0.25))
            org = _pick(rng, API_ORGS, n, (0.35, 0.2, 0.2, 0.1, 0.15))
            if anomaly and anomaly["kind"] == "volume_spike":
                driver = anomaly["driver"]
                hit = (org == driver["organization_name"]) & (endpoint == driver["endpoint"])
                extra = int(hit.sum() * (anomaly["factor"] - 1) + 0.5)
                endpoint = np.concatenate([endpoint, np.full(extra, driver["endpoint"], dtype=object)])
                org = np.concatenate([org, np.full(extra, driver["organization_name"], dtype=object)])
                model = np.concatenate([model, _pick(rng, API_MODELS, extra, (0.4, 0.35, 0.25))])
                n += extra
            process = np.full(n, None, dtype=object)
            workspace = np.full(n, None, dtype=object)
            model_factor = np.select([model == "ltxv-13b", model == "ltxv-13b-distilled"], [1.6, 0.9], 0.6)
        else:
            endpoint = np.full(n, None, dtype=object)
            process = _pick(rng, STUDIO_PROCESSES, n, (0.15, 0.45, 0.3, 0.1))
            model = _pick(rng, STUDIO_MODELS, n, (0.55, 0.3, 0.15))
            org = np.full(n, None, dtype=object)
            workspace = np.array([f"ws_{k:04d}" for k in rng.integers(0, 400, size=n)], dtype=object)
            model_factor = np.select([model == "ltxv-13b", model == "flux-dev"], [1.4, 0.7], 0.6)
        gpu = _pick(rng, GPU_TYPES, n, (0.6, 0.4))
        is_lt = rng.random(n) < 0.05
        fail_p = np.full(n, 0.08)
        if anomaly and anomaly["kind"] == "failure_spike":
            fail_p = np.where(_matches(anomaly["driver"], endpoint, model, process), anomaly["failure_rate"], fail_p)
        failed = rng.random(n) < fail_p
        result = np.where(failed, np.where(rng.random(n) < 0.6, "failed", "timeout"), "success").astype(object)
        row_cost = spec["row_cost"] * model_factor * rng.lognormal(0.0, 0.35, size=n)
        if anomaly and anomaly["kind"] == "inference_spike":
            hit = _matches(anomaly["driver"], endpoint, model, process)
            row_cost = np.where(hit, row_cost * anomaly["factor"], row_cost)
        day_level = rng.lognormal(0.0, 0.03)
        idle_total = spec["idle"] * base * day_level
        if anomaly and anomaly["kind"] == "idle_spike":
            idle_total *= anomaly["factor"]
        overhead_total = spec["overhead"] * base * day_level
        unused_total = spec["unused"] * base * day_level

        # attribute idle / overhead per gpu type, proportionally to row_cost
        idle_attr = np.zeros(n)
        over_attr = np.zeros(n)
        cat_rows: list[tuple[str, str, float]] = []
        gpu_share = {"H100": 0.65, "A100": 0.35}
        for g in GPU_TYPES:
            mask = gpu == g
            weight = row_cost * mask
            idle_g = idle_total * gpu_share[g]
            over_g = overhead_total * gpu_share[g]
            if weight.sum() > 0:  # no request of this gpu type that day: its idle stays unattributed, not NaN
                idle_attr += idle_g * weight / weight.sum()
                over_attr += over_g * weight / weight.sum()
            cat_rows += [
                ("idle", g, idle_g),
                ("overhead", g, over_g),
                ("unused", g, unused_total * gpu_share[g]),
            ]
        if cfg.double_idle_attribution and day == cfg.end_date:
            idle_attr *= 2.0
        request_id = np.array([f"{vertical}-{day:%Y%m%d}-{i:07d}" for i in range(n)], dtype=object)
        parts.append(
            pa.table(
                {
                    "dt": pa.array(np.full(n, day), type=pa.date32()),
                    "request_id": request_id.tolist(),
                    "vertical": [vertical] * n,
                    "cost_category": ["inference"] * n,
                    "endpoint": endpoint.tolist(),
                    "model_type": model.tolist(),
                    "organization_name": org.tolist(),
                    "process_name": process.tolist(),
                    "workspace_id": workspace.tolist(),
                    "result": result.tolist(),
                    "is_lt_team": is_lt,
                    "gpu_type": gpu.tolist(),
                    "row_cost": row_cost,
                    "attributed_idle_cost": idle_attr,
                    "attributed_overhead_cost": over_attr,
                },
                schema=GPU_SCHEMA,
            )
        )
        m = len(cat_rows)
        categories = [c for c, _, _ in cat_rows]
        if cfg.unknown_cost_category and day == cfg.end_date and vertical == "api":
            categories[-1] = "storage"
        parts.append(
            pa.table(
                {
                    "dt": pa.array(np.full(m, day), type=pa.date32()),
                    "request_id": [None] * m,
                    "vertical": [vertical] * m,
                    "cost_category": categories,
                    "endpoint": [None] * m,
                    "model_type": [None] * m,
                    "organization_name": [None] * m,
                    "process_name": [None] * m,
                    "workspace_id": [None] * m,
                    "result": [None] * m,
                    "is_lt_team": [False] * m,
                    "gpu_type": [g for _, g, _ in cat_rows],
                    "row_cost": [c for _, _, c in cat_rows],
                    "attributed_idle_cost": [0.0] * m,
                    "attributed_overhead_cost": [0.0] * m,
                },
                schema=GPU_SCHEMA,
            )
        )
    table = pa.concat_tables(parts)
    if cfg.negative_cost and day == cfg.end_date:
        costs = table.column("row_cost").to_numpy().copy()
        costs[0] = -abs(costs[0]) - 1.0
        table = table.set_column(table.schema.get_field_index("row_cost"), "row_cost", pa.array(costs))
    return table


def _matches(driver: dict, endpoint: np.ndarray, model: np.ndarray, process: np.ndarray) -> np.ndarray:
    cols = {"endpoint": endpoint, "model_type": model, "process_name": process}
    mask = np.ones(endpoint.size, dtype=bool)
    for key, value in driver.items():
        mask &= cols[key] == value
    return mask


def generate(cfg: Config, out: Path) -> dict:
    """Write the raw Parquet set under ``out``; return a summary."""
    rng = np.random.default_rng(cfg.seed)
    pop = make_population(cfg, rng)
    truth = GroundTruth(
        usage=plan_usage_anomalies(cfg, rng),
        gpu_cost=plan_cost_anomalies(cfg, rng),
    )
    level_shifts = plan_usage_level_shifts(cfg)
    for sub in (USAGE_DIR, ENTERPRISE_DIR, GPU_DIR):
        (out / sub).mkdir(parents=True, exist_ok=True)
        for old in (out / sub).glob("*.parquet"):
            old.unlink()
    pq.write_table(enterprise_table(pop), out / ENTERPRISE_DIR / "enterprise_users.parquet")
    usage_rows = gpu_rows = 0
    for d in range(cfg.days):
        day = cfg.start_date + dt.timedelta(days=d)
        # one child stream per day and table: adding days never reshuffles earlier ones
        day_rng = np.random.default_rng([cfg.seed, d, 1])
        usage = usage_day(cfg, pop, day, day_rng, truth.usage)
        pq.write_table(usage, out / USAGE_DIR / f"{day.isoformat()}.parquet")
        gpu = gpu_day(cfg, day, np.random.default_rng([cfg.seed, d, 2]), truth.gpu_cost)
        pq.write_table(gpu, out / GPU_DIR / f"{day.isoformat()}.parquet")
        usage_rows += usage.num_rows
        gpu_rows += gpu.num_rows
    summary = {
        "seed": cfg.seed,
        "start_date": cfg.start_date.isoformat(),
        "end_date": cfg.end_date.isoformat(),
        "days": cfg.days,
        "users": cfg.users,
        "user_day_rows": usage_rows,
        "gpu_rows": gpu_rows,
        "usage_anomalies": truth.usage,
        "gpu_cost_anomalies": truth.gpu_cost,
    }
    if level_shifts:
        summary["usage_level_shifts"] = level_shifts
    if cfg.holidays:
        summary["holidays"] = sorted(d.isoformat() for d in cfg.holidays if cfg.start_date <= d <= cfg.end_date)
    if cfg.user_growth:
        summary["user_growth"] = cfg.user_growth
    if cfg.partial_last_day is not None:
        summary["partial_loads"] = [
            {"dt": cfg.end_date.isoformat(), "source": "usage", "fraction": cfg.partial_last_day}
        ]
    (out / GROUND_TRUTH_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary
