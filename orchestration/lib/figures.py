"""What a printed figure's text means: its number, its precision and its basis; and when two
printed figures agree within their rounding.

The number, precision and basis are computed once, at load, and stored beside the text as
printed, so that the Great Expectations suite and the dbt models read the same interpretation.
A fiscal-year-to-date basis is read with the fiscal calendar (orchestration/lib/fiscal.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from orchestration.lib.dbt_vars import dbt_var
from orchestration.lib.fiscal import MONTH_ABBR, fiscal_calendar

ROUNDING_ALLOWANCE_VAR = "rounding_allowance_usd_thousand"  # the var in dbt_project.yml
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
    """`month`, `fytd_Jul-<Mon>` (July to <Mon>; `fytd_Jul` is July alone: the fiscal year's
    first month, fiscal.py), `quarter_<Mon>-<Mon>`."""
    if text == "month":
        return Basis("month", 1, None)
    fiscal = fiscal_calendar()
    if (end := fiscal.fytd_end_month(text)) is not None:
        return Basis("fytd", fiscal.months_to(end), end)
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


def rounding_allowance(dbt_project_yml: Path | None = None) -> float:
    """What agreeing within rounding allows beyond half the rounding units, in thousand US$: the
    var rounding_allowance_usd_thousand of dbt_project.yml, which the macro agree_within_rounding
    reads too."""
    return float(dbt_var(ROUNDING_ALLOWANCE_VAR, dbt_project_yml))


def agree_within_rounding(a: float, b: float, precision_a: float, precision_b: float = 0.0) -> bool:
    """Whether two values (thousand US$) agree within their rounding: they differ by no more than
    half the sum of their rounding units (printed_precision), plus the rounding allowance (for
    floating-point noise). With precision_b 0, b is taken as exact: `a` is b as printed rounded.

    The same rule as the dbt macro agree_within_rounding (dbt_project/macros), with the same
    allowance (dbt_project.yml var rounding_allowance_usd_thousand)."""
    # in doubles, as in SQL (a value read from DuckDB may be a Decimal)
    a, b, precision_a, precision_b = float(a), float(b), float(precision_a), float(precision_b)
    return abs(a - b) <= (precision_a + precision_b) / 2 + rounding_allowance()
