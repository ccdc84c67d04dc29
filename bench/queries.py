"""The two hand-written DuckDB queries the pipeline is measured against.

* ``FLOOR_SQL`` — the physical floor: read the new day's raw rows once and
  aggregate them (usage per segment x metric, GPU cost per vertical x category).
  Segments here use enterprise membership and tier only: "heavy" needs the
  previous week, which a floor does not read.
* ``REFERENCE_SQL`` — the playbook's way (seeds/usage-monitor.md): ONE query over
  the last 70 days of raw rows (+ the complete week before, for "heavy") that
  segments users, aggregates per day, zero-fills, collects the last 10
  same-weekday values with ``array_agg`` over a window frame and scores the day.

All values (day, globs, thresholds) are query parameters.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ltx_synth.generate import ENTERPRISE_DIR, GPU_DIR, USAGE_DIR

FLOOR_SQL = """
with

enterprise as (
    select lt_id, any_value(organization_name) as organization_name, any_value(contract_type) as contract_type
    from read_parquet($enterprise_glob)
    group by lt_id
),

usage_day as (
    select
        case
            when e.organization_name in ('Lightricks', 'Popular Pays') then null
            when e.contract_type = 'contract' then 'enterprise_contract'
            when e.contract_type = 'pilot' then 'enterprise_pilot'
            when u.griffin_tier_name in ('Lite', 'Standard', 'Pro') then 'paying'
            else 'free'
        end as segment,
        u.lt_id,
        u.num_tokens_consumed,
        u.num_generate_image,
        u.num_generate_video
    from read_parquet($usage_glob) as u
    left join enterprise as e on u.lt_id = e.lt_id
    where u.dt = $day
),

usage_agg as (
    select
        'usage' as domain,
        segment as scope,
        count(distinct lt_id) as dau,
        sum(num_generate_image) as image_generations,
        sum(num_generate_video) as video_generations,
        sum(num_tokens_consumed) as tokens
    from usage_day
    where segment is not null
    group by segment
),

usage_long as (
    unpivot usage_agg on dau, image_generations, video_generations, tokens into name metric value value
),

gpu_agg as (
    select
        'gpu_cost' as domain,
        vertical as scope,
        cost_category as metric,
        sum(row_cost) as value
    from read_parquet($gpu_glob)
    where dt = $day
    group by vertical, cost_category
)

select domain, scope, metric, cast(value as double) as value from usage_long
union all
select domain, scope, metric, value from gpu_agg
order by domain, scope, metric
"""

REFERENCE_SQL = """
with

params as (
    select cast($day as date) as day
),

raw_usage as (
    select dt, lt_id, griffin_tier_name, num_tokens_consumed, num_generate_image, num_generate_video
    from read_parquet($usage_glob)
    where dt between cast($day as date) - interval 84 day and cast($day as date)
),

enterprise as (
    select lt_id, any_value(organization_name) as organization_name, any_value(contract_type) as contract_type
    from read_parquet($enterprise_glob)
    group by lt_id
),

weekly_activity as (
    select
        lt_id,
        cast(date_trunc('week', dt) as date) as week_start,
        count(*) as active_days,
        sum(num_tokens_consumed) as tokens
    from raw_usage
    group by all
),

segmented as (
    select
        u.dt,
        u.lt_id,
        u.num_tokens_consumed,
        u.num_generate_image,
        u.num_generate_video,
        case
            when e.organization_name in ('Lightricks', 'Popular Pays') then null
            when e.contract_type = 'contract' then 'enterprise_contract'
            when e.contract_type = 'pilot' then 'enterprise_pilot'
            when coalesce(w.active_days, 0) >= $heavy_min_active_days
                and coalesce(w.tokens, 0) >= $heavy_min_tokens then 'heavy'
            when u.griffin_tier_name in ('Lite', 'Standard', 'Pro') then 'paying'
            else 'free'
        end as segment
    from raw_usage as u
    left join enterprise as e on u.lt_id = e.lt_id
    left join weekly_activity as w
        on u.lt_id = w.lt_id
        and w.week_start = cast(date_trunc('week', u.dt) as date) - interval 7 day
    where u.dt >= (select day from params) - interval 70 day
),

daily as (
    select
        dt,
        segment,
        count(distinct lt_id) as dau,
        sum(num_generate_image) as image_generations,
        sum(num_generate_video) as video_generations,
        sum(num_tokens_consumed) as tokens
    from segmented
    where segment is not null
    group by dt, segment
),

grid as (
    select cast(d.range as date) as dt, s.segment
    from range(
        (select day from params) - interval 70 day, (select day from params) + interval 1 day, interval 1 day
    ) as d
    cross join (
        values ('enterprise_contract'), ('enterprise_pilot'), ('heavy'), ('paying'), ('free')
    ) as s (segment)
),

filled as (
    select
        g.dt,
        g.segment,
        cast(coalesce(d.dau, 0) as double) as dau,
        cast(coalesce(d.image_generations, 0) as double) as image_generations,
        cast(coalesce(d.video_generations, 0) as double) as video_generations,
        cast(coalesce(d.tokens, 0) as double) as tokens
    from grid as g
    left join daily as d on g.dt = d.dt and g.segment = d.segment
),

long as (
    unpivot filled on dau, image_generations, video_generations, tokens into name metric value value
),

with_history as (
    select
        dt,
        segment,
        metric,
        value,
        array_agg(value) over (
            partition by segment, metric, dayofweek(dt) order by dt
            rows between 10 preceding and 1 preceding
        ) as history
    from long
),

scored as (
    select
        dt,
        segment,
        metric,
        value,
        len(history) as baseline_points,
        list_avg(history) as baseline_mean,
        list_stddev_samp(history) as baseline_stddev
    from with_history
    where dt = (select day from params)
)

select
    dt,
    segment,
    metric,
    value,
    baseline_points,
    baseline_mean,
    baseline_stddev,
    (value - baseline_mean) / nullif(baseline_stddev, 0) as z_score,
    (value - baseline_mean) / nullif(baseline_mean, 0) as pct_change,
    case
        when abs((value - baseline_mean) / nullif(baseline_stddev, 0)) > 4.5 then 'critical'
        when abs((value - baseline_mean) / nullif(baseline_stddev, 0)) > 3 then 'warning'
        when abs((value - baseline_mean) / nullif(baseline_stddev, 0)) > 2 then 'notice'
        else 'none'
    end as severity
from scored
order by segment, metric
"""


def query_params(raw_dir: Path, day: dt.date) -> dict:
    return {
        "usage_glob": str(raw_dir / USAGE_DIR / "*.parquet"),
        "gpu_glob": str(raw_dir / GPU_DIR / "*.parquet"),
        "enterprise_glob": str(raw_dir / ENTERPRISE_DIR / "*.parquet"),
        "day": day,
    }


def floor_params(raw_dir: Path, day: dt.date) -> dict:
    return query_params(raw_dir, day)


def reference_params(raw_dir: Path, day: dt.date, heavy_min_active_days: int, heavy_min_tokens: int) -> dict:
    params = query_params(raw_dir, day)
    del params["gpu_glob"]
    return {**params, "heavy_min_active_days": heavy_min_active_days, "heavy_min_tokens": heavy_min_tokens}
