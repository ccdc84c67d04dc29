"""scripts/generate_calendar_events.py: holidays from the `holidays` library, the days around
them commonly taken off, hand-added rows kept, and the shipped seed is what the script writes."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("gen", REPO / "scripts" / "generate_calendar_events.py")
assert SPEC and SPEC.loader
gen = importlib.util.module_from_spec(SPEC)
sys.modules["gen"] = gen  # dataclasses resolve their module by name
SPEC.loader.exec_module(gen)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_us_2026_holidays_and_days_off() -> None:
    by_day = {e.starts_on: e for e in gen.holiday_events(["US"], [2026])}
    assert by_day["2026-11-26"].name == "Thanksgiving Day"
    assert by_day["2026-11-26"].kind == "public_holiday"
    assert (by_day["2026-11-27"].name, by_day["2026-11-27"].kind) == ("Day after Thanksgiving", "day_off")
    assert by_day["2026-12-24"].name == "Christmas Eve"
    assert by_day["2026-12-31"].name == "New Year's Eve"
    assert by_day["2026-07-03"].name == "Independence Day (observed)"
    assert "2026-11-25" not in by_day
    assert all(e.scope == "*" and e.exclude_from_baseline == "true" for e in by_day.values())


def test_more_countries_are_prefixed() -> None:
    names = {e.name for e in gen.holiday_events(["US", "DE"], [2026])}
    assert "DE: Tag der Deutschen Einheit" in names or "DE: German Unity Day" in names


def test_hand_rows_are_kept_and_generated_rows_replaced(tmp_path: Path) -> None:
    out = tmp_path / "calendar_events.csv"
    out.write_text(
        "starts_on,ends_on,scope,name,kind,exclude_from_baseline\n"
        "2026-03-02,2026-03-04,studio,Studio launch,launch,true\n"
        "2026-11-26,2026-11-26,*,stale name,public_holiday,true\n"
    )
    gen.main(["--years", "2026", "--out", str(out)])
    rows = _rows(out)
    assert {"starts_on": "2026-03-02", "ends_on": "2026-03-04", "scope": "studio", "name": "Studio launch",
            "kind": "launch", "exclude_from_baseline": "true"} in rows  # fmt: skip
    assert [r["name"] for r in rows if r["starts_on"] == "2026-11-26"] == ["Thanksgiving Day"]


def test_shipped_seed_is_the_generated_default(tmp_path: Path) -> None:
    shipped = _rows(REPO / "seeds" / "calendar_events.csv")
    hand = [r for r in shipped if r["kind"] not in gen.GENERATED_KINDS]
    out = tmp_path / "calendar_events.csv"
    gen.write_events(out, [gen.Event(*r.values()) for r in hand] + gen.holiday_events(["US"], range(2024, 2029)))
    assert _rows(out) == shipped
    assert min(r["starts_on"] for r in shipped) <= "2024-01-01" <= "2028-12-31" <= max(r["ends_on"] for r in shipped)
    assert all(dt.date.fromisoformat(r["starts_on"]) <= dt.date.fromisoformat(r["ends_on"]) for r in shipped)
