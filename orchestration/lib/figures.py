"""What a printed figure's text means: its number, its precision and its basis.

Computed once, at load, and stored beside the text as printed, so that the Great
Expectations suite and the dbt models read the same interpretation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CUMULATIVE = re.compile(r"^fytd_Jul(?:-([A-Z][a-z]{2}))?$")
_QUARTER = re.compile(r"^quarter_([A-Z][a-z]{2})-([A-Z][a-z]{2})$")


@dataclass(frozen=True)
class Basis:
    kind: str  # month | fytd | quarter
    months: int  # how many months the figure covers
    end_month: int | None  # calendar month the label says the figure ends in (None for "month")


def _month_number(abbr: str) -> int | None:
    return MONTH_ABBR.index(abbr) + 1 if abbr in MONTH_ABBR else None


def _months_between(first: int, last: int) -> int:
    return (last - first) % 12 + 1


def parse_basis(text: str) -> Basis | None:
    """`month`, `fytd_Jul-<Mon>` (July to <Mon>; `fytd_Jul` is July alone), `quarter_<Mon>-<Mon>`."""
    if text == "month":
        return Basis("month", 1, None)
    if match := _CUMULATIVE.match(text):
        end = _month_number(match.group(1) or "Jul")
        if end is None or (match.group(1) == "Jul"):
            return None
        return Basis("fytd", _months_between(7, end), end)
    if match := _QUARTER.match(text):
        first, last = _month_number(match.group(1)), _month_number(match.group(2))
        if first is None or last is None or _months_between(first, last) != 3 or first % 3 != 1:
            return None
        return Basis("quarter", 3, last)
    return None


def parse_value(text: str) -> float | None:
    """A value in thousand US$ as printed (no separators); None if it is not a finite number."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return float(number) if number.is_finite() else None


def printed_precision(text: str) -> float | None:
    """The rounding unit a figure was printed with, in thousand US$.

    `892972` ($892.972 million) is exact to 1; `303000` ($303 million) to 1,000; `2600000`
    ($2.6 billion) to 100,000; `186601.5` to 0.1. Round millions below a billion are taken
    as printed in millions (`300000` is "$300 million", precise to 1,000), since reports
    give sub-billion figures in whole millions at least.
    """
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    exponent = number.as_tuple().exponent
    if exponent < 0 and number != number.to_integral_value():
        return float(Decimal(1).scaleb(number.normalize().as_tuple().exponent))
    whole = int(number)
    if whole == 0:
        return 1.0
    trailing_zeros = len(str(abs(whole))) - len(str(abs(whole)).rstrip("0"))
    cap = 3 if abs(whole) < 1_000_000 else 5
    return float(10 ** min(trailing_zeros, cap))
