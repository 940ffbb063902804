"""SBP's summary balance of payments (`Balancepayment_BPM6.xls`, sheet "BPM6_Summary").

Layout (FORMATS.md section 3), US$ million:

    Summary Balance of Payments as per BPM6 - July 2020
    (Million US$)
            Jul-Jun Jul-Jun Jul-Sep Oct-Dec Jan-Mar Jun  Apr-Jun Jul-Jun Jul
    Items   R       R                       R                         P
            FY18    FY19    FY20    FY20    FY20    FY20 FY20    FY20    FY21  FY20
    Exports of Services  5,851  5,966 ...

The set of period columns changes every edition, so each column is read from its own
header: a range cell (row "ranges"), an R/P mark (the row starting "Items") and a fiscal
year (row "FY.."). Those rows are found by content. A range cell SBP merges over several
columns (the "Jul" over FY21 and FY20 above) is stored in the first of them only: a column
with a fiscal year but no range of its own takes the range to its left.

Column -> (period, basis), the period being the range's last month in that fiscal year:
- "Jul-Jun" -> fytd_Jul-Jun (the full year); "Jul-<Mon>" -> fytd_Jul-<Mon>;
- "Oct-Dec", "Jan-Mar", "Apr-Jun" -> quarter_<Mon>-<Mon>;
- "Jul-Sep" -> fytd_Jul-Sep, always. It is the first quarter and the fiscal year to
  September at once, the same three months and the same number; the public record codes
  it fytd_Jul-Sep, including its reading of the July 2020 edition where it stands among
  quarter columns, and the warehouse derives months from cumulatives. Naming it fytd keeps
  one name for one quantity.
- a single month ("Jun", "Jul") -> month.

Rows kept: "Exports of Services" -> services_total and the EBOPS 9 line
("Telecommunications, computer, and information services", any spacing, case or
punctuation) -> ict_total. Values are scaled from US$ million to thousand exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestration.lib.figures import MONTH_ABBR, parse_basis
from orchestration.lib.fiscal import fiscal_calendar
from orchestration.lib.hierarchy import Hierarchy
from orchestration.lib.release import BPM6_SUMMARY, ReleaseFileError
from orchestration.lib.sources.base import ParsedSource, millions_to_thousands, normalise_label
from orchestration.lib.sources.ebops_workbook import (
    MARKS,
    cell,
    figures_by_row,
    fiscal_month_period,
    full_year,
    is_blank,
    month_number,
    read_sheet,
)

BPM6_SHEET = "BPM6_Summary"
ITEMS_LABEL = "items"
SERVICES_EXPORTS_LABEL = "exports of services"

_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_RANGE = re.compile(rf"^{_MONTH}(?:\s*-\s*{_MONTH})?$", re.IGNORECASE)
_FISCAL_YEAR = re.compile(r"^FY\s*'?(\d{2}|\d{4})$", re.IGNORECASE)
_MARK = re.compile(r"^\(?\s*([RP])\s*\)?$", re.IGNORECASE)
_TITLE = re.compile(r"balance of payments.*BPM6\s*[-\u2013:]\s*(.+)$", re.IGNORECASE)


@dataclass(frozen=True)
class PeriodColumn:
    column: int  # 0-based
    period: str
    basis: str
    note: str


def _header_cells(row: list[Any]) -> dict[int, str]:
    """The non-empty cells right of column A, normalised, by column."""
    return {c: normalise_label(v) for c, v in enumerate(row) if c > 0 and not is_blank(v)}


def _is_row_of(row: list[Any], pattern: re.Pattern[str]) -> bool:
    cells = _header_cells(row)
    return bool(cells) and all(pattern.match(text) for text in cells.values())


def find_fiscal_year_row(path: Path, rows: list[list[Any]]) -> int:
    for index, row in enumerate(rows):
        if _is_row_of(row, _FISCAL_YEAR):
            return index
    raise ReleaseFileError(path, None, "header", "no row of fiscal years (FY18 FY19 ...)")


def find_range_row(path: Path, rows: list[list[Any]], fiscal_year_index: int) -> int:
    """The nearest row above the fiscal years holding only month ranges."""
    for index in range(fiscal_year_index - 1, -1, -1):
        if _is_row_of(rows[index], _RANGE):
            return index
    raise ReleaseFileError(path, fiscal_year_index + 1, "header", "no row of month ranges above the fiscal years")


def find_items_row(rows: list[list[Any]], range_index: int, fiscal_year_index: int) -> int | None:
    """The row starting "Items", which carries the R/P marks, if the header has one."""
    for index in range(range_index, fiscal_year_index + 1):
        if normalise_label(cell(rows[index], 0)).casefold() == ITEMS_LABEL:
            return index
    return None


def check_unit(path: Path, rows: list[list[Any]], range_index: int) -> None:
    """The values must be US$ million ("(Million US$)" above the header): a file in another
    unit would otherwise be scaled by the wrong factor without a sign."""
    texts = [normalise_label(v).casefold() for row in rows[:range_index] for v in row if not is_blank(v)]
    if not any("million" in text for text in texts):
        raise ReleaseFileError(path, range_index + 1, "unit", "no '(Million US$)' line above the header")


def column_basis(range_text: str) -> tuple[int, str]:
    """A range cell -> (its last month, basis). Raises ValueError for a range with no basis."""
    match = _RANGE.match(range_text)
    if not match:
        raise ValueError(f"{range_text!r} is not a month or a month range")
    first, last = month_number(match.group(1)), month_number(match.group(2)) if match.group(2) else None
    if last is None:
        return first, "month"
    fiscal = fiscal_calendar()
    if first == fiscal.start_month:
        basis = fiscal.fytd_basis(last)  # Jul-Sep included: see the module docstring
    else:
        basis = f"quarter_{MONTH_ABBR[first - 1]}-{MONTH_ABBR[last - 1]}"
    if last == first or parse_basis(basis) is None:
        raise ValueError(f"{range_text!r} is neither July to a month nor a calendar quarter")
    return last, basis


def parse_columns(path: Path, rows: list[list[Any]]) -> tuple[int, list[PeriodColumn]]:
    """(index of the fiscal-year row, the period columns)."""
    fiscal_year_index = find_fiscal_year_row(path, rows)
    range_index = find_range_row(path, rows, fiscal_year_index)
    items_index = find_items_row(rows, range_index, fiscal_year_index)
    check_unit(path, rows, range_index)
    ranges = _header_cells(rows[range_index])
    marks = _header_cells(rows[items_index]) if items_index is not None else {}
    columns = [
        PeriodColumn(
            column, *_period(path, range_index, ranges, column, fy_text), _note(path, items_index, marks, column)
        )
        for column, fy_text in sorted(_header_cells(rows[fiscal_year_index]).items())
    ]
    return fiscal_year_index, columns


def _period(path: Path, range_index: int, ranges: dict[int, str], column: int, fy_text: str) -> tuple[str, str]:
    """(period, basis) of one column: its range (or the merged one to its left) in its fiscal year."""
    spanning = [c for c in ranges if c <= column]
    if not spanning:
        raise ReleaseFileError(path, range_index + 1, "header", f"column {column + 1} ({fy_text}) has no month range")
    try:
        last_month, basis = column_basis(ranges[max(spanning)])
    except ValueError as exc:
        raise ReleaseFileError(path, range_index + 1, "header", f"column {column + 1}: {exc}") from exc
    return fiscal_month_period(last_month, full_year(_FISCAL_YEAR.match(fy_text).group(1))), basis


def _note(path: Path, items_index: int | None, marks: dict[int, str], column: int) -> str:
    text = marks.get(column, "")
    if not text:
        return ""
    match = _MARK.match(text)
    if not match:
        raise ReleaseFileError(path, items_index + 1, "header", f"column {column + 1}: mark {text!r} is not R or P")
    return MARKS[match.group(1).upper()]


def series_of_row(label: Any, hierarchy: Hierarchy) -> str | None:
    """services_total for "Exports of Services", ict_total for the EBOPS 9 line (with or
    without its code "9.", worded as the hierarchy's label), None for every other row."""
    text = re.sub(r"^9\.?\s+", "", normalise_label(label))
    if text.casefold() == SERVICES_EXPORTS_LABEL:
        return "services_total"
    if text and hierarchy.reads_as(text, "ict_total"):
        return "ict_total"
    return None


def row_figures(
    path: Path, rows: list[list[Any]], fiscal_year_index: int, columns: list[PeriodColumn], hierarchy: Hierarchy
):
    """One SourceFigure per non-empty cell of the services and ICT rows, scaled to thousands."""
    return figures_by_row(
        path,
        BPM6_SHEET,
        rows,
        fiscal_year_index + 1,
        columns,
        lambda _row, label: series_of_row(label, hierarchy),
        millions_to_thousands,
    )


def edition(rows: list[list[Any]], before: int) -> str:
    """'July 2020' from the title line, '' when there is none."""
    for row in rows[:before]:
        for value in row:
            if not is_blank(value) and (match := _TITLE.search(normalise_label(value))):
                return match.group(1).strip()
    return ""


def parse_bpm6_summary(path: Path, hierarchy: Hierarchy) -> ParsedSource:
    """Read SBP's summary balance of payments (.xls or .xlsx): exports of services and the
    EBOPS 9 (ICT) line, US$ million scaled to thousand, for every period column."""
    path = Path(path)
    rows = read_sheet(path, BPM6_SHEET)
    fiscal_year_index, columns = parse_columns(path, rows)
    figures = list(row_figures(path, rows, fiscal_year_index, columns, hierarchy))
    name = edition(rows, fiscal_year_index)
    return ParsedSource(
        format=BPM6_SUMMARY,
        figures=figures,
        stated_published_on=None,  # the title names the edition's month, not a release date
        header_periods=[(c.period, c.basis) for c in columns],
        description=f"BPM6 summary, {name}" if name else "BPM6 summary",
    )
