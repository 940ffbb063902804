"""detect_format judges a file by its content: misleading names do not fool it, junk is None;
identify_format says why, with a rule."""

import json
import random
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
import xlwt
from conftest import RECORD, REPO

from orchestration.lib.release import (
    BPM6_SUMMARY,
    EASYDATA_CSV,
    EASYDATA_JSON,
    EBOPS_WORKBOOK,
    RECORD_COLUMNS,
    RECORD_CSV,
    RULES,
    ReleaseFileError,
)
from orchestration.lib.sources.detect import OLE2_MAGIC, detect_format, identify_format
from orchestration.lib.sources.easydata import COLUMNS

EASYDATA = REPO / "tests" / "fixtures" / "easydata"


def xlsx(path: Path, *sheet_names: str) -> Path:
    book = openpyxl.Workbook()
    book.active.title = sheet_names[0]
    for name in sheet_names[1:]:
        book.create_sheet(name)
    for sheet in book.worksheets:
        sheet["A1"] = "Trade in Services"
    book.save(path)
    return path


def xls(path: Path, *sheet_names: str) -> Path:
    book = xlwt.Workbook()
    for name in sheet_names:
        book.add_sheet(name).write(0, 0, "Trade in Services")
    book.save(str(path))
    return path


def written(path: Path, content: bytes | str) -> Path:
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# --- each format, from content --------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("trdser_fy26.csv", EASYDATA_CSV),
        ("xreccom_sample.csv", EASYDATA_CSV),  # another dataset, but the EasyData layout
        ("trdser_truncated.csv", EASYDATA_CSV),  # the header is intact; parsing reports the cut
        ("trdser_ict_total.json", EASYDATA_JSON),
    ],
)
def test_easydata_fixtures_are_recognised(name, expected):
    assert detect_format(EASYDATA / name) == expected


def test_the_public_record_is_a_record_csv():
    assert detect_format(RECORD) == RECORD_CSV


def test_a_record_header_with_a_byte_order_mark_is_a_record_csv(tmp_path):
    path = written(tmp_path / "inbox_file.csv", "\ufeff" + ",".join(RECORD_COLUMNS) + "\r\n")
    assert detect_format(path) == RECORD_CSV


@pytest.mark.parametrize("make", [xlsx, xls], ids=["xlsx", "xls"])
@pytest.mark.parametrize(
    "sheets, expected",
    [
        (("EBOPS ",), EBOPS_WORKBOOK),  # SBP's own name, trailing space
        (("Notes", "EBOPS"), EBOPS_WORKBOOK),
        (("BPM6_Summary",), BPM6_SUMMARY),
        (("Sheet1",), None),
    ],
)
def test_workbooks_are_known_by_their_sheets(tmp_path, make, sheets, expected):
    assert detect_format(make(tmp_path / f"book.{make.__name__}", *sheets)) == expected


# --- misleading names ----------------------------------------------------------------------


def test_a_csv_named_like_a_workbook_is_still_a_csv(tmp_path):
    assert detect_format(shutil.copy(EASYDATA / "trdser_fy26.csv", tmp_path / "x.xls")) == EASYDATA_CSV
    assert detect_format(shutil.copy(RECORD, tmp_path / "x.xlsx")) == RECORD_CSV


def test_json_named_like_a_csv_is_still_json(tmp_path):
    assert detect_format(shutil.copy(EASYDATA / "trdser_ict_total.json", tmp_path / "x.csv")) == EASYDATA_JSON


@pytest.mark.parametrize("make, expected", [(xlsx, EBOPS_WORKBOOK), (xls, EBOPS_WORKBOOK)], ids=["xlsx", "xls"])
def test_a_workbook_named_like_a_csv_is_still_a_workbook(tmp_path, make, expected):
    assert detect_format(make(tmp_path / "x.csv", "EBOPS ")) == expected


def test_a_file_without_an_extension_is_judged_the_same(tmp_path):
    assert detect_format(xls(tmp_path / "download", "BPM6_Summary")) == BPM6_SUMMARY


# --- everything else is None, and nothing raises ---------------------------------------------


def other_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    return path


def broken_xlsx(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "not xml at all")
    return path


JUNK = {
    "empty": b"",
    "blank lines": b"\n\n  \n",
    "random bytes": bytes(range(256)) * 4,
    "not utf-8": b"\xff\xfe\xfa period,series_code\n",
    "ole2 magic then junk": OLE2_MAGIC + b"\x00junk" * 200,
    "zip magic then junk": b"PK\x03\x04" + b"junk" * 200,
    "other csv": "date,value\n2025-07-31,354000\n",
    "record header minus a column": ",".join(RECORD_COLUMNS[:-1]) + "\n",
    "easydata header minus a column": ",".join(f'"{c}"' for c in COLUMNS[:-1]) + "\n",
    "an unclosed quote": '"Dataset Name,"Observation Date\n',
    "json of other columns": json.dumps({"columns": ["date", "value"], "rows": []}),
    "json without rows": json.dumps({"columns": list(COLUMNS)}),
    "json array": json.dumps([list(COLUMNS)]),
    "truncated json": json.dumps({"columns": list(COLUMNS), "rows": []})[:40],
    "deeply nested json": "{" + '"a":[' * 100_000,
}


@pytest.mark.parametrize("content", JUNK.values(), ids=JUNK.keys())
def test_junk_and_other_files_are_none(tmp_path, content):
    assert detect_format(written(tmp_path / "junk.csv", content)) is None


# identify_format says why: the rule (record.RULES) of each junk file
JUNK_RULES = {
    "empty": "empty",
    "blank lines": "empty",
    "random bytes": "format",
    "not utf-8": "encoding",
    "ole2 magic then junk": "workbook",
    "zip magic then junk": "workbook",
    "other csv": "format",
    "record header minus a column": "header",
    "easydata header minus a column": "header",
    "an unclosed quote": "format",
    "json of other columns": "format",
    "json without rows": "json",
    "json array": "format",
    "truncated json": "json",
    "deeply nested json": "json",
}


@pytest.mark.parametrize("name", JUNK, ids=JUNK.keys())
def test_identify_format_names_the_rule_of_each_junk_file(tmp_path, name):
    path = written(tmp_path / "junk.csv", JUNK[name])
    with pytest.raises(ReleaseFileError) as raised:
        identify_format(path)
    assert raised.value.rule == JUNK_RULES[name] and raised.value.rule in RULES
    assert str(raised.value).startswith(str(path))


def test_identify_format_agrees_with_detect_format_on_good_files():
    for path in [RECORD, *EASYDATA.glob("trdser_*")]:
        assert identify_format(path) == detect_format(path)


@pytest.mark.parametrize("make", [other_zip, broken_xlsx], ids=["other zip", "broken xlsx"])
def test_zips_that_are_no_readable_workbook_are_none(tmp_path, make):
    assert detect_format(make(tmp_path / "file.xlsx")) is None


@pytest.mark.parametrize(("make", "rule"), [(other_zip, "format"), (broken_xlsx, "workbook")], ids=["zip", "xlsx"])
def test_zips_that_are_no_readable_workbook_say_why(tmp_path, make, rule):
    with pytest.raises(ReleaseFileError) as raised:
        identify_format(make(tmp_path / "file.xlsx"))
    assert raised.value.rule == rule


def test_a_workbook_cut_short_is_none(tmp_path):
    for make in (xlsx, xls):
        whole = make(tmp_path / f"whole.{make.__name__}", "EBOPS ").read_bytes()
        cut = written(tmp_path / f"cut.{make.__name__}", whole[: len(whole) // 2])
        assert detect_format(cut) is None
        with pytest.raises(ReleaseFileError, match="workbook: truncated or corrupt workbook: "):
            identify_format(cut)


@pytest.mark.parametrize("make", [xlsx, xls], ids=["xlsx", "xls"])
def test_a_workbook_of_other_sheets_lists_them(tmp_path, make):
    with pytest.raises(ReleaseFileError) as raised:
        identify_format(make(tmp_path / f"book.{make.__name__}", "Sheet1", "Notes"))
    assert raised.value.rule == "sheet"
    assert raised.value.detail.endswith("its sheets: 'Sheet1', 'Notes'")


def test_a_missing_file_or_a_directory_is_none(tmp_path):
    assert detect_format(tmp_path / "missing.csv") is None
    assert detect_format(tmp_path) is None


def corrupted(whole: bytes, seed: int) -> bytes:
    """The workbook cut short (odd seeds) or with bytes overwritten (even seeds), reproducibly."""
    rng = random.Random(seed)
    if seed % 2:
        return whole[: rng.randrange(len(whole))]
    damaged = bytearray(whole)
    for _ in range(rng.randint(1, 20)):
        damaged[rng.randrange(len(damaged))] = rng.randrange(256)
    return bytes(damaged)


@pytest.mark.parametrize("make", [xlsx, xls], ids=["xlsx", "xls"])
def test_corrupt_workbooks_never_raise_nor_crash(tmp_path, make):
    """Calamine panics, or aborts the process, on some of these (.xls above all): detection
    opens workbooks in a child process so that a broken file is None, never a crash."""
    whole = make(tmp_path / f"whole.{make.__name__}", "EBOPS ").read_bytes()
    for seed in range(40):
        path = written(tmp_path / f"corrupt_{seed}", corrupted(whole, seed))
        assert detect_format(path) in (None, EBOPS_WORKBOOK)
        try:
            identify_format(path)
        except ReleaseFileError as error:  # and anything else fails the test
            assert error.rule in ("workbook", "encoding", "format", "empty"), str(error)
