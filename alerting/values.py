"""THE value formatter: every number, label and threshold any output shows. Rounding is half-up (like SQL
ROUND); missing or non-finite numbers print "n/a". Labels come from the mart's `baseline_kind` and
`threshold_kind`, never from a rule's name; an unknown kind reads generically ("Baseline")."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Context, Decimal
from functools import partial

NA = "n/a"
HUGE = 1e15  # implausible magnitudes read as such ('4.61e+18'), not as 19 digits
_DECIMALS = Context(prec=60, rounding=ROUND_HALF_UP)
FRACTION_UNITS = frozenset({"fraction", "rate"})
COUNT_UNITS = frozenset({"count", "tokens", "rows", "requests"})

SCOPE_NAMES = {
    "enterprise_contract": "Enterprise Contract",
    "enterprise_pilot": "Enterprise Pilot",
    "heavy": "Heavy",
    "paying": "Paying",
    "free": "Free",
    "api": "API",
    "studio": "Studio",
    "all": "All (API + Studio)",
    "usage": "Usage data",
    "gpu_costs": "GPU cost data",
}
# names `humanise` cannot make ('tokens' -> 'Tokens' it can)
METRIC_NAMES = {"dau": "DAU", "infra_cost": "Infrastructure cost", "idle_inference_ratio": "Idle : inference ratio"}
COMPONENT_NAMES = {"request_volume": "requests", "request_rate": "cost per request", "gpu_type": "GPU type"}
_MEAN_KINDS = frozenset({"same_weekday", "rolling", "trailing_7d"})
UNIT_BY_METRIC = {"tokens": "tokens", "rows": "rows", "cost": "usd", "cost_per_request": "usd_per_request"}
UNIT_BY_SUFFIX = (("_cost", "usd"), ("_rate", "fraction"), ("_ratio", "ratio"))  # else "count"
SIGMA_LABELS = {"sample": "sample σ", "pooled_within_weekday": "pooled within-weekday σ"}


def finite(value: float | None) -> bool:
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def fixed(value: float, places: int, sign: bool = False) -> str:
    """Half-up rounding of the value as written: 16234.505 -> '16,234.51'; never '-0.00'."""
    if abs(value) >= HUGE:
        return format(float(value), f"{'+' if sign else ''}.2e")
    rounded = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), context=_DECIMALS)
    return format(abs(rounded) if rounded == 0 else rounded, f"{'+' if sign else ''},.{places}f")


def plural(n: int, word: str) -> str:
    """'1 incident', '2 incidents', '1,204 rows'."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def compact(value: float) -> str:
    """A threshold-like number without trailing zeros: 2.0 -> '2', 4.50 -> '4.5'."""
    return fixed(value, 4).rstrip("0").rstrip(".")  # fixed's text always has a point (',.4f' or '.2e')


def pct(fraction: float | None, places: int = 1, sign: bool = False) -> str:
    """A fraction as a percentage: 0.466 -> '46.6%' ('+46.6%' with sign)."""
    return f"{fixed(fraction * 100, places, sign=sign)}%" if fraction is not None and finite(fraction) else NA


format_change = partial(pct, places=1, sign=True)  # pct_change is a FRACTION: 0.466 -> '+46.6%'
format_share = partial(pct, places=0)


def format_value(value: float | None, unit: str | None) -> str:
    """A value in its unit: $1,234.56; $0.7345/request; 20.4%; 7.86 : 1; 4,497,947; 73.90."""
    if value is None or not finite(value):
        return NA
    u = (unit or "").lower()
    if u in ("usd", "usd_per_request"):
        text = fixed(abs(value), 2 if u == "usd" else 4)
        text = f"-${text}" if value < 0 and text.strip("0.,") else f"${text}"
        return text if u == "usd" else f"{text}/request"
    if u in FRACTION_UNITS:
        return pct(value)
    if u == "ratio":
        return f"{fixed(value, 2)} : 1"
    whole = u in COUNT_UNITS and (float(value).is_integer() or abs(value) >= 100)
    return fixed(value, 0 if whole else 2)


def format_delta(delta: float | None, unit: str | None) -> str:
    """A signed difference in the value's unit: +1,234 / -$12.50 / +7.0 pp (fractions) / +1.20 (ratios)."""
    if delta is None or not finite(delta):
        return NA
    u = (unit or "").lower()
    sign = "+" if delta >= 0 or fixed(abs(delta), 4) == "0.0000" else "-"
    if u in FRACTION_UNITS:
        return f"{sign}{fixed(abs(delta) * 100, 1)} pp"
    return sign + (fixed(abs(delta), 2) if u == "ratio" else format_value(abs(delta), unit))


def format_z(z: float | None, sign: bool = False) -> str:
    return fixed(z, 2, sign=sign) if z is not None and finite(z) else NA


def humanise(key: str | None) -> str:
    """'some_new_metric' -> 'Some new metric' (for names no table knows)."""
    text = (key or "").strip().replace("_", " ")
    return text[:1].upper() + text[1:]


def _display(names: Mapping[str, str], name: str | None, made: Callable[[str], str], unknown: str) -> str:
    key = (name or "").strip()
    return names.get(key.lower(), made(key) or unknown)


display_scope = partial(_display, SCOPE_NAMES, made=str, unknown="unknown scope")
display_metric = partial(_display, METRIC_NAMES, made=humanise, unknown="unknown metric")
display_component = partial(_display, COMPONENT_NAMES, made=lambda key: humanise(key).lower(), unknown="other")


def unit_for_metric(metric: str | None) -> str:
    """The unit of a metric when nothing says (a delivery-log row carries none)."""
    m = (metric or "").lower()
    by_end = next((unit for end, unit in UNIT_BY_SUFFIX if m.endswith(end)), "count")
    return UNIT_BY_METRIC.get(m, by_end)


def is_mean(kind: str | None) -> bool:
    """A baseline that is a mean of its points (a change reads 'from mean', a chart marks μ); else an expectation."""
    return (kind or "").strip().lower() in _MEAN_KINDS


def baseline_label(kind: str | None, points: int | None = None, day: dt.date | None = None) -> str:
    labels = {
        "same_weekday": "Same-weekday mean" + (f" ({points} pts)" if points is not None else ""),
        "rolling": f"Rolling {points}-day mean" if points else "Rolling mean",
        "trailing_7d": "7-day average",
        "short_window_mean": "7-day average",
        "previous_day": "Previous day",
        "previous_week": "Same weekday last week",
        "same_weekday_transition": f"Expected after a typical {f'{day:%A}' if day else 'weekday'} change",
        "expected_volume": f"Expected for a {day:%A}" if day else "Expected",
    }
    return labels.get((kind or "").strip().lower(), "Baseline")


def z_label(threshold_kind: str | None, short: bool = False) -> str:
    """What the alert's z is: the week-over-week rule's z is not the same-weekday z."""
    if (threshold_kind or "").strip().lower() == "wow_z":
        return "week-over-week z" if short else "Week-over-week z"
    return "z" if short else "Z-score"


def sigma_label(kind: str | None) -> str:
    return SIGMA_LABELS.get((kind or "").strip().lower(), "σ")


def threshold_text(kind: str | None, threshold: float | None, unit: str | None, direction: str | None) -> str | None:
    """'|z| > 2', 'above $15,600.00', 'above 4.00 : 1', 'change above 30.0%', 'below 90% of expected'."""
    if threshold is None or not finite(threshold):
        return None
    down = (direction or "").strip().lower() == "decrease"
    texts = {
        "z": f"|z| > {compact(threshold)}",
        "wow_z": f"|week-over-week z| > {compact(threshold)}",
        "absolute": f"{'below' if down else 'above'} {format_value(threshold, unit)}",
        "ratio": f"above {fixed(threshold, 2)} : 1",
        "fraction_change": f"change above {pct(abs(threshold))}",
        "fraction_of_expected": f"below {pct(threshold, 0)} of expected",
    }
    return texts.get((kind or "").strip().lower(), f"threshold {compact(threshold)}")
