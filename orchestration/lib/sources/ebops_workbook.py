"""SBP's "Trade in Services" workbook (`dt.xls`, EBOPS 2010): the credit column of EBOPS 9.

Layout (FORMATS.md section 2, sbp_ebops_workbook_layout.json): sheet "EBOPS " (trailing
space); column A holds the row labels with SBP's own spacing; a header row whose column A
reads "Trade in Services" names five period blocks, each three columns wide
(credit | debit | net), starting in columns B, E, H, K and N. Values are thousand US$.

Nothing is found by position: the sheet by its normalised name, the header row by its
content, every EBOPS line by its code and label, because SBP adds and removes lines
between editions (9.2.5 Freelance was added) and so moves every row below them.

The workbook helpers here (opening a sheet, reading a number, a month's name) are shared
with the BPM6 summary parser (bpm6_summary.py); labels are compared with the hierarchy's
through hierarchy.label_words; fiscal years and their months are read with the fiscal calendar
(orchestration/lib/fiscal.py, the rule of core.dim_month).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from orchestration.lib.figures import MONTH_ABBR, parse_basis
from orchestration.lib.fiscal import fiscal_calendar
from orchestration.lib.hierarchy import Hierarchy
from orchestration.lib.release import EBOPS_WORKBOOK, ReleaseFileError
from orchestration.lib.sources.base import ParsedSource, SourceFigure, normalise_label

EBOPS_SHEET = "EBOPS "
HEADER_LABEL = "trade in services"
SERVICES_LABEL = "services"
BLOCK_WIDTH = 3  # credit | debit | net
FIRST_BLOCK_COLUMN = 1  # column B; the credit column is the first of each block

MARKS = {"R": "revised", "P": "provisional"}
# Cells SBP prints for "nothing to report": they yield no figure, like an empty cell.
NO_VALUE_TEXTS = {"", "-", "\u2013", "\u2014", "..", "...", "n.a.", "na"}
# Excel keeps 15 significant digits; anything past them in a float is binary noise.
EXCEL_DIGITS = Context(prec=15)
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, with Lotus's phantom 1900-02-29

_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_MARK = r"(?:\s*\(\s*([RP])\s*\))?"
_MONTH_HEADER = re.compile(rf"^{_MONTH}\s*[-/ ]\s*'?(\d{{2}}|\d{{4}}){_MARK}$", re.IGNORECASE)
_CODE_LABEL = re.compile(r"^(\d+(?:\.\d+)*)\.?\s*(.*)$")


# --- helpers shared with bpm6_summary.py -------------------------------------------------


def read_sheet(path: Path, sheet_name: str) -> list[list[Any]]:
    """Every row of the sheet whose normalised name matches, from cell A1, so that list
    index + 1 is the spreadsheet row number. Raises rule "workbook" for a file calamine
    cannot open and rule "sheet" when no sheet has that name."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        wanted = normalise_label(sheet_name).casefold()
        names = [n for n in workbook.sheet_names if normalise_label(n).casefold() == wanted]
        if not names:
            raise ReleaseFileError(
                path,
                None,
                "sheet",
                f"the workbook has no sheet named {sheet_name!r}; its sheets: "
                f"{', '.join(map(repr, workbook.sheet_names)) or 'none'}",
            )
        # skip_empty_area=False keeps the empty rows and columns above and left of the
        # data, so row and column indexes are the spreadsheet's own.
        return workbook.get_sheet_by_name(names[0]).to_python(skip_empty_area=False)
    except (CalamineError, OSError) as exc:
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ReleaseFileError(path, None, "workbook", f"truncated or corrupt workbook: {reason[:200]}") from exc


def cell(row: list[Any], column: int) -> Any:
    """The cell at a column, '' beyond the row's end (calamine trims trailing columns)."""
    return row[column] if column < len(row) else ""


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and normalise_label(value) == "")


def column_letters(column: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA': a 0-based column as the spreadsheet names it."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def cell_number_text(value: Any) -> str | None:
    """A numeric cell as text without float noise: 329290.0 -> '329290', 12.34 -> '12.34';
    text such as '5,851' loses its thousands separators. None for an empty cell or a dash.
    Raises ValueError for anything that is not a number, showing the cell as printed."""
    if isinstance(value, bool) or isinstance(value, (date, datetime)):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        # repr gives the shortest text that round-trips; cap at Excel's 15 digits so a sum
        # stored as 0.30000000000000004 reads as the 0.3 Excel shows.
        number = EXCEL_DIGITS.plus(Decimal(repr(value)))
        return "0" if number.is_zero() else format(number.normalize(), "f")
    text = normalise_label("" if value is None else value)
    if text.casefold() in NO_VALUE_TEXTS:
        return None
    plain = text.replace(",", "").replace(" ", "")
    try:
        number = Decimal(plain)
    except InvalidOperation as exc:
        raise ValueError(f"the text {value!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"the text {value!r} is not a finite number")
    return plain


def month_number(name: str) -> int:
    return MONTH_ABBR.index(name[:3].capitalize()) + 1


def full_year(text: str) -> int:
    """'26' or '2026' -> 2026, a calendar year or a fiscal year's number (SBP's series start in
    the 2000s; a fiscal year is numbered by the year it ends in: FY26 is 2026)."""
    return int(text) if len(text) == 4 else 2000 + int(text)


def fiscal_month_period(month: int, fiscal_year: int) -> str:
    """A calendar month of a fiscal year, as 'YYYY-MM': FY26 holds Jul-Dec 2025 and Jan-Jun
    2026 (the fiscal calendar, fiscal.py)."""
    day = fiscal_calendar().month_of(fiscal_year, month)
    return f"{day.year:04d}-{day.month:02d}"


def period_date(period: str) -> date:
    """'2026-05' -> 2026-05-01."""
    return date(int(period[:4]), int(period[5:]), 1)


@functools.cache
def _fytd_header(first_month_abbr: str) -> re.Pattern[str]:
    """'Jul-May, FY26 (P)', 'Jul, FY26': the fiscal year's first month, to a month or alone."""
    return re.compile(
        rf"^{first_month_abbr}[a-z]*(?:\s*-\s*{_MONTH})?\s*,?\s*FY\s*'?(\d{{2}}|\d{{4}}){_MARK}$", re.IGNORECASE
    )


# --- the EBOPS workbook ------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodBlock:
    column: int  # the block's first (credit) column, 0-based
    period: str
    basis: str
    note: str


def parse_period_header(value: Any) -> tuple[str, str, str]:
    """A block header cell -> (period, basis, note). Raises ValueError if it is none of:
    a month ('Apr-26 (R)'), a fiscal year to date ('Jul-May, FY26 (P)', 'Jul, FY26'), a
    date value, or an Excel date serial (45808 = 2025-05-31, how SBP's year-ago header
    comes when the cell is read without its date format)."""
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}", "month", ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        day = _excel_serial_date(value)
        return f"{day.year:04d}-{day.month:02d}", "month", ""
    text = normalise_label(value)
    if match := _MONTH_HEADER.match(text):
        month, year, mark = match.groups()
        return f"{full_year(year):04d}-{month_number(month):02d}", "month", MARKS.get((mark or "").upper(), "")
    fiscal = fiscal_calendar()
    if match := _fytd_header(fiscal.first_month_abbr).match(text):
        last, year, mark = match.groups()
        last_month = month_number(last) if last else fiscal.start_month
        basis = fiscal.fytd_basis(last_month)
        if parse_basis(basis) is None:
            raise ValueError(f"{text!r} is not a fiscal-year-to-date range")
        return fiscal_month_period(last_month, full_year(year)), basis, MARKS.get((mark or "").upper(), "")
    raise ValueError(f"{text!r} is not a month ('Apr-26 (R)'), a fiscal year to date ('Jul-May, FY26') or a date")


def _excel_serial_date(serial: float) -> date:
    if not math.isfinite(serial) or not 1 <= serial < 2958466:
        raise ValueError(f"{serial!r} is not an Excel date serial")
    day = EXCEL_EPOCH + timedelta(days=int(serial))
    if not 1990 <= day.year <= 2100:
        raise ValueError(f"{serial!r} is an Excel date serial for {day}, outside SBP's data")
    return day


def find_header_row(path: Path, rows: list[list[Any]]) -> int:
    """Index of the row whose column A reads "Trade in Services" and which has period
    headers in the block columns (the title block repeats "Trade in Services" without them)."""
    for index, row in enumerate(rows):
        if normalise_label(cell(row, 0)).casefold() != HEADER_LABEL:
            continue
        if any(not is_blank(cell(row, c)) for c in range(FIRST_BLOCK_COLUMN, len(row), BLOCK_WIDTH)):
            return index
    raise ReleaseFileError(path, None, "header", "no 'Trade in Services' row with period headers in columns B, E, H...")


def parse_header(path: Path, rows: list[list[Any]], header_index: int) -> list[PeriodBlock]:
    row = rows[header_index]
    blocks = []
    for column in range(FIRST_BLOCK_COLUMN, len(row)):
        value = cell(row, column)
        if is_blank(value):
            continue
        if (column - FIRST_BLOCK_COLUMN) % BLOCK_WIDTH:
            raise ReleaseFileError(
                path,
                header_index + 1,
                "header",
                f"{value!r} in column {column + 1} is not the first (credit) column of a credit|debit|net block",
            )
        try:
            period, basis, note = parse_period_header(value)
        except ValueError as exc:
            raise ReleaseFileError(path, header_index + 1, "header", f"column {column + 1}: {exc}") from exc
        blocks.append(PeriodBlock(column, period, basis, note))
    return blocks


def series_of_row(path: Path, row_number: int, label: Any, hierarchy: Hierarchy) -> str | None:
    """The series a column-A label is a line of: 'services_total' for "Services", an EBOPS 9
    series for its code, None for every other line. Raises rule "label" when the code is an
    EBOPS 9 line but the words name another one (hierarchy.label_words)."""
    text = normalise_label(label)
    if text.casefold() == SERVICES_LABEL:
        return "services_total"
    match = _CODE_LABEL.match(text)
    if not match:
        return None
    code, words = match.groups()
    series = hierarchy.series_for_ebops_code(code)
    if series is None or series == "services_total":
        return None
    expected = hierarchy.label(series)
    if not hierarchy.reads_as(words, series):
        raise ReleaseFileError(
            path, row_number, "label", f"code {code} is {expected!r} in the EBOPS hierarchy, but the row reads {text!r}"
        )
    return series


def figures_by_row(
    path: Path,
    sheet: str,
    rows: list[list[Any]],
    first_index: int,
    columns: list,
    series_of: Callable[[int, Any], str | None],
    to_thousands: Callable[[str], str] = lambda text: text,
):
    """One SourceFigure per non-empty cell of every row that series_of maps to a series, in the
    given period columns (objects with .column, .period, .basis, .note). Shared by SBP's tables.
    A cell that is not a number is rule "value", naming the sheet and cell and showing the text."""
    seen: dict[str, int] = {}
    for index in range(first_index, len(rows)):
        row_number = index + 1
        series = series_of(row_number, cell(rows[index], 0))
        if series is None:
            continue
        if series in seen:
            raise ReleaseFileError(path, row_number, "duplicate", f"{series} is also row {seen[series]}")
        seen[series] = row_number
        for column in columns:
            try:
                value = cell_number_text(cell(rows[index], column.column))
            except ValueError as exc:
                where = f"sheet {sheet!r}, cell {column_letters(column.column)}{row_number}"
                raise ReleaseFileError(
                    path, row_number, "value", f"{where} ({series}, {column.period} {column.basis}): {exc}"
                ) from exc
            if value is not None:
                yield SourceFigure(column.period, series, to_thousands(value), column.basis, column.note, row_number)


def credit_figures(
    path: Path, rows: list[list[Any]], header_index: int, blocks: list[PeriodBlock], hierarchy: Hierarchy
):
    """One SourceFigure per non-empty credit cell of every Services and EBOPS 9 row."""
    return figures_by_row(
        path,
        EBOPS_SHEET,
        rows,
        header_index + 1,
        blocks,
        lambda row_number, label: series_of_row(path, row_number, label, hierarchy),
    )


def describe(blocks: list[PeriodBlock]) -> str:
    """'EBOPS workbook, Jul-May FY26' after the latest fiscal-year-to-date block."""
    cumulative = [b for b in blocks if b.basis.startswith("fytd")]
    if cumulative:
        latest = max(cumulative, key=lambda b: b.period)
        return f"EBOPS workbook, {fiscal_calendar().fytd_label(period_date(latest.period), latest.basis)}"
    latest_month = max(b.period for b in blocks)
    return f"EBOPS workbook, {MONTH_ABBR[int(latest_month[5:]) - 1]}-{latest_month[2:4]}"


def parse_ebops_workbook(path: Path, hierarchy: Hierarchy) -> ParsedSource:
    """Read SBP's EBOPS workbook (.xls or .xlsx): the credit (export) figures of "Services"
    and every EBOPS 9 line (mapped through the series hierarchy), thousand US$, for each
    period block of the header."""
    path = Path(path)
    rows = read_sheet(path, EBOPS_SHEET)
    header_index = find_header_row(path, rows)
    blocks = parse_header(path, rows, header_index)
    figures = list(credit_figures(path, rows, header_index, blocks, hierarchy))
    return ParsedSource(
        format=EBOPS_WORKBOOK,
        figures=figures,
        stated_published_on=None,  # the workbook does not print its release date
        header_periods=[(b.period, b.basis) for b in blocks],
        description=describe(blocks),
    )
