"""scripts/real_series_check.py, its pure parts: half-hours summed to days, NAB windows as days,
alerts matched to windows (found at WARNING+ / loudly, false alarms), the bar, the missing-file
error and the date shift. Numbers by hand; no network, no NAB files."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("real_series_check", REPO / "scripts" / "real_series_check.py")
assert SPEC and SPEC.loader
rsc = importlib.util.module_from_spec(SPEC)
sys.modules["real_series_check"] = rsc  # dataclasses resolve their module by name
SPEC.loader.exec_module(rsc)

D = dt.date


def test_daily_totals_sum_half_hours_by_calendar_day() -> None:
    rows = [
        ("2014-07-01 00:00:00", "10844"),
        ("2014-07-01 23:30:00", "8127"),
        ("2014-07-02 00:00:00", "5"),
        ("2014-06-30 23:30:00", "1"),  # out of order: still its own day, first
    ]
    assert rsc.daily_totals(rows) == [
        rsc.DayTotal(D(2014, 6, 30), 1, 1),
        rsc.DayTotal(D(2014, 7, 1), 18971, 2),  # 10,844 + 8,127
        rsc.DayTotal(D(2014, 7, 2), 5, 1),
    ]


def test_windows_are_whole_days_in_date_order_and_named_when_five() -> None:
    labels = {
        rsc.SERIES_KEY: [
            ["2014-11-25 12:00:00.000000", "2014-11-29 19:00:00.000000"],
            ["2014-10-30 15:30:00.000000", "2014-11-03 22:30:00.000000"],
        ]
    }
    assert rsc.windows_from_labels(labels) == [
        rsc.Window(D(2014, 10, 30), D(2014, 11, 3), ""),
        rsc.Window(D(2014, 11, 25), D(2014, 11, 29), ""),
    ]
    five = {"x": [[f"2014-0{m}-01 00:00:00", f"2014-0{m}-02 12:00:00"] for m in (5, 1, 3, 2, 4)]}
    windows = rsc.windows_from_labels(five, "x")
    assert [(w.first.month, w.name) for w in windows] == list(enumerate(rsc.INCIDENTS, start=1))


def test_match_counts_found_loud_and_false_alarms() -> None:
    windows = [rsc.Window(D(2014, 11, 25), D(2014, 11, 29), "A"), rsc.Window(D(2014, 12, 23), D(2014, 12, 27), "B")]
    alerts = [
        rsc.AlertRow(D(2014, 11, 25), "critical", is_postable=True, is_loud=False),  # A at WARNING+, quiet
        rsc.AlertRow(D(2014, 11, 29), "notice", is_postable=True, is_loud=True),  # NOTICE: does not count
        rsc.AlertRow(D(2014, 11, 30), "warning", is_postable=True, is_loud=True),  # a day past A: loud false alarm
        rsc.AlertRow(D(2014, 12, 8), "warning", is_postable=True, is_loud=False),  # quiet false alarm
        rsc.AlertRow(D(2014, 12, 27), "warning", is_postable=True, is_loud=True),  # B's last day, loud
        rsc.AlertRow(D(2014, 12, 1), "critical", is_postable=False, is_loud=False),  # held: never posted
        rsc.AlertRow(D(2014, 12, 24), "critical", is_postable=False, is_loud=False),  # held inside B
    ]
    out = rsc.match(alerts, windows)
    assert [(v.window.name, v.found, v.found_loudly) for v in out.verdicts] == [("A", True, False), ("B", True, True)]
    assert (out.found, out.found_loudly) == (2, 1)
    assert [a.day for a in out.false_alarms] == [D(2014, 11, 30), D(2014, 12, 8)]
    assert [a.day for a in out.loud_false_alarms] == [D(2014, 11, 30)]
    assert [a.day for a in out.held] == [D(2014, 12, 1), D(2014, 12, 24)]


def test_bar_says_by_how_much_it_is_missed() -> None:
    assert rsc.bar(4, 1) == "met"
    assert rsc.bar(5, 0) == "met"
    assert rsc.bar(4, 8) == "missed: 0 window(s) short, 7 false alarm(s) too many"
    assert rsc.bar(3, 1) == "missed: 1 window(s) short, 0 false alarm(s) too many"


def test_missing_files_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"nyc_taxi\.csv not found"):
        rsc.read_inputs(tmp_path)


def test_incomplete_day_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nyc_taxi.csv").write_text("timestamp,value\n2014-07-01 00:00:00,3\n")
    (tmp_path / "combined_windows.json").write_text(json.dumps({rsc.SERIES_KEY: []}))
    with pytest.raises(SystemExit, match="days without 48 half-hours: 2014-07-01"):
        rsc.read_inputs(tmp_path)


def test_the_shift_keeps_weekdays_and_us_holidays() -> None:
    days = [D(2014, 7, 1) + dt.timedelta(days=i) for i in range(215)]
    rsc.check_calendar_shift(days)  # raises when a weekday or a holiday moves
    assert D(2014, 11, 27) + rsc.SHIFT == D(2025, 11, 27)  # Thanksgiving both years
    assert D(2015, 1, 31) + rsc.SHIFT == D(2026, 1, 31)
    with pytest.raises(SystemExit, match="changes the calendar"):
        rsc.check_calendar_shift([D(2016, 12, 25)])  # Christmas 2016 -> 2027-12-26 (three leap days between)
