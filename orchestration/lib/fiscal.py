"""Pakistan's fiscal year, in Python, as core.dim_month has it.

The rule is written once, as the var `fiscal_year_start_month` of dbt_project/dbt_project.yml
(7: the fiscal year runs July to June). core.dim_month reads it with `var(...)`; this module reads
it from the same file (orchestration/lib/dbt_vars.py) and applies dim_month's formulas:

- fiscal year: the calendar year, plus one from the start month on, so a fiscal year is named by
  the year it ends in (FY24 = July 2023 to June 2024);
- fiscal month: (calendar month - start month) mod 12 + 1 (July = 1, June = 12);
- fiscal year label: 'FY' and the last two digits of the fiscal year ('FY24').

The fiscal-year-to-date bases are named from the start month too: `fytd_Jul` (the first month
alone) and `fytd_Jul-<Mon>` (the first month to <Mon>), as SBP and PBS print "Jul-May, FY26".
The parsers (ebops_workbook, bpm6_summary), figures.parse_basis and the brief use this module; a
test (tests/e2e/test_one_home.py) checks it against the built dim_month for every month.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from orchestration.lib.dbt_vars import dbt_var

START_MONTH_VAR = "fiscal_year_start_month"  # the var in dbt_project.yml (read by dim_month)
# English month names, fixed: the calendar module's follow the process's locale.
MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class MonthLike(Protocol):
    year: int
    month: int


@dataclass(frozen=True)
class FiscalCalendar:
    start_month: int  # the fiscal year's first calendar month, 1-12

    def __post_init__(self) -> None:
        month = self.start_month
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValueError(f"{START_MONTH_VAR} must be a month number 1-12, not {self.start_month!r}")

    # --- dim_month's columns ------------------------------------------------------------------

    def fiscal_year(self, day: MonthLike) -> int:
        """dim_month.fiscal_year: year(month) + (1 if month(month) >= start else 0)."""
        return day.year + (1 if day.month >= self.start_month else 0)

    def fiscal_month(self, day: MonthLike) -> int:
        """dim_month.fiscal_month: (month(month) - start + 12) % 12 + 1."""
        return self.months_to(day.month)

    @staticmethod
    def fiscal_year_label(fiscal_year: int) -> str:
        """dim_month.fiscal_year_label: 2024 -> 'FY24'."""
        return f"FY{fiscal_year % 100:02d}"

    # --- the other way round, and the names -------------------------------------------------

    def months_to(self, calendar_month: int) -> int:
        """How many months from the fiscal year's start to this calendar month, both included."""
        return (calendar_month - self.start_month) % 12 + 1

    def month_of(self, fiscal_year: int, calendar_month: int) -> date:
        """The first day of a calendar month of a fiscal year: (2026, 5) -> 2026-05-01 and
        (2026, 7) -> 2025-07-01 when the year starts in July."""
        year = fiscal_year - 1 if calendar_month >= self.start_month else fiscal_year
        return date(year, calendar_month, 1)

    @property
    def first_month_abbr(self) -> str:
        return MONTH_ABBR[self.start_month - 1]

    def month_abbrs(self) -> tuple[str, ...]:
        """The months in fiscal order: ('Jul', 'Aug', ..., 'Jun')."""
        return tuple(MONTH_ABBR[(self.start_month - 1 + i) % 12] for i in range(12))

    def span(self) -> str:
        """'July to June'."""
        last = (self.start_month - 2) % 12 + 1
        return f"{MONTH_NAMES[self.start_month - 1]} to {MONTH_NAMES[last - 1]}"

    # --- fiscal-year-to-date bases --------------------------------------------------------------

    def fytd_basis(self, last_month: int) -> str:
        """'fytd_Jul-<Mon>' for the year's first month to that calendar month; 'fytd_Jul' for the
        first month alone."""
        first = self.first_month_abbr
        return f"fytd_{first}" if last_month == self.start_month else f"fytd_{first}-{MONTH_ABBR[last_month - 1]}"

    def fytd_end_month(self, basis: str) -> int | None:
        """The calendar month a fiscal-year-to-date basis ends in ('fytd_Jul-May' -> 5,
        'fytd_Jul' -> 7); None for any other text, 'fytd_Jul-Jul' included."""
        match = _fytd_pattern(self.first_month_abbr).match(basis)
        if not match:
            return None
        if match.group(1) is None:
            return self.start_month
        if match.group(1) not in MONTH_ABBR or match.group(1) == self.first_month_abbr:
            return None
        return MONTH_ABBR.index(match.group(1)) + 1

    def fytd_label(self, period_month: MonthLike, basis: str) -> str:
        """(May 2026, 'fytd_Jul-May') -> 'Jul-May FY26'; (July 2025, 'fytd_Jul') -> 'Jul FY26'."""
        span = basis.removeprefix("fytd_")
        return f"{span} {self.fiscal_year_label(self.fiscal_year(period_month))}"


@functools.cache
def _fytd_pattern(first_abbr: str) -> re.Pattern[str]:
    return re.compile(rf"^fytd_{first_abbr}(?:-([A-Z][a-z]{{2}}))?$")


@functools.cache
def fiscal_calendar(dbt_project_yml: Path | None = None) -> FiscalCalendar:
    """The fiscal calendar of the dbt project (its var fiscal_year_start_month), once a process."""
    return FiscalCalendar(dbt_var(START_MONTH_VAR, dbt_project_yml))


# The project's calendar, for callers that have no other project file to hand in.


def fiscal_year(day: MonthLike) -> int:
    return fiscal_calendar().fiscal_year(day)


def fiscal_month(day: MonthLike) -> int:
    return fiscal_calendar().fiscal_month(day)


def fiscal_year_label(fiscal_year: int) -> str:
    return FiscalCalendar.fiscal_year_label(fiscal_year)
