"""SBP's EBOPS workbook parser against fixtures built from the public record
(tests/fixtures/make_sbp_workbooks.py). Expected values are computed from the record here,
never typed in."""

import csv
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from conftest import RECORD, REPO
from python_calamine import CalamineWorkbook

from orchestration.lib.hierarchy import label_words, load_hierarchy
from orchestration.lib.release import EBOPS_WORKBOOK, ReleaseFileError
from orchestration.lib.sources import ebops_workbook
from orchestration.lib.sources.ebops_workbook import cell_number_text, column_letters, parse_period_header

FIXTURES = REPO / "tests" / "fixtures" / "sbp"
JUL_MAY_XLS = FIXTURES / "ebops_jul-may_fy26.xls"
JUL_MAY_XLSX = FIXTURES / "ebops_jul-may_fy26.xlsx"
JUL_MAR_XLSX = FIXTURES / "ebops_jul-mar_fy26.xlsx"
HIERARCHY = load_hierarchy(REPO / "dbt_project" / "seeds" / "series_hierarchy.csv")
parse_ebops_workbook = partial(ebops_workbook.parse_ebops_workbook, hierarchy=HIERARCHY)

JUL_MAY_BLOCKS = [
    ("2025-05", "month"),
    ("2026-04", "month"),
    ("2026-05", "month"),
    ("2025-05", "fytd_Jul-May"),
    ("2026-05", "fytd_Jul-May"),
]
JUL_MAR_BLOCKS = [
    ("2025-03", "month"),
    ("2026-02", "month"),
    ("2026-03", "month"),
    ("2025-03", "fytd_Jul-Mar"),
    ("2026-03", "fytd_Jul-Mar"),
]


# --- what the record says -------------------------------------------------------------------


def parents() -> dict[str, str]:
    return {line.series_code: line.parent_series_code for line in HIERARCHY.lines if line.parent_series_code}


def record_printings(blocks, series) -> dict[tuple[str, str, str], str]:
    """The record's SBP printing a fixture cell was built from: printings of the EBOPS
    workbook first, then any SBP printing; the most recent (undated = oldest) wins."""
    with RECORD.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["publisher"] == "SBP"]
    chosen: dict[tuple[str, str, str], dict[str, str]] = {}
    for row in rows:
        key = (row["series_code"], row["period"], row["basis"])
        if (row["period"], row["basis"]) not in blocks or row["series_code"] not in series:
            continue
        rank = ("EBOPS workbook" in row["note"], row["published_on"] or "0000")
        best = chosen.get(key)
        if best is None or rank > ("EBOPS workbook" in best["note"], best["published_on"] or "0000"):
            chosen[key] = row
    return {k: r["value_usd_thousand"] for k, r in chosen.items()}


def ebops9_series(with_freelance: bool = True) -> set[str]:
    lines = set(parents()) | {"ict_total"}
    return lines if with_freelance else lines - {"computer_freelance"}


def sheet_rows(path: Path) -> list[list]:
    """The "EBOPS " sheet as calamine reads it, from A1 (list index + 1 = row number)."""
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("EBOPS ").to_python(skip_empty_area=False)


def by_key(parsed):
    return {(f.series_code, f.period, f.basis): f for f in parsed.figures}


# --- workbook variants ----------------------------------------------------------------------


def edited_copy(tmp_path: Path, source: Path, edit, name: str = "variant.xlsx") -> Path:
    book = openpyxl.load_workbook(source)
    edit(book["EBOPS "])
    path = tmp_path / name
    book.save(path)
    return path


def row_of(sheet, code_prefix: str) -> int:
    for row in range(1, sheet.max_row + 1):
        value = sheet.cell(row=row, column=1).value
        if isinstance(value, str) and value.replace("\u00a0", " ").startswith(code_prefix + " "):
            return row
    raise AssertionError(f"no row {code_prefix}")


# --- the Jul-May FY26 edition ----------------------------------------------------------------


@pytest.fixture(scope="module")
def jul_may():
    return parse_ebops_workbook(JUL_MAY_XLS)


def test_xls_and_xlsx_give_identical_figures(jul_may):
    from_xlsx = parse_ebops_workbook(JUL_MAY_XLSX)
    assert from_xlsx.figures == jul_may.figures
    assert from_xlsx.header_periods == jul_may.header_periods
    assert from_xlsx.description == jul_may.description == "EBOPS workbook, Jul-May FY26"
    assert jul_may.format == EBOPS_WORKBOOK
    assert jul_may.stated_published_on is None


def test_header_periods_list_the_five_blocks(jul_may):
    assert jul_may.header_periods == JUL_MAY_BLOCKS


def test_the_date_serial_year_ago_header_reads_as_may_25(jul_may):
    header = sheet_rows(JUL_MAY_XLS)[6]
    assert isinstance(header[1], date)  # the 45808 serial with its date format
    assert jul_may.header_periods[0] == ("2025-05", "month")
    assert ("ict_total", "2025-05", "month") in by_key(jul_may)


def test_a_bare_date_serial_without_its_date_format_also_reads_as_may_25(tmp_path):
    def unformat(sheet):
        sheet["B7"].number_format = "General"

    path = edited_copy(tmp_path, JUL_MAY_XLSX, unformat)
    assert sheet_rows(path)[6][1] == 45808
    assert parse_ebops_workbook(path).figures == parse_ebops_workbook(JUL_MAY_XLSX).figures


def test_every_value_equals_the_record_printing_it_was_built_from(jul_may):
    expected = record_printings(JUL_MAY_BLOCKS, ebops9_series() | {"services_total"})
    parsed = by_key(jul_may)
    assert expected, "the record has printings for this edition"
    for key, value in expected.items():
        assert key in parsed, f"{key} is printed in the record but not read from the workbook"
        assert parsed[key].value_usd_thousand == value, key


def test_every_line_of_ebops9_is_read_for_every_block(jul_may):
    keys = set(by_key(jul_may))
    for series in ebops9_series():
        for period, basis in JUL_MAY_BLOCKS:
            assert (series, period, basis) in keys


def test_services_total_is_read_only_where_the_cell_holds_a_value(jul_may):
    expected = record_printings(JUL_MAY_BLOCKS, {"services_total"})
    read = {k: f.value_usd_thousand for k, f in by_key(jul_may).items() if k[0] == "services_total"}
    assert read == expected  # May-25 has no printing: its cell is empty and yields nothing


def test_revised_and_provisional_marks_land_in_note(jul_may):
    notes = {(f.period, f.basis): f.note for f in jul_may.figures}
    assert notes == {
        ("2025-05", "month"): "",
        ("2026-04", "month"): "revised",
        ("2026-05", "month"): "provisional",
        ("2025-05", "fytd_Jul-May"): "",
        ("2026-05", "fytd_Jul-May"): "provisional",
    }


def assert_children_sum_to_parents(parsed, blocks, series):
    """Exact where the fixture filled a cell; where the parent and all its children are
    record printings, they may differ by the record's rounding (10 thousand US$ each)."""
    printed = record_printings(blocks, series)
    values = {k: Decimal(f.value_usd_thousand) for k, f in by_key(parsed).items()}
    children: dict[str, list[str]] = {}
    for child, parent in parents().items():
        if child in series:
            children.setdefault(parent, []).append(child)
    checked = 0
    for parent, kids in children.items():
        for period, basis in blocks:
            family = [(s, period, basis) for s in [parent, *kids]]
            total = sum(values[k] for k in family[1:])
            if all(k in printed for k in family):
                assert abs(values[family[0]] - total) <= 5 * len(family), family[0]
            else:
                assert values[family[0]] == total, family[0]
            checked += 1
    assert checked == len(children) * len(blocks)


def test_children_sum_to_parents(jul_may):
    assert_children_sum_to_parents(jul_may, JUL_MAY_BLOCKS, ebops9_series())


def test_labels_with_non_breaking_and_doubled_spaces_are_found(jul_may):
    column_a = [row[0] for row in sheet_rows(JUL_MAY_XLS)]
    odd_rows = {
        number
        for number, label in enumerate(column_a, start=1)
        if isinstance(label, str) and label.startswith("9") and ("\u00a0" in label or "  " in label)
    }
    assert len(odd_rows) >= 5  # 9., 9.1, 9.2, 9.2.1, 9.2.2, 9.2.4, 9.3 in SBP's capture
    assert odd_rows <= {f.source_row for f in jul_may.figures}


def test_source_row_is_the_spreadsheet_row(jul_may):
    rows = {f.series_code: f.source_row for f in jul_may.figures}
    column_a = [row[0] for row in sheet_rows(JUL_MAY_XLS)]
    assert column_a[rows["services_total"] - 1] == "Services"
    assert column_a[rows["computer_freelance"] - 1].startswith("9.2.5 ")


# --- the Jul-Mar FY26 edition: no 9.2.5, a text year-ago header ---------------------------


@pytest.fixture(scope="module")
def jul_mar():
    return parse_ebops_workbook(JUL_MAR_XLSX)


def test_edition_without_freelance_line_parses(jul_mar, jul_may):
    assert jul_mar.description == "EBOPS workbook, Jul-Mar FY26"
    assert not [f for f in jul_mar.figures if f.series_code == "computer_freelance"]
    rows_mar = {f.series_code: f.source_row for f in jul_mar.figures}
    rows_may = {f.series_code: f.source_row for f in jul_may.figures}
    assert rows_mar["other_computer"] == rows_may["other_computer"] - 1  # the rows below 9.2.5 moved up


def test_text_year_ago_header_and_revised_month(jul_mar):
    assert jul_mar.header_periods == JUL_MAR_BLOCKS
    notes = {(f.period, f.basis): f.note for f in jul_mar.figures}
    assert notes[("2025-03", "month")] == ""
    assert notes[("2026-02", "month")] == "revised"
    assert notes[("2026-03", "month")] == "provisional"


def test_jul_mar_values_equal_the_record_and_add_up(jul_mar):
    series = ebops9_series(with_freelance=False)
    expected = record_printings(JUL_MAR_BLOCKS, series | {"services_total"})
    parsed = by_key(jul_mar)
    for key, value in expected.items():
        assert parsed[key].value_usd_thousand == value, key
    assert_children_sum_to_parents(jul_mar, JUL_MAR_BLOCKS, series)


# --- rows found by content, not position -----------------------------------------------------


def test_moved_rows_still_parse(tmp_path, jul_may):
    def insert_blank_rows(sheet):
        sheet.insert_rows(row_of(sheet, "9.2"))  # inside EBOPS 9
        sheet.insert_rows(5)  # above the header

    parsed = parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, insert_blank_rows))
    original = {k: f.value_usd_thousand for k, f in by_key(jul_may).items()}
    assert {k: f.value_usd_thousand for k, f in by_key(parsed).items()} == original
    assert parsed.header_periods == jul_may.header_periods
    moved = {f.series_code: f.source_row for f in parsed.figures}
    before = {f.series_code: f.source_row for f in jul_may.figures}
    assert moved["telecom_services"] == before["telecom_services"] + 1
    assert moved["other_information"] == before["other_information"] + 2


def test_sbp_wording_differences_are_accepted(tmp_path, jul_may):
    def reword(sheet):
        sheet.cell(row=row_of(sheet, "9.1.2"), column=1).value = "9.1.2 Telecommunications services"
        sheet.cell(row=row_of(sheet, "9.2.3"), column=1).value = "9.2.3  Maintenance and repair of computers "
        sheet.cell(row=row_of(sheet, "9.1.1"), column=1).value = "9.1.1 CALL CENTERS"

    parsed = parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, reword))
    assert parsed.figures == jul_may.figures


def test_a_label_that_contradicts_its_code_fails(tmp_path):
    row = {}

    def swap(sheet):
        row["n"] = row_of(sheet, "9.2.1")
        sheet.cell(row=row["n"], column=1).value = "9.2.1 Software consultancy services"

    path = edited_copy(tmp_path, JUL_MAY_XLSX, swap, name="swapped.xlsx")
    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(path)
    assert raised.value.rule == "label"
    assert raised.value.row == row["n"]
    assert "swapped.xlsx" in str(raised.value) and "label" in str(raised.value)


def test_a_line_twice_fails(tmp_path):
    def duplicate(sheet):
        sheet.cell(row=sheet.max_row + 2, column=1).value = "9.3 Information services"

    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, duplicate))
    assert raised.value.rule == "duplicate"


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (329290.0, "329290"),
        (329290, "329290"),
        (12.34, "12.34"),
        (0.1 + 0.2, "0.3"),
        (-1250.5, "-1250.5"),
        (0.0, "0"),
        ("5,851", "5851"),
        (" 12.50 ", "12.50"),
        ("", None),
        ("-", None),
        (None, None),
    ],
)
def test_cell_number_text_has_no_float_noise(cell, text):
    assert cell_number_text(cell) == text


@pytest.mark.parametrize("cell", ["n/a x", "12,3a", True, date(2025, 5, 31), float("nan")])
def test_cell_number_text_rejects_what_is_not_a_number(cell):
    with pytest.raises(ValueError):
        cell_number_text(cell)


def test_decimal_and_text_cells_in_the_workbook(tmp_path):
    def decimals(sheet):
        sheet.cell(row=row_of(sheet, "9.3.1"), column=2).value = 12.34
        sheet.cell(row=row_of(sheet, "9.3.2"), column=2).value = "1,234.5"

    figures = by_key(parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, decimals)))
    assert figures[("news_agency", "2025-05", "month")].value_usd_thousand == "12.34"
    assert figures[("other_information", "2025-05", "month")].value_usd_thousand == "1234.5"


def test_a_credit_cell_that_is_not_a_number_fails(tmp_path):
    def garble(sheet):
        sheet.cell(row=row_of(sheet, "9.2.2"), column=5).value = "see note"

    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, garble))
    row = row_of(openpyxl.load_workbook(JUL_MAY_XLSX)["EBOPS "], "9.2.2")
    assert (raised.value.rule, raised.value.row) == ("value", row)
    # the sheet, the cell, what it should hold and the text as printed
    assert raised.value.detail == (
        f"sheet 'EBOPS ', cell E{row} (software_consultancy, 2026-04 month): the text 'see note' is not a number"
    )


@pytest.mark.parametrize(("column", "letters"), [(0, "A"), (4, "E"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA")])
def test_column_letters(column, letters):
    assert column_letters(column) == letters


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Apr-26 (R)", ("2026-04", "month", "revised")),
        ("May-26 (P)", ("2026-05", "month", "provisional")),
        ("Mar-25", ("2025-03", "month", "")),
        ("Jul-May, FY25", ("2025-05", "fytd_Jul-May", "")),
        ("Jul-May, FY26 (P)", ("2026-05", "fytd_Jul-May", "provisional")),
        ("Jul-Dec, FY26", ("2025-12", "fytd_Jul-Dec", "")),
        ("Jul-Jun, FY25 (R)", ("2025-06", "fytd_Jul-Jun", "revised")),
        ("Jul, FY26", ("2025-07", "fytd_Jul", "")),
        ("Jul-May,\u00a0 FY26  (P) ", ("2026-05", "fytd_Jul-May", "provisional")),
        (45808, ("2025-05", "month", "")),
        (45808.0, ("2025-05", "month", "")),
        (date(2025, 5, 31), ("2025-05", "month", "")),
        (datetime(2026, 4, 30, 0, 0), ("2026-04", "month", "")),
    ],
)
def test_period_headers(cell, expected):
    assert parse_period_header(cell) == expected


@pytest.mark.parametrize("cell", ["FY26", "Jul-May", "Aug-May, FY26", "Apr-26 (X)", "Total", 12, -3.0])
def test_unreadable_period_headers(cell):
    with pytest.raises(ValueError):
        parse_period_header(cell)


def test_an_unreadable_header_cell_fails_with_rule_header(tmp_path):
    def garble(sheet):
        sheet["H7"] = "Latest month"

    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, garble))
    assert (raised.value.rule, raised.value.row) == ("header", 7)


def test_a_header_outside_the_credit_columns_fails(tmp_path):
    def shift(sheet):
        sheet["F7"] = sheet["E7"].value
        sheet["E7"] = None

    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, shift))
    assert raised.value.rule == "header"


def test_no_header_row_fails(tmp_path):
    def drop(sheet):
        for column in range(2, 17):
            sheet.cell(row=7, column=column).value = None

    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(edited_copy(tmp_path, JUL_MAY_XLSX, drop))
    assert raised.value.rule == "header"


def test_label_words_tell_lines_apart():
    assert label_words("Telecommunication services ") == label_words("Telecommunications  services")
    assert label_words("Maintenance & repairs of computer") == label_words("maintenance and repair of computers")
    assert label_words("Hardware consultancy services") != label_words("Software consultancy services")
    assert label_words("Other Computer services") != label_words("Computer services")


# --- files that are not the workbook ---------------------------------------------------------


def test_a_truncated_workbook_fails_with_rule_workbook():
    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(FIXTURES / "ebops_truncated.xls")
    assert raised.value.rule == "workbook"
    assert "ebops_truncated.xls" in str(raised.value) and "workbook" in str(raised.value)
    assert raised.value.detail.startswith("truncated or corrupt workbook: ")


def test_a_text_file_named_xls_fails_with_rule_workbook(tmp_path):
    path = tmp_path / "dt.xls"
    path.write_text("<html>Service unavailable</html>")
    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(path)
    assert raised.value.rule == "workbook"
    assert "dt.xls" in str(raised.value)


def test_a_workbook_of_another_kind_fails_with_rule_sheet():
    with pytest.raises(ReleaseFileError) as raised:
        parse_ebops_workbook(FIXTURES / "not_ebops.xlsx")
    assert raised.value.rule == "sheet"
    assert "not_ebops.xlsx" in str(raised.value) and "sheet" in str(raised.value)
    assert raised.value.detail == "the workbook has no sheet named 'EBOPS '; its sheets: 'Sheet1'"
