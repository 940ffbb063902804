"""A file the warehouse cannot read is refused with a precise rule and a detail a person
understands (record.RULES), never the catch-all "format" when more is known; good files
read exactly as before."""

import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import RECORD, REPO

from orchestration.lib.record import MAX_RELEASE_FILE_BYTES, read_release_file
from orchestration.lib.release import RECORD_COLUMNS, RULES, ReleaseFileError
from orchestration.lib.sources.detect import detect_format, identify_format
from orchestration.lib.sources.easydata import COLUMNS as EASYDATA_COLUMNS

SBP = REPO / "tests" / "fixtures" / "sbp"
EASYDATA = REPO / "tests" / "fixtures" / "easydata"
EBOPS_XLS = SBP / "ebops_jul-may_fy26.xls"
EBOPS_XLSX = SBP / "ebops_jul-may_fy26.xlsx"
RECORD_HEADER = ",".join(RECORD_COLUMNS)
GOOD_ROW = "2024-01,ict_total,300000,month,SBP,2024-02-20,https://e.org,,source"
MB = 1024 * 1024


def written(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def refused(path: Path, **kwargs) -> ReleaseFileError:
    """The error read_release_file raises; its rule is documented and detection agrees."""
    with pytest.raises(ReleaseFileError) as raised:
        read_release_file(path, bundled=False, **kwargs)
    error = raised.value
    assert error.rule in RULES, error.rule
    assert str(error).startswith(f"{path}")
    assert f": {error.rule}: {error.detail}" in str(error)
    return error


# --- empty ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n\r\n\t\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n \n"],
    ids=["0 bytes", "blanks", "bom", "bom+blanks"],
)
def test_an_empty_file(tmp_path, content):
    error = refused(written(tmp_path / "empty.csv", content))
    assert (error.rule, error.row, error.detail) == ("empty", None, "the file is empty")
    assert detect_format(tmp_path / "empty.csv") is None


# --- delimiter ------------------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")])
def test_a_record_with_another_delimiter(tmp_path, delimiter, name):
    text = delimiter.join(RECORD_COLUMNS) + "\n" + GOOD_ROW.replace(",", delimiter) + "\n"
    error = refused(written(tmp_path / "semi.csv", text))
    assert (error.rule, error.row) == ("delimiter", 1)
    assert name in error.detail and repr(delimiter) in error.detail
    assert "the record layout is comma-separated" in error.detail


def test_an_easydata_download_with_semicolons(tmp_path):
    text = (EASYDATA / "trdser_fy26.csv").read_text().replace('","', '";"')
    error = refused(written(tmp_path / "trdser.csv", text))
    assert error.rule == "delimiter"
    assert "semicolons" in error.detail and "EasyData CSV is comma-separated" in error.detail


# --- header ---------------------------------------------------------------------------------


def test_a_record_header_with_a_column_renamed(tmp_path):
    header = RECORD_HEADER.replace(",note,", ",comment,")
    error = refused(written(tmp_path / "renamed.csv", f"{header}\n{GOOD_ROW}\n"))
    assert (error.rule, error.row) == ("header", 1)
    assert error.detail.startswith("missing: note; unknown: comment")
    assert RECORD_HEADER in error.detail  # and what the layout is


def test_a_record_header_missing_columns(tmp_path):
    header = ",".join(c for c in RECORD_COLUMNS if c not in ("note", "published_on_source"))
    error = refused(written(tmp_path / "short.csv", header + "\n"))
    assert error.rule == "header"
    assert error.detail.startswith("missing: note, published_on_source (")
    assert "unknown" not in error.detail


def test_a_record_header_with_a_trailing_comma(tmp_path):
    error = refused(written(tmp_path / "trailing.csv", RECORD_HEADER + ",\n"))
    assert error.rule == "header"
    assert error.detail.startswith("unknown: (unnamed column 10)")


def test_a_record_header_in_another_order(tmp_path):
    header = ",".join(reversed(RECORD_COLUMNS))
    error = refused(written(tmp_path / "reversed.csv", header + "\n"))
    assert error.rule == "header"
    assert "another order" in error.detail and header in error.detail


def test_an_easydata_header_missing_columns(tmp_path):
    header = ",".join(f'"{c}"' for c in EASYDATA_COLUMNS if c not in ("Unit", "Series name"))
    error = refused(written(tmp_path / "trdser.csv", header + ',"Units"\n'))
    assert (error.rule, error.row) == ("header", 1)
    assert error.detail.startswith("missing: Unit, Series name; unknown: Units")


def test_easydata_json_with_columns_missing(tmp_path):
    text = (EASYDATA / "trdser_ict_total.json").read_text().replace('"Observation Value"', '"Value"')
    error = refused(written(tmp_path / "api.json", text))
    assert error.rule == "header"
    assert error.detail.startswith("missing: Observation Value; unknown: Value")


def test_three_record_columns_look_like_the_record_two_do_not(tmp_path):
    """The threshold: at least 3 of a layout's columns (without case) make a header "look like" it."""
    three = refused(written(tmp_path / "three.csv", "period,Series_Code,value_usd_thousand,comment\n"))
    assert three.rule == "header"
    assert "missing: series_code, basis" in three.detail and "unknown: Series_Code, comment" in three.detail
    two = refused(written(tmp_path / "two.csv", "period,value_usd_thousand,comment\n"))
    assert two.rule == "format"


# --- format: a file that resembles nothing ----------------------------------------------------


def test_a_file_that_resembles_nothing_stays_rule_format(tmp_path):
    error = refused(written(tmp_path / "notes.csv", "date,value\n2025-07-31,354000\n"))
    assert (error.rule, error.row) == ("format", None)
    assert error.detail.startswith("not a release file this warehouse reads")
    assert "'date,value'" in error.detail  # its first line, to recognise the file by


def test_a_zip_that_is_not_a_workbook_is_rule_format(tmp_path):
    import zipfile

    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    error = refused(path)
    assert error.rule == "format" and "not an .xlsx workbook" in error.detail


# --- encoding -------------------------------------------------------------------------------


def test_a_byte_that_is_not_utf8_in_a_row(tmp_path):
    head = f"{RECORD_HEADER}\n{GOOD_ROW}\n".encode()
    bad_row = "2024-02,ict_total,1,month,SBP,2024-03-20,https://e.org,caf\u00e9,source\n".encode("latin-1")
    path = written(tmp_path / "latin1.csv", head + bad_row)
    offset = len(head) + bad_row.index(b"\xe9")
    error = refused(path)
    assert (error.rule, error.row) == ("encoding", 3)
    assert "0xE9" in error.detail and f"byte offset {offset} of the file" in error.detail
    assert "UTF-8" in error.detail


def test_a_byte_that_is_not_utf8_in_the_header(tmp_path):
    error = refused(written(tmp_path / "latin1.csv", "p\u00e9riod,x\n".encode("latin-1")))
    assert (error.rule, error.row) == ("encoding", 1)
    assert "0xE9 at byte offset 1 " in error.detail


def test_the_offset_counts_the_byte_order_mark(tmp_path):
    path = written(tmp_path / "bom.csv", b"\xef\xbb\xbf" + f"{RECORD_HEADER}\n".encode() + b"\xff\n")
    error = refused(path)
    assert (error.rule, error.row) == ("encoding", 2)
    assert f"0xFF at byte offset {3 + len(RECORD_HEADER) + 1} " in error.detail


def test_utf16_text_is_named(tmp_path):
    error = refused(written(tmp_path / "unicode.txt", f"{RECORD_HEADER}\n".encode("utf-16")))
    assert (error.rule, error.row) == ("encoding", 1)
    assert "0xFF at byte offset 0 " in error.detail and "UTF-16" in error.detail


def test_a_byte_that_is_not_utf8_in_an_easydata_download(tmp_path):
    lines = (EASYDATA / "trdser_fy26.csv").read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b"Normal", b"Norm\xe4l")
    path = written(tmp_path / "trdser.csv", b"\n".join(lines))
    error = refused(path)
    assert (error.rule, error.row) == ("encoding", 5)
    assert "0xE4" in error.detail


# --- workbooks ------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [EBOPS_XLS, EBOPS_XLSX], ids=["xls", "xlsx"])
def test_a_truncated_workbook(tmp_path, source):
    whole = source.read_bytes()
    path = written(tmp_path / f"dt{source.suffix}", whole[: len(whole) // 2])
    error = refused(path)
    assert (error.rule, error.row) == ("workbook", None)
    assert error.detail.startswith("truncated or corrupt workbook: ")
    assert len(error.detail) > len("truncated or corrupt workbook: ")  # with calamine's reason


def test_the_truncated_fixture_is_rule_workbook():
    error = refused(SBP / "ebops_truncated.xls")
    assert error.rule == "workbook" and "truncated or corrupt workbook" in error.detail


def test_a_workbook_without_the_sbp_sheets(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.create_sheet("EBOPS 2010")  # near, but not the sheet
    path = tmp_path / "dt.xlsx"
    book.save(path)
    error = refused(path)
    assert (error.rule, error.row) == ("sheet", None)
    assert "'EBOPS '" in error.detail and "'BPM6_Summary'" in error.detail  # the ones expected
    assert error.detail.endswith("its sheets: 'Data', 'EBOPS 2010'")  # the ones it has


def test_workbooks_are_opened_in_a_child_process(tmp_path, monkeypatch):
    """Calamine may abort on a corrupt file: detection must not open one in this process."""
    import python_calamine

    def forbidden(*args, **kwargs):
        raise AssertionError("calamine opened in the test process")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", forbidden)
    whole = EBOPS_XLS.read_bytes()
    with pytest.raises(ReleaseFileError) as raised:
        identify_format(written(tmp_path / "cut.xls", whole[:4096]))
    assert raised.value.rule == "workbook"


# --- values printed as text -----------------------------------------------------------------


def test_record_values_that_are_not_numbers_are_kept_as_printed(tmp_path):
    rows = [GOOD_ROW.replace("300000", value) for value in ("n/a", '"385,420"', "nan", "")]
    (release,) = read_release_file(written(tmp_path / "x.csv", "\n".join([RECORD_HEADER, *rows]) + "\n"), bundled=False)
    assert [f.value_usd_thousand for f in release.figures] == ["n/a", "385,420", "nan", ""]
    assert all(isinstance(f.value_usd_thousand, str) for f in release.figures)


def ebops_copy(tmp_path: Path, text: str) -> tuple[Path, int]:
    """The Jul-May workbook with the 9.2.2 credit of Apr-26 (column E) holding text."""
    book = openpyxl.load_workbook(EBOPS_XLSX)
    sheet = book["EBOPS "]
    row = next(r for r in range(1, sheet.max_row + 1) if str(sheet.cell(row=r, column=1).value).startswith("9.2.2"))
    sheet.cell(row=row, column=5).value = text
    path = tmp_path / "dt.xlsx"
    book.save(path)
    return path, row


def test_a_workbook_cell_of_text_names_the_sheet_and_cell(tmp_path):
    path, row = ebops_copy(tmp_path, "n/a")
    error = refused(path)
    assert (error.rule, error.row) == ("value", row)
    assert f"sheet 'EBOPS ', cell E{row}" in error.detail
    assert "software_consultancy, 2026-04 month" in error.detail
    assert "'n/a' is not a number" in error.detail  # the text as printed


def test_a_workbook_number_printed_as_text_with_separators_is_read(tmp_path):
    path, _ = ebops_copy(tmp_path, "385,420")
    (release,) = read_release_file(path, bundled=False)
    values = {(f.series_code, f.period, f.basis): f.value_usd_thousand for f in release.figures}
    assert values[("software_consultancy", "2026-04", "month")] == "385420"


def test_a_bpm6_cell_of_text_names_the_sheet_and_cell(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "BPM6_Summary"
    for row in [
        ["Summary Balance of Payments as per BPM6 - August 2022"],
        ["(Million US$)"],
        [None, "Jul-Jun", "Jun"],
        ["Items", "", "P"],
        [None, "FY22", "FY22"],
        ["Exports of Services", 6957, "5 ,85 1 (est)"],
    ]:
        sheet.append(row)
    path = tmp_path / "bpm6.xlsx"
    book.save(path)
    error = refused(path)
    assert (error.rule, error.row) == ("value", 6)
    assert "sheet 'BPM6_Summary', cell C6" in error.detail and "'5 ,85 1 (est)'" in error.detail


# --- size -----------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.truncate(MAX_RELEASE_FILE_BYTES + 5 * MB)  # sparse: no need to write 25 MB

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    error = refused(path)
    assert (error.rule, error.row) == ("size", None)
    assert error.detail == "25.0 MB is over the limit of 20 MB (ITX_MAX_FILE_MB)"


def test_the_limit_is_a_parameter(tmp_path):
    path = shutil.copy(RECORD, tmp_path / "record.csv")
    size = path.stat().st_size
    assert read_release_file(path, bundled=True, max_bytes=size)  # at the limit: read
    error = refused(path, max_bytes=size - 1)
    assert error.rule == "size"
    assert "over the limit of" in error.detail and f"{size:,} bytes" in error.detail  # both round alike
    small = refused(path, max_bytes=MB // 10)
    assert small.detail == f"{size / MB:.1f} MB is over the limit of 0.1 MB (ITX_MAX_FILE_MB)"


def test_the_default_limit_is_20_mb():
    assert MAX_RELEASE_FILE_BYTES == 20 * MB


# --- good files read exactly as before -------------------------------------------------------

# (file, bundled) -> (releases, figures), as read before these messages were added
GOOD_FILES = {
    (RECORD, True): (143, 935),
    (SBP / "bpm6_july_2020.xls", False): (1, 10),
    (SBP / "bpm6_july_2026.xls", False): (1, 8),
    (SBP / "ebops_jul-mar_fy26.xlsx", False): (1, 70),
    (SBP / "ebops_jul-may_fy26.xls", False): (1, 74),
    (SBP / "ebops_jul-may_fy26.xlsx", False): (1, 74),
    (EASYDATA / "trdser_fy26.csv", False): (1, 29),
    (EASYDATA / "trdser_ict_total.json", False): (1, 12),
}


@pytest.mark.parametrize(("file", "bundled"), list(GOOD_FILES), ids=[p.name for p, _ in GOOD_FILES])
def test_good_files_read_as_before(file, bundled):
    releases = read_release_file(file, bundled=bundled)
    assert (len(releases), sum(len(r.figures) for r in releases)) == GOOD_FILES[(file, bundled)]


@pytest.mark.parametrize(
    ("file", "rule", "row"),
    [
        (EASYDATA / "trdser_truncated.csv", "row shape", 11),  # the header is intact: the parser reports the cut
        (EASYDATA / "xreccom_sample.csv", "dataset", 2),
        (SBP / "not_ebops.xlsx", "sheet", None),
    ],
)
def test_bad_fixtures_keep_their_rule(file, rule, row):
    error = refused(file)
    assert (error.rule, error.row) == (rule, row)
