"""SBP's summary balance of payments parser against the July 2020 edition (FORMATS.md
section 3) and a July 2026 edition built from the record's headline printings."""

import csv
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from conftest import RECORD, REPO

from orchestration.lib.hierarchy import load_hierarchy
from orchestration.lib.release import BPM6_SUMMARY, ReleaseFileError
from orchestration.lib.sources import bpm6_summary
from orchestration.lib.sources.bpm6_summary import column_basis, series_of_row

FIXTURES = REPO / "tests" / "fixtures" / "sbp"
HIERARCHY = load_hierarchy(REPO / "dbt_project" / "seeds" / "series_hierarchy.csv")
parse_bpm6_summary = partial(bpm6_summary.parse_bpm6_summary, hierarchy=HIERARCHY)
JULY_2020 = FIXTURES / "bpm6_july_2020.xls"
JULY_2026 = FIXTURES / "bpm6_july_2026.xls"
HEADLINE_SOURCES = ("BPM6 summary", "ExportsImports-Goods.pdf")


def sbp_rows() -> list[dict[str, str]]:
    with RECORD.open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["publisher"] == "SBP"]


def values(parsed) -> dict[tuple[str, str, str], str]:
    return {(f.series_code, f.period, f.basis): f.value_usd_thousand for f in parsed.figures}


# --- July 2020 ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def july_2020():
    return parse_bpm6_summary(JULY_2020)


def test_july_2020_maps_every_column(july_2020):
    assert july_2020.format == BPM6_SUMMARY
    assert july_2020.description == "BPM6 summary, July 2020"
    assert july_2020.stated_published_on is None
    assert july_2020.header_periods == [
        ("2018-06", "fytd_Jul-Jun"),  # Jul-Jun FY18
        ("2019-06", "fytd_Jul-Jun"),  # Jul-Jun FY19
        ("2019-09", "fytd_Jul-Sep"),  # Jul-Sep FY20: first quarter and year to date at once
        ("2019-12", "quarter_Oct-Dec"),  # Oct-Dec FY20
        ("2020-03", "quarter_Jan-Mar"),  # Jan-Mar FY20
        ("2020-06", "month"),  # Jun FY20
        ("2020-06", "quarter_Apr-Jun"),  # Apr-Jun FY20
        ("2020-06", "fytd_Jul-Jun"),  # Jul-Jun FY20
        ("2020-07", "month"),  # Jul FY21
        ("2019-07", "month"),  # Jul FY20, under the "Jul" merged over two columns
    ]


def test_july_2020_values_are_the_record_printings_in_thousands(july_2020):
    expected = {
        (r["series_code"], r["period"], r["basis"]): r["value_usd_thousand"]
        for r in sbp_rows()
        if "BPM6 - July 2020" in r["note"]
    }
    assert len(expected) == 10
    assert values(july_2020) == expected


def test_july_2020_marks(july_2020):
    notes = {(f.period, f.basis): f.note for f in july_2020.figures}
    for row in sbp_rows():
        if "BPM6 - July 2020" in row["note"]:
            key = (row["period"], row["basis"])
            if row["note"].endswith(" R"):
                assert notes[key] == "revised", key
            if row["note"].endswith("(P)"):
                assert notes[key] == "provisional", key
    assert notes[("2020-06", "month")] == "revised"  # the fixture's placement of the third R
    assert [n for n in notes.values() if n] == ["revised", "revised", "revised", "provisional"]


def test_other_rows_are_ignored(july_2020):
    assert {f.series_code for f in july_2020.figures} == {"services_total"}
    assert {f.source_row for f in july_2020.figures} == {7}


# --- July 2026: another set of columns, the ICT line -----------------------------------------


@pytest.fixture(scope="module")
def july_2026():
    return parse_bpm6_summary(JULY_2026)


def headline_printing(series: str, period: str, basis: str) -> str | None:
    """The record's most recent printing in SBP's headline files; July alone is also printed
    as fytd_Jul."""
    bases = [basis] + (["fytd_Jul"] if basis == "month" and period.endswith("-07") else [])
    rows = [
        r
        for r in sbp_rows()
        if (r["series_code"], r["period"]) == (series, period)
        and r["basis"] in bases
        and any(s in r["note"] for s in HEADLINE_SOURCES)
    ]
    return max(rows, key=lambda r: r["published_on"])["value_usd_thousand"] if rows else None


def test_july_2026_maps_its_own_columns(july_2026):
    assert july_2026.description == "BPM6 summary, July 2026"
    assert july_2026.header_periods == [
        ("2025-06", "fytd_Jul-Jun"),
        ("2026-06", "fytd_Jul-Jun"),
        ("2026-06", "month"),
        ("2026-07", "month"),
        ("2025-07", "month"),
    ]


def test_july_2026_values_equal_the_record(july_2026):
    expected = {}
    for series in ("ict_total", "services_total"):
        for period, basis in july_2026.header_periods:
            value = headline_printing(series, period, basis)
            if value is not None:
                expected[(series, period, basis)] = value
    assert {k for k in expected if k[0] == "ict_total"} == {("ict_total", *p) for p in july_2026.header_periods}
    assert values(july_2026) == expected  # cells without a printing are empty and yield nothing


def test_july_2026_marks(july_2026):
    notes = {(f.period, f.basis): f.note for f in july_2026.figures}
    assert notes == {
        ("2025-06", "fytd_Jul-Jun"): "",
        ("2026-06", "fytd_Jul-Jun"): "provisional",
        ("2026-06", "month"): "revised",
        ("2026-07", "month"): "provisional",
        ("2025-07", "month"): "",
    }


# --- columns and rows -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jul-Jun", (6, "fytd_Jul-Jun")),
        ("Jul-Sep", (9, "fytd_Jul-Sep")),
        ("Jul-Mar", (3, "fytd_Jul-Mar")),
        ("Oct-Dec", (12, "quarter_Oct-Dec")),
        ("Jan-Mar", (3, "quarter_Jan-Mar")),
        ("Apr-Jun", (6, "quarter_Apr-Jun")),
        ("Jun", (6, "month")),
        ("Jul", (7, "month")),
        ("jul - jun", (6, "fytd_Jul-Jun")),
    ],
)
def test_column_basis(text, expected):
    assert column_basis(text) == expected


@pytest.mark.parametrize("text", ["Jan-Jun", "Aug-Oct", "Jul-Jul", "Total", "FY20"])
def test_column_basis_rejects_ranges_with_no_basis(text):
    with pytest.raises(ValueError):
        column_basis(text)


@pytest.mark.parametrize(
    ("label", "series"),
    [
        ("Exports of Services", "services_total"),
        ("  exports of  services ", "services_total"),
        ("Telecommunications, computer, and information services", "ict_total"),
        ("Telecommunications,\u00a0 Computer and Information Services ", "ict_total"),
        ("9. Telecommunications, computer, and information services", "ict_total"),
        ("Imports of Services", None),
        ("Computer services", None),
        ("", None),
    ],
)
def test_rows_kept(label, series):
    assert series_of_row(label, HIERARCHY) == series


# --- editions built here ----------------------------------------------------------------------


def write_summary(path: Path, rows: list[list]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "BPM6_Summary"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def edition(ranges, marks, years, values=(), unit="(Million US$)"):
    return [
        ["Summary Balance of Payments as per BPM6 - August 2022"],
        [unit],
        [None, *ranges],
        ["Items", *marks],
        [None, *years],
        ["Exports of Services", *values],
    ]


def test_an_xlsx_edition_with_fytd_columns(tmp_path):
    rows = edition(["Jul-Jun", "Jul-Aug", None, "Aug"], ["", "", "", "P"], ["FY22", "FY23", "FY22", "FY23"])
    rows[-1][1:] = [6957, "1,130", 1044, 575]
    parsed = parse_bpm6_summary(write_summary(tmp_path / "bpm6.xlsx", rows))
    assert values(parsed) == {
        ("services_total", "2022-06", "fytd_Jul-Jun"): "6957000",
        ("services_total", "2022-08", "fytd_Jul-Aug"): "1130000",
        ("services_total", "2021-08", "fytd_Jul-Aug"): "1044000",
        ("services_total", "2022-08", "month"): "575000",
    }


def test_a_range_with_no_basis_fails_with_rule_header(tmp_path):
    rows = edition(["Jan-Jun"], [""], ["FY20"], [100])
    with pytest.raises(ReleaseFileError) as raised:
        parse_bpm6_summary(write_summary(tmp_path / "bpm6.xlsx", rows))
    assert (raised.value.rule, raised.value.row) == ("header", 3)
    assert "bpm6.xlsx" in str(raised.value)


def test_an_unknown_mark_fails_with_rule_header(tmp_path):
    rows = edition(["Jun"], ["X"], ["FY20"], [100])
    with pytest.raises(ReleaseFileError) as raised:
        parse_bpm6_summary(write_summary(tmp_path / "bpm6.xlsx", rows))
    assert (raised.value.rule, raised.value.row) == ("header", 4)


def test_no_fiscal_year_row_fails_with_rule_header(tmp_path):
    rows = edition(["Jun"], [""], ["2020"], [100])
    with pytest.raises(ReleaseFileError) as raised:
        parse_bpm6_summary(write_summary(tmp_path / "bpm6.xlsx", rows))
    assert raised.value.rule == "header"


def test_another_unit_fails_with_rule_unit(tmp_path):
    rows = edition(["Jun"], [""], ["FY20"], [100], unit="(Thousand US$)")
    with pytest.raises(ReleaseFileError) as raised:
        parse_bpm6_summary(write_summary(tmp_path / "bpm6.xlsx", rows))
    assert raised.value.rule == "unit"


def test_a_value_that_is_not_a_number_fails_with_rule_value(tmp_path):
    rows = edition(["Jun"], [""], ["FY20"], ["n/a x"])
    with pytest.raises(ReleaseFileError) as raised:
        parse_bpm6_summary(write_summary(tmp_path / "bpm6.xlsx", rows))
    assert (raised.value.rule, raised.value.row) == ("value", 6)


def test_files_that_are_not_the_summary():
    with pytest.raises(ReleaseFileError) as raised:
        parse_bpm6_summary(FIXTURES / "not_ebops.xlsx")
    assert raised.value.rule == "sheet"
    with pytest.raises(ReleaseFileError) as raised:
        parse_bpm6_summary(FIXTURES / "ebops_truncated.xls")
    assert raised.value.rule == "workbook"
    assert "ebops_truncated.xls" in str(raised.value)
