"""SBP EasyData downloads of trade in services (dataset TS_GP_BOP_TRDSER_M): CSV and API JSON.

Both carry the same ten fields per observation (FORMATS.md section 1): one row per series
and month, the series named "<EBOPS code> <label>-Cr" (credit, exports) or "-Dr" (debit),
with leading dots for indentation. Only credits of the EBOPS 9 lines and the all-services
line become figures; they are kept as printed, in thousand US$.

Assumptions (no real TRDSER download or API answer was available):
- The API's JSON `columns` are the same ten names as the CSV header; columns are matched by
  name, so their order may differ (extra columns are ignored). JSON numbers are kept with
  their text exactly as written (`363810.00` stays `363810.00`).
- A JSON row's source_row is its 1-based index in `rows` plus one, so the first row is 2,
  as the first data line of the CSV download is (the header is line 1).
- Rows whose display name ends in neither -Cr nor -Dr (none seen) are not exports: skipped.
- The file "covers" (header_periods) the months that have at least one non-empty value.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from orchestration.lib.fiscal import MONTH_ABBR  # English, fixed (calendar's follow the locale)
from orchestration.lib.hierarchy import Hierarchy, label_words
from orchestration.lib.release import EASYDATA_CSV, EASYDATA_JSON, ReleaseFileError, decode_utf8
from orchestration.lib.sources.base import ParsedSource, SourceFigure, millions_to_thousands, normalise_label

DATASET = "TS_GP_BOP_TRDSER_M"

DATASET_NAME = "Dataset Name"
DATE = "Observation Date"
SERIES_KEY = "Series Key"
DISPLAY_NAME = "Series Display Name"
VALUE = "Observation Value"
UNIT = "Unit"
STATUS = "Observation Status"
STATUS_COMMENT = "Observation Status Comment"
SEQUENCE = "Sequence No."
SERIES_NAME = "Series name"
COLUMNS = (DATASET_NAME, DATE, SERIES_KEY, DISPLAY_NAME, VALUE, UNIT, STATUS, STATUS_COMMENT, SEQUENCE, SERIES_NAME)

SERVICES_TOTAL = "services_total"
_THOUSAND_USD = "thousand usd"
_MILLION_USD = "million usd"

_MONTHS = {name.lower(): number for number, name in enumerate(MONTH_ABBR, start=1)}
_DATE = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")
# "......9.2.2 Software consultancy services-Cr": dots (already stripped), optional code, label, side.
# The code is numeric, or "S", the seed's code for the all-services line.
_DISPLAY_NAME = re.compile(r"^(?:(?P<code>\d+(?:\.\d+)*|S)\.?\s+)?(?P<label>.*?)\s*-\s*(?P<side>Cr|Dr)$", re.IGNORECASE)


@dataclass(frozen=True)
class _Row:
    """One observation, its fields by column name, and where it was read from."""

    number: int  # CSV line number; for JSON, index in rows + 1 (the CSV convention)
    fields: dict[str, str]


def is_easydata_columns(columns: Sequence[object]) -> bool:
    """Whether a header names every EasyData column (in any order): shared with detect.py."""
    names = [str(c).strip().lstrip("\ufeff") for c in columns]
    return set(COLUMNS) <= set(names)


def parse_easydata_csv(path: Path, hierarchy: Hierarchy) -> ParsedSource:
    """Read an EasyData CSV download of TS_GP_BOP_TRDSER_M into export figures, its lines
    mapped through the series hierarchy."""
    records = _csv_records(path, _read_text(path))
    first = next(records, None)
    if first is None:
        raise ReleaseFileError(path, None, "content", "the file is empty")
    columns = _check_header(path, first[1])
    rows = (_shaped_row(path, line, columns, cells) for line, cells in records if any(c.strip() for c in cells))
    return _parse_rows(path, EASYDATA_CSV, rows, hierarchy)


def parse_easydata_json(path: Path, hierarchy: Hierarchy) -> ParsedSource:
    """Read the JSON the EasyData API returns (`{"columns": [...], "rows": [[...]]}`)."""
    text = _read_text(path)
    try:
        # Numbers keep their text: a value printed 363810.00 must not become 363810.0.
        body = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as exc:
        raise ReleaseFileError(path, None, "json", f"not JSON ({exc.msg}, line {exc.lineno})") from exc
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("columns"), list)
        or not isinstance(body.get("rows"), list)
    ):
        raise ReleaseFileError(path, None, "json", 'expected an object with a "columns" list and a "rows" list')
    columns = _check_header(path, body["columns"])
    return _parse_rows(path, EASYDATA_JSON, _json_rows(path, body["rows"], columns), hierarchy)


# --- reading the two containers into rows -------------------------------------------------


def _read_text(path: Path) -> str:
    return decode_utf8(path, path.read_bytes())


def _csv_records(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each CSV record; a malformed record (a quote never closed, as
    in a download cut short) is a shape error. Strict, so junk after a closing quote fails too."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    while True:
        line = reader.line_num + 1  # where the next record starts
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ReleaseFileError(path, line, "row shape", f"malformed CSV ({exc}): is the file cut short?") from exc
        yield line, cells


def _check_header(path: Path, header: Sequence[object]) -> list[str]:
    if not is_easydata_columns(header):
        found = ",".join(str(h) for h in header)
        raise ReleaseFileError(path, 1, "header", f"expected columns {','.join(COLUMNS)}; found {found}")
    return [str(c).strip().lstrip("\ufeff") for c in header]


def _json_rows(path: Path, rows: list[object], columns: list[str]) -> Iterator[_Row]:
    for index, cells in enumerate(rows, start=1):
        number = index + 1  # the CSV convention: header is 1, first row 2
        if not isinstance(cells, list) or any(isinstance(c, dict | list) for c in cells):
            raise ReleaseFileError(path, number, "json", "a row must be a list of plain values")
        yield _shaped_row(path, number, columns, ["" if c is None else str(c) for c in cells])


def _shaped_row(path: Path, number: int, columns: list[str], cells: list[str]) -> _Row:
    if len(cells) != len(columns):
        raise ReleaseFileError(path, number, "row shape", f"expected {len(columns)} fields, found {len(cells)}")
    return _Row(number, {name: cell.strip() for name, cell in zip(columns, cells, strict=True)})


# --- the rules, shared by CSV and JSON ----------------------------------------------------


def _parse_rows(path: Path, fmt: str, rows: Iterable[_Row], hierarchy: Hierarchy) -> ParsedSource:
    figures: dict[tuple[str, str], SourceFigure] = {}
    periods: set[str] = set()
    for row in rows:
        _check_dataset(path, row)
        period = _period(path, row)
        if row.fields[VALUE]:
            periods.add(period)
        figure = _figure(path, row, period, hierarchy)
        if figure is not None:
            _add_figure(path, figures, figure)
    if not periods:
        raise ReleaseFileError(path, None, "content", "the file holds no observations")
    header_periods = [(p, "month") for p in sorted(periods)]
    return ParsedSource(
        format=fmt,
        figures=sorted(figures.values(), key=lambda f: f.source_row),
        stated_published_on=None,  # EasyData does not say when an observation was released
        header_periods=header_periods,
        description=f"EasyData {DATASET}, {_month_range(sorted(periods))}",
    )


def _check_dataset(path: Path, row: _Row) -> None:
    """Every series must be of the trade-in-services dataset: other datasets share the layout."""
    key = row.fields[SERIES_KEY]
    if not key.startswith(f"{DATASET}."):
        dataset = key.split(".", 1)[0] or "(no series key)"
        name = row.fields[DATASET_NAME]
        raise ReleaseFileError(
            path, row.number, "dataset", f"series {key!r} is of dataset {dataset} ({name!r}), not {DATASET}"
        )


def _period(path: Path, row: _Row) -> str:
    """'31-Jul-2026' -> '2026-07'; EasyData dates a monthly observation by the month's last day."""
    text = row.fields[DATE]
    match = _DATE.match(text)
    month = _MONTHS.get(match.group(2).lower()) if match else None
    if match is None or month is None:
        raise ReleaseFileError(path, row.number, "observation date", f"{text!r} is not a DD-Mon-YYYY date")
    day, year = int(match.group(1)), int(match.group(3))
    last_day = calendar.monthrange(year, month)[1]
    if day != last_day:
        raise ReleaseFileError(
            path, row.number, "observation date", f"{text!r} is not a month end ({date(year, month, last_day)})"
        )
    return f"{year:04d}-{month:02d}"


def _figure(path: Path, row: _Row, period: str, hierarchy: Hierarchy) -> SourceFigure | None:
    """The export figure a row holds, or None for a debit, a line outside EBOPS 9, an empty value."""
    series = _series(path, row, hierarchy)
    if series is None or not row.fields[VALUE]:
        return None
    return SourceFigure(
        period=period,
        series_code=series,
        value_usd_thousand=_value_in_thousands(path, row),
        basis="month",
        note=_note(row),
        source_row=row.number,
    )


def _series(path: Path, row: _Row, hierarchy: Hierarchy) -> str | None:
    """The series a credit line maps to; None for debits and lines outside the hierarchy."""
    name = normalise_label(row.fields[DISPLAY_NAME]).lstrip(".").strip()
    match = _DISPLAY_NAME.match(name)
    if match is None or match.group("side").lower() != "cr":
        return None
    code, label = match.group("code"), match.group("label")
    mapped = hierarchy.series_for_ebops_code(code) if code else None
    if label_words(label) == {"service"}:  # the all-services line, "Services-Cr" with or without a code
        if mapped not in (None, SERVICES_TOTAL):
            raise ReleaseFileError(path, row.number, "label", f"{name!r}: code {code} is not the all-services line")
        return SERVICES_TOTAL
    if mapped is None:
        return None
    _check_label(path, row, name, mapped, label, hierarchy)
    return mapped


def _check_label(path: Path, row: _Row, name: str, series: str, label: str, hierarchy: Hierarchy) -> None:
    """Reject a code whose label names another line (e.g. 9.2.1 printed with 9.2.2's label).

    SBP's spelling varies ("computer, and" vs "Computer and"), so labels are compared by
    their words (hierarchy.label_words): the label must share words with its own line and fit
    no other line better.
    """
    own = hierarchy.similarity(label, series)
    best_other, best_score = hierarchy.closest_other(label, series)
    if own == 0 or best_score > own:
        better = f"; it reads like {best_other} ({hierarchy.label(best_other)!r})" if best_other else ""
        raise ReleaseFileError(
            path, row.number, "label", f"{name!r}: the code maps to {series} ({hierarchy.label(series)!r}){better}"
        )


def _value_in_thousands(path: Path, row: _Row) -> str:
    """The value as printed in thousand US$; a value in millions is scaled exactly."""
    text, unit = row.fields[VALUE], normalise_label(row.fields[UNIT]).lower()
    try:
        finite = Decimal(text).is_finite()
    except InvalidOperation as exc:
        raise ReleaseFileError(path, row.number, "value", f"{VALUE} {text!r} is not a number") from exc
    if not finite:  # NaN, Infinity: sNaN would even raise when compared
        raise ReleaseFileError(path, row.number, "value", f"{VALUE} {text!r} is not a finite number")
    if unit == _THOUSAND_USD:
        return text
    if unit == _MILLION_USD:
        return millions_to_thousands(text)
    raise ReleaseFileError(path, row.number, "unit", f"{row.fields[UNIT]!r} is not Thousand USD (or Million USD)")


def _note(row: _Row) -> str:
    """'' for a Normal observation; otherwise the status in lower case, and its comment."""
    status, comment = normalise_label(row.fields[STATUS]), normalise_label(row.fields[STATUS_COMMENT])
    if status.lower() in ("", "normal"):
        return comment
    return f"{status.lower()}; {comment}" if comment else status.lower()


def _add_figure(path: Path, figures: dict[tuple[str, str], SourceFigure], figure: SourceFigure) -> None:
    """One value per series and month: a repeat is dropped, a contradiction is an error."""
    key = (figure.series_code, figure.period)
    earlier = figures.get(key)
    if earlier is None:
        figures[key] = figure
    elif Decimal(earlier.value_usd_thousand) != Decimal(figure.value_usd_thousand):
        raise ReleaseFileError(
            path,
            figure.source_row,
            "duplicate",
            f"{figure.series_code} {figure.period} is {figure.value_usd_thousand} here"
            f" and {earlier.value_usd_thousand} at row {earlier.source_row}",
        )


def _month_range(periods: list[str]) -> str:
    """['2025-07', ..., '2026-05'] -> 'Jul 2025 - May 2026'."""

    def label(period: str) -> str:
        year, month = period.split("-")
        return f"{MONTH_ABBR[int(month) - 1]} {year}"

    first, last = label(periods[0]), label(periods[-1])
    return first if first == last else f"{first} - {last}"
