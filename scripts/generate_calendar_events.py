"""Write the generated rows of seeds/calendar_events.csv: public holidays and the days around
them commonly taken off, from the `holidays` library.

``python scripts/generate_calendar_events.py [--countries US DE ...] [--years 2024-2028]
[--out seeds/calendar_events.csv]``

Generated rows (kinds ``public_holiday`` and ``day_off``) are replaced; every other row of the
file (launches, pricing changes, maintenance windows added by hand) is kept as it is. Each row
covers one day (starts_on = ends_on), scope ``*`` (every segment, vertical and source) and is
left out of future baselines (exclude_from_baseline = true). Names of countries other than the
first are prefixed with the country code ("DE: Christmas Day").
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from pathlib import Path

import holidays

COLUMNS = ("starts_on", "ends_on", "scope", "name", "kind", "exclude_from_baseline")
GENERATED_KINDS = frozenset({"public_holiday", "day_off"})


@dataclass(frozen=True, order=True)
class Event:
    starts_on: str
    ends_on: str
    scope: str
    name: str
    kind: str
    exclude_from_baseline: str


def _day(day: dt.date, name: str, kind: str) -> Event:
    return Event(day.isoformat(), day.isoformat(), "*", name, kind, "true")


def days_off_around(country_days: dict[dt.date, str]) -> list[tuple[dt.date, str]]:
    """The days around the holidays commonly taken off: the day after Thanksgiving,
    Christmas Eve and New Year's Eve (when they are not holidays themselves)."""
    extra = []
    for day, name in country_days.items():
        if name.startswith("Thanksgiving"):
            extra.append((day + dt.timedelta(days=1), "Day after Thanksgiving"))
        if name == "Christmas Day":
            extra.append((day - dt.timedelta(days=1), "Christmas Eve"))
            extra.append((dt.date(day.year, 12, 31), "New Year's Eve"))
    return [(day, name) for day, name in extra if day not in country_days]


def holiday_events(countries: Sequence[str], years: Iterable[int]) -> list[Event]:
    """One event per (country, holiday day); several holidays on one day are joined with '; '."""
    events = []
    for index, country in enumerate(countries):
        prefix = "" if index == 0 else f"{country}: "
        by_day: dict[dt.date, str] = {}
        for day, name in sorted(holidays.country_holidays(country, years=list(years)).items()):
            by_day[day] = name if day not in by_day else f"{by_day[day]}; {name}"
        events += [_day(day, prefix + name, "public_holiday") for day, name in by_day.items()]
        events += [_day(day, prefix + name, "day_off") for day, name in days_off_around(by_day)]
    return events


def read_hand_rows(path: Path) -> list[Event]:
    """The rows of an existing file that the script does not generate."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [Event(*(row[c] for c in COLUMNS)) for row in rows if row["kind"] not in GENERATED_KINDS]


def write_events(path: Path, events: Iterable[Event]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(astuple(e) for e in sorted(set(events)))


def _years(text: str) -> range:
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--countries", nargs="+", default=["US"], help="ISO country codes (default: US)")
    p.add_argument("--years", type=_years, default=_years("2024-2028"), help="e.g. 2024-2028")
    p.add_argument("--out", type=Path, default=Path("seeds/calendar_events.csv"))
    args = p.parse_args(argv)
    write_events(args.out, read_hand_rows(args.out) + holiday_events(args.countries, args.years))


if __name__ == "__main__":
    main()
