"""Incident-level evaluation: the matching rule, the counts and the mart readers on hand-built rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from ltx_synth.evaluate_incidents import (
    Label,
    Post,
    at_least,
    classify,
    current_posts,
    evaluate,
    labels_from_truth,
    loud_posts,
    matches,
    old_posts,
    score,
    weekly_counts,
)

D = dt.date(2026, 6, 3)  # a Wednesday


def day(offset: int) -> dt.date:
    return D + dt.timedelta(days=offset)


def post(domain: str, offset: int, scope: str, severity: str = "warning", ident: str = "x") -> Post:
    return Post(domain, day(offset), scope, severity, ident)


SPIKE = Label("usage", D, "free", "metric")
SHIFT = Label("usage", day(7), "heavy", "level_shift", day(7 + 20))
COST = Label("gpu_cost", D, "api", "idle_spike")
PARTIAL = Label("data_health", day(1), "usage", "partial_load")


@pytest.mark.parametrize(
    ("p", "label", "expected"),
    [
        (post("usage", 0, "free"), SPIKE, True),
        (post("usage", 0, "paying"), SPIKE, False),  # same day, other segment
        (post("usage", 1, "free"), SPIKE, False),  # same segment, next day
        (post("gpu_cost", 0, "api"), COST, True),
        (post("gpu_cost", 0, "studio"), COST, False),
        (post("usage", 0, "api"), COST, False),  # another domain never matches
        (post("usage", 7, "heavy"), SHIFT, True),  # a shift matches on its onset
        (post("usage", 8, "heavy"), SHIFT, False),  # not on a later day of it
        (post("data_health", 1, "usage"), PARTIAL, True),
        (post("data_health", 1, "gpu_costs"), PARTIAL, False),  # the other source
        (post("data_health", 0, "usage"), PARTIAL, False),
        (post("usage", 1, "usage"), PARTIAL, False),  # a usage post is no data-health post
    ],
)
def test_matches(p: Post, label: Label, expected: bool) -> None:
    assert matches(p, label) is expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (post("usage", 7, "heavy"), "matched"),
        (post("usage", 8, "heavy"), "in_shift"),
        (post("usage", 27, "heavy"), "in_shift"),  # the shift's last day
        (post("usage", 28, "heavy"), "unmatched"),  # the day after it
        (post("usage", 6, "heavy"), "unmatched"),  # the day before the onset
        (post("usage", 10, "free"), "unmatched"),  # inside the window, another segment
        (post("usage", 0, "free"), "matched"),
    ],
)
def test_classify(p: Post, expected: str) -> None:
    assert classify(p, [SPIKE, SHIFT]) == expected


def test_weekly_counts_include_empty_weeks() -> None:
    # D is a Wednesday: the window D-2 (Monday) .. D+18 (Sunday) touches the weeks of D, D+7, D+14
    posts = [post("usage", 0, "free"), post("usage", 1, "free"), post("usage", 16, "free")]
    assert weekly_counts(posts, day(-2), day(18)) == [2, 0, 1]
    assert weekly_counts([], day(0), day(0)) == [0]


def test_score_by_hand() -> None:
    labels = [SPIKE, SHIFT, Label("usage", day(3), "paying", "dau")]
    posts = [
        post("usage", 0, "free", ident="a"),  # matches SPIKE
        post("usage", 0, "free", ident="b"),  # matches SPIKE again (two posts, one label)
        post("usage", 9, "heavy"),  # inside the shift
        post("usage", 2, "paying"),  # a false post (the paying anomaly is on day 3)
        post("usage", 40, "free"),  # outside the window: ignored
    ]
    s = score(posts, labels, day(-2), day(30))
    assert s["posts"] == 4
    assert (s["matched_posts"], s["in_shift_posts"], s["unmatched_posts"]) == (2, 1, 1)
    assert s["precision"] == 0.5  # 2 / 4
    assert (s["labels"], s["labels_found"]) == (3, 1)
    assert s["recall"] == round(1 / 3, 4)
    assert {m["kind"] for m in s["missed"]} == {"level_shift", "dau"}
    assert s["weeks"] == 5 and s["posts_per_week_max"] == 3  # a, b and the paying post
    assert s["posts_per_week_mean"] == round(4 / 5, 2)


def test_score_without_posts_or_labels() -> None:
    s = score([], [], day(0), day(6))
    assert s["precision"] is None and s["recall"] is None and s["posts_per_week_mean"] == 0.0


def test_labels_from_truth_drops_cost_days_not_yet_finalised() -> None:
    truth = {
        "usage_anomalies": [{"dt": "2026-06-03", "segment": "free", "kind": "metric"}],
        "usage_level_shifts": [{"start": "2026-06-10", "end": "2026-06-30", "segment": "heavy"}],
        "gpu_cost_anomalies": [
            {"dt": "2026-06-03", "vertical": "api", "kind": "idle_spike"},
            {"dt": "2026-06-21", "vertical": "studio", "kind": "failure_spike"},
        ],
        "partial_loads": [{"dt": "2026-06-22", "source": "usage", "fraction": 0.4}],
    }
    labels = labels_from_truth(truth, last_cost_day=dt.date(2026, 6, 20))
    assert labels == [
        SPIKE,
        Label("usage", dt.date(2026, 6, 10), "heavy", "level_shift", dt.date(2026, 6, 30)),
        COST,
        Label("data_health", dt.date(2026, 6, 22), "usage", "partial_load"),
    ]
    assert len(labels_from_truth(truth, last_cost_day=dt.date(2026, 6, 21))) == 5


def test_at_least() -> None:
    posts = [post("usage", 0, "free", s) for s in ("notice", "warning", "critical")]
    assert [p.severity for p in at_least(posts, "warning")] == ["warning", "critical"]
    assert at_least(posts, "notice") == posts


@pytest.fixture
def marts(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "m.duckdb"))
    con.execute("create schema main_marts")
    con.execute(
        """create table main_marts.fct_alert_incidents as select * from (values
            ('i1', date '2026-06-03', 'usage', 'free', 'warning', true),
            ('i2', date '2026-06-03', 'usage', 'paying', 'critical', false),
            ('i3', date '2026-06-04', 'data_health', 'usage', 'warning', true)
        ) t(incident_id, alert_date, domain, scope, severity, is_postable)"""
    )
    con.execute(
        """create table main_marts.fct_alerts as select * from (values
            ('a1', date '2026-06-03', 'usage', 'free', 'warning', false, 'i1', true),
            ('a2', date '2026-06-03', 'usage', 'free', 'notice', false, 'i1', true),
            ('a3', date '2026-06-03', 'usage', 'enterprise_contract', 'critical', true, 'i4', false),
            ('a4', date '2026-06-03', 'gpu_cost', 'api', 'warning', false, 'i5', false),
            ('a5', date '2026-06-04', 'data_health', 'usage', 'warning', false, 'i3', false)
        ) t(alert_id, alert_date, domain, scope, severity, is_suppressed, incident_id, is_loud)"""
    )
    return con


def test_current_posts_are_the_postable_incidents(marts: duckdb.DuckDBPyConnection) -> None:
    assert [(p.ident, p.domain) for p in current_posts(marts)] == [("i1", "usage"), ("i3", "data_health")]


def test_loud_posts_are_incidents_with_a_loud_alert(marts: duckdb.DuckDBPyConnection) -> None:
    # i1 has two loud alerts: one post, at its highest loud severity; no other incident is loud
    assert [(p.ident, p.domain, p.severity) for p in loud_posts(marts)] == [("i1", "usage", "warning")]


def test_old_posts_are_every_unsuppressed_usage_and_cost_row(marts: duckdb.DuckDBPyConnection) -> None:
    # no holds, no incidents, no data-health alert; the suppressed enterprise row stays out
    assert sorted(p.ident for p in old_posts(marts)) == ["a1", "a2", "a4"]


def test_evaluate_scores_both_policies_per_domain(marts: duckdb.DuckDBPyConnection) -> None:
    truth = {
        "usage_anomalies": [{"dt": "2026-06-03", "segment": "free", "kind": "metric"}],
        "partial_loads": [{"dt": "2026-06-04", "source": "usage", "fraction": 0.4}],
    }
    result = evaluate(truth, current_posts(marts), old_posts(marts), day(-2), day(4), None)
    assert result["current"]["usage"]["precision"] == 1.0 and result["old"]["usage"]["precision"] == 1.0
    assert result["old"]["usage"]["posts"] == 2  # two rows of one incident: two posts
    assert result["current"]["data_health"]["recall"] == 1.0
    assert result["old"]["data_health"]["recall"] == 0.0
    assert result["old"]["gpu_cost"]["precision"] == 0.0  # a cost post with no cost label


def test_old_rule_vars_undo_exactly_the_weekday_change() -> None:
    import yaml

    from ltx_synth.old_rules import NEW_RULES, old_rule_vars

    project = yaml.safe_load((Path(__file__).parents[2] / "dbt_project.yml").read_text())
    shipped = project["vars"]["alert_rules"]
    old = old_rule_vars(project, "2026-11-23")
    assert old["run_date"] == "2026-11-23"
    assert old["alert_rules"]["cost_zscore"]["baseline_kind"] == "rolling"
    assert old["alert_rules"]["day_over_day_jump"]["baseline_kind"] == "previous_day"
    assert "idle_without_traffic" not in old["alert_rules"]
    changed = {k for k in shipped if k not in old["alert_rules"] or old["alert_rules"][k] != shipped[k]}
    assert changed == {"cost_zscore", "day_over_day_jump"} | (set(NEW_RULES) & set(shipped))
    assert "idle_without_traffic" in changed
    assert shipped["cost_zscore"]["baseline_kind"] == "same_weekday"  # the project itself is untouched


def test_replay_reads_each_loud_incidents_way_and_each_misses_reason() -> None:
    """The replay's per-way precision and its missed labels' reasons read fct_alerts' loud_reason, hold_reason
    and quiet_reason, never decide them again."""
    from alerting.compose import loud_way
    from tests.python.replay_year import by_way, why_missed

    assert loud_way(["account_drop", "family_wise", None]) == "family_wise"  # the model's order, not the rows'
    assert loud_way(["threshold", "large_effect"]) == "large_effect"
    assert loud_way([None]) is None
    loud = [{"way": "family_wise", "class": "matched"}, {"way": "family_wise", "class": "unmatched"},
            {"way": "account_drop", "class": "in_shift"}]  # fmt: skip
    assert by_way(loud) == {
        "account_drop": {"matched": 0, "in_shift": 1, "unmatched": 0},
        "family_wise": {"matched": 1, "in_shift": 0, "unmatched": 1},
    }
    assert why_missed([]) == "no alert"
    rows = [("insufficient_baseline", "held"), (None, "below_severity"), (None, "below_severity"), (None, None)]
    assert why_missed(rows) == "below_severity, held: insufficient_baseline, loud: a plain thread reply"
