"""The Great Expectations suite on real releases: the good pass, each kind of bad release
fails with the right expectation, and a failed load leaves the previous state."""

import csv
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import RECORD, REPO

from orchestration.lib.gx_validation import validate_staged
from orchestration.lib.ingest import ingest, releases_to_load, scan_files
from orchestration.lib.record import RECORD_COLUMNS, read_release_file
from orchestration.lib.warehouse import RAW_FIGURES, RAW_REJECTED, RAW_VALIDATIONS

SEEDS = REPO / "dbt_project" / "seeds"
EXPECTATIONS = REPO / "expectations"
GOOD_RELEASE = ("SBP", "2023-08-18")  # July 2023 first print, with a revised FY23
RULES = "test-rules"


@pytest.fixture(scope="module")
def gx_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("gx")


def record_release_rows(publisher, published_on):
    with RECORD.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if (r["publisher"], r["published_on"]) == (publisher, published_on)]
    assert rows
    return rows


def as_cells(rows):
    return [[r[c] for c in RECORD_COLUMNS] for r in rows]


def ingest_files(conn, files, gx_dir, build_date=None):
    """Bring the warehouse in line with the given files, as the ingest asset does."""
    scan = scan_files(files)
    assert not scan.errors, scan.errors

    def validate(c):
        return validate_staged(
            c,
            seeds_dir=SEEDS,
            gx_dir=gx_dir,
            expectations_dir=EXPECTATIONS,
            run_name="test",
            build_date=build_date or date.today(),
        )

    to_load = releases_to_load(conn, scan, RULES)
    report = ingest(
        conn, scan, to_load, validate, loaded_at=datetime(2026, 1, 1), run_id=None, rules=RULES, unchanged=scan.releases
    )
    return report


def load(path: Path, gx_dir: Path, db: Path, bundled=False, build_date=None):
    (release,) = read_release_file(path, bundled=bundled)
    conn = duckdb.connect(str(db))
    try:
        report = ingest_files(conn, [(path, bundled)], gx_dir, build_date)
        outcome = next(o for o in report.outcomes if o.release_id == release.release_id)
        rows = conn.execute(
            f"select count(*) from {RAW_FIGURES} where release_id = ?", [release.release_id]
        ).fetchone()[0]
    finally:
        conn.close()
    return outcome, rows


def failed_expectations(outcome):
    return {(f["expectation"], str(f["column"])) for f in outcome.validation.failures}


def test_every_bundled_release_passes_in_one_validation(gx_dir, tmp_path):
    releases = read_release_file(RECORD, bundled=True)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    report = ingest_files(conn, [(RECORD, True)], gx_dir)
    failures = {o.release_id: o.validation.failures for o in report.outcomes if o.status != "loaded"}
    assert failures == {}
    assert len(report.by_status("loaded")) == len(releases)
    assert conn.execute(f"select count(*) from {RAW_FIGURES}").fetchone()[0] == sum(len(r.figures) for r in releases)
    assert conn.execute(f"select count(*), count(*) filter (where success) from {RAW_VALIDATIONS}").fetchone() == (
        len(releases),
        len(releases),
    )


def mutate(rows, index, **changes):
    rows = [dict(r) for r in rows]
    rows[index].update(changes)
    return rows


CASES = {
    "unknown series": (dict(series_code="ict_exports"), ("expect_column_values_to_be_in_set", "series_code")),
    "month 13": (dict(period="2023-13"), ("expect_column_values_to_match_regex", "period")),
    "basis that does not parse": (dict(basis="ytd"), ("expect_column_values_to_match_regex", "basis")),
    "negative value": (dict(value_usd_thousand="-214000"), ("expect_column_values_to_be_between", "value_number")),
    "value that is not a number": (
        dict(value_usd_thousand="214mn"),
        ("expect_column_values_to_not_be_null", "value_number"),
    ),
    "$20mn for a month of ICT exports": (
        dict(value_usd_thousand="20000"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "monthly_equivalent_usd_mn"),
    ),
    "a month printed as $2,140 million": (
        dict(value_usd_thousand="2140000"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "plausible_max_monthly_usd_mn"),
    ),
    "a flagged press error no erratum names": (
        dict(note="INCONSISTENT_IN_SOURCE: text disagrees"),
        ("expect_column_values_to_be_in_set", "unnamed_press_error"),
    ),
    "a cumulative whose end is not its period": (
        dict(basis="fytd_Jul-Jun"),
        ("expect_column_pair_values_to_be_equal", "basis_end_month"),
    ),
    "a figure published before its period ended": (
        dict(period="2023-09"),
        ("expect_column_pair_values_a_to_be_greater_than_b", "published_on_date"),
    ),
    "a page without an address": (
        dict(source_url="propakistani"),
        ("expect_column_values_to_match_regex", "source_url"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_kind_of_bad_release_fails_with_the_right_expectation(case, gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    index = next(
        i
        for i, r in enumerate(rows)
        if r["series_code"] == "ict_total" and r["basis"] == "month" and r["period"] == "2023-07"
    )
    changes, expected = CASES[case]
    path = write_release("bad.csv", as_cells(mutate(rows, index, **changes)))
    outcome, rows_kept = load(path, gx_dir, tmp_path / "w.duckdb")
    assert outcome.status == "rejected"
    assert expected in failed_expectations(outcome)
    offending = {
        r for f in outcome.validation.failures if (f["expectation"], str(f["column"])) == expected for r in f["rows"]
    }
    assert str(index + 2) in {str(r) for r in offending}  # the file's row number (header is row 1)
    assert rows_kept == 0
    message = outcome.validation.describe(outcome.release_id, "bad.csv")
    assert "bad.csv row(s)" in message and expected[0] in message


def test_a_duplicate_figure_fails(gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    path = write_release("dup.csv", as_cells(rows + [rows[0]]))
    outcome, _ = load(path, gx_dir, tmp_path / "w.duckdb")
    assert (
        "expect_compound_columns_to_be_unique",
        str(["release_id", "series_code", "period", "basis", "source_url"]),
    ) in failed_expectations(outcome)


def test_an_unnamed_label_swap_fails_on_magnitude(gx_dir, tmp_path, write_release):
    """Hardware and software consultancy swapped in a release that no erratum covers."""
    rows = record_release_rows("PBS", "2024-08-20")
    hw = next(i for i, r in enumerate(rows) if r["series_code"] == "hardware_consultancy")
    sw = next(
        i
        for i, r in enumerate(rows)
        if r["series_code"] == "software_consultancy" and r["period"] == rows[hw]["period"]
    )
    swapped = mutate(mutate(rows, hw, series_code="software_consultancy"), sw, series_code="hardware_consultancy")
    outcome, _ = load(write_release("swap.csv", as_cells(swapped)), gx_dir, tmp_path / "w.duckdb")
    assert outcome.status == "rejected"
    assert {f["expectation"] for f in outcome.validation.failures} == {
        "expect_column_pair_values_a_to_be_greater_than_b"
    }


def test_errata_let_a_named_press_error_through(gx_dir, tmp_path, write_release):
    """The record's own "$20mn" release passes, because erratum names it."""
    rows = record_release_rows("SBP", "2022-04-08")
    assert any(r["value_usd_thousand"] == "20000" for r in rows)
    outcome, kept = load(write_release("typo.csv", as_cells(rows)), gx_dir, tmp_path / "w.duckdb", bundled=True)
    assert outcome.status == "loaded" and kept == len(rows)


def test_a_failed_reload_keeps_the_previous_good_release(gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    db = tmp_path / "w.duckdb"
    good = write_release("release.csv", as_cells(rows))
    outcome, kept = load(good, gx_dir, db)
    assert (outcome.status, kept) == ("loaded", len(rows))
    # same release id (same file name, publisher and day), now with a bad figure
    bad = write_release("release.csv", as_cells(mutate(rows, 0, value_usd_thousand="-1")))
    outcome, kept = load(bad, gx_dir, db)
    assert outcome.status == "rejected" and kept == len(rows)
    conn = duckdb.connect(str(db), read_only=True)
    values = {r[0] for r in conn.execute(f"select value_usd_thousand from {RAW_FIGURES}").fetchall()}
    results = conn.execute(f"select success from {RAW_VALIDATIONS} order by validated_at, success desc").fetchall()
    conn.close()
    assert "-1" not in values
    assert [r[0] for r in results] == [True, False]


def test_reloading_an_unchanged_release_changes_nothing(gx_dir, tmp_path, write_release):
    path = write_release("release.csv", as_cells(record_release_rows(*GOOD_RELEASE)))
    db = tmp_path / "w.duckdb"
    first, _ = load(path, gx_dir, db)
    second, _ = load(path, gx_dir, db)
    assert (first.status, second.status) == ("loaded", "unchanged")


WORKBOOK = REPO / "tests" / "fixtures" / "sbp" / "ebops_jul-may_fy26.xlsx"


def edited_workbook(tmp_path, edit) -> Path:
    """A copy of the Jul-May FY26 workbook fixture with one edit made by openpyxl."""
    import openpyxl

    book = openpyxl.load_workbook(WORKBOOK)
    sheet = next(ws for ws in book.worksheets if ws.title.strip() == "EBOPS")
    edit(sheet)
    path = tmp_path / "edited_ebops.xlsx"
    book.save(path)
    return path


def _row_of(sheet, code):
    from orchestration.lib.sources.base import normalise_label

    return next(
        r for r in range(1, sheet.max_row + 1) if normalise_label(sheet.cell(r, 1).value or "").startswith(code + " ")
    )


def test_an_sbp_workbook_whose_lines_do_not_add_up_fails(gx_dir, tmp_path):
    def inflate_software(sheet):
        row = _row_of(sheet, "9.2.2")
        sheet.cell(row, 8).value = float(sheet.cell(row, 8).value) + 5000  # May-26 credit, +$5 million

    outcome, kept = load(edited_workbook(tmp_path, inflate_software), gx_dir, tmp_path / "w.duckdb")
    assert outcome.status == "rejected" and kept == 0
    assert ("expect_column_values_to_be_in_set", "children_sum_mismatch") in failed_expectations(outcome)


def test_an_sbp_workbook_whose_header_announces_a_month_it_does_not_hold_fails(gx_dir, tmp_path):
    def blank_latest_month(sheet):
        for row in range(1, sheet.max_row + 1):
            if isinstance(sheet.cell(row, 8).value, (int, float)):
                sheet.cell(row, 8).value = None

    outcome, _ = load(edited_workbook(tmp_path, blank_latest_month), gx_dir, tmp_path / "w.duckdb")
    assert outcome.status == "rejected"
    failure = next(f for f in outcome.validation.failures if f["column"] == "figures")
    assert failure["rows"] == ["2026-05 month"]


def test_the_sbp_fixtures_pass(gx_dir, tmp_path):
    for name in (
        "sbp/ebops_jul-may_fy26.xls",
        "sbp/ebops_jul-mar_fy26.xlsx",
        "sbp/bpm6_july_2026.xls",
        "easydata/trdser_fy26.csv",
        "easydata/trdser_ict_total.json",
    ):
        outcome, kept = load(REPO / "tests" / "fixtures" / name, gx_dir, tmp_path / "w.duckdb")
        assert outcome.status == "loaded" and kept > 0, (name, outcome.validation.failures)


def test_a_release_dated_in_the_future_fails(gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    path = write_release("future.csv", as_cells([dict(r, published_on="2031-08-18") for r in rows]))
    outcome, kept = load(path, gx_dir, tmp_path / "w.duckdb", build_date=date(2026, 11, 30))
    assert outcome.status == "rejected" and kept == 0
    failure = next(f for f in outcome.validation.failures if f["column"] == "days_after_build_date")
    assert "future" in failure["rule"] or "after the build" in failure["rule"]
    assert failure["row_count"] == len(rows) and failure["values"][0] == "2031-08-18"
    # a day's grace for time zones: tomorrow passes
    tomorrow = write_release("tomorrow.csv", as_cells([dict(r, published_on="2026-12-01") for r in rows]))
    outcome, _ = load(tomorrow, gx_dir, tmp_path / "w2.duckdb", build_date=date(2026, 11, 30))
    assert not any(f["column"] == "days_after_build_date" for f in outcome.validation.failures)


def test_a_page_that_contradicts_itself_across_releases_fails_naming_both(gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    i = next(i for i, r in enumerate(rows) if r["series_code"] == "ict_total" and r["basis"] == "month")
    printed = rows[i]
    db = tmp_path / "w.duckdb"
    good = write_release("first.csv", as_cells(rows))
    assert load(good, gx_dir, db)[0].status == "loaded"
    # another release (another day) quoting the same page with another value
    other = dict(
        printed, published_on="2023-08-25", value_usd_thousand=str(int(float(printed["value_usd_thousand"])) + 10000)
    )
    conn = duckdb.connect(str(db))
    second = write_release("second.csv", as_cells([other]))
    report = ingest_files(conn, [(good, False), (second, False)], gx_dir)
    conn.close()
    rejected = report.by_status("rejected")
    assert [o.source_file for o in rejected] == ["second.csv"]
    failure = next(f for f in rejected[0].validation.failures if f["column"] == "page_contradiction")
    (text,) = failure["values"]
    assert other["value_usd_thousand"] in text and printed["value_usd_thousand"] in text
    assert "sbp-2023-08-18-first" in text and "sbp-2023-08-25-second" in text


def test_a_value_that_is_not_a_number_is_shown_as_printed(gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    path = write_release(
        "text.csv", as_cells(mutate(mutate(rows, 0, value_usd_thousand="n/a"), 1, value_usd_thousand="385,420"))
    )
    outcome, _ = load(path, gx_dir, tmp_path / "w.duckdb")
    failure = next(f for f in outcome.validation.failures if f["expectation"] == "expect_column_values_to_not_be_null")
    assert failure["values"] == ["n/a", "385,420"]
    assert "nan" not in outcome.validation.describe(outcome.release_id, "text.csv").lower()


def test_a_rejected_release_is_quarantined_and_the_others_of_the_run_are_kept(gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    db = tmp_path / "w.duckdb"
    first = write_release("first.csv", as_cells(rows))
    conn = duckdb.connect(str(db))
    assert ingest_files(conn, [(first, False)], gx_dir).by_status("loaded")
    # the same release edited badly, and a good new one, in one run
    bad = write_release("first.csv", as_cells(mutate(rows, 0, value_usd_thousand="-1")))
    fresh = write_release("pbs.csv", as_cells(record_release_rows("PBS", "2024-08-20")))
    report = ingest_files(conn, [(bad, False), (fresh, False)], gx_dir)
    assert {o.source_file: o.status for o in report.outcomes} == {"first.csv": "rejected", "pbs.csv": "loaded"}
    kept = conn.execute(f"select count(*) from {RAW_FIGURES} where source_file = 'first.csv'").fetchone()[0]
    assert kept == len(rows)  # the previous good version stays
    assert "-1" not in {r[0] for r in conn.execute(f"select value_usd_thousand from {RAW_FIGURES}").fetchall()}
    quarantined = conn.execute(f"select source_file, release_id, rule from {RAW_REJECTED}").fetchall()
    assert [(q[0], q[1]) for q in quarantined] == [("first.csv", "sbp-2023-08-18-first")]
    assert "not negative" in quarantined[0][2]
    conn.close()


def test_failing_rows_are_kept_as_a_bounded_sample(gx_dir, tmp_path, write_release):
    """A file of thousands of bad rows keeps a sample of them, counted, not every one."""
    rows = record_release_rows(*GOOD_RELEASE)
    many = [
        dict(rows[0], period=f"20{y:02d}-{m:02d}", value_usd_thousand="-1") for y in range(10, 24) for m in range(1, 13)
    ]
    path = write_release("many.csv", as_cells(many))
    outcome, _ = load(path, gx_dir, tmp_path / "w.duckdb")
    failure = next(f for f in outcome.validation.failures if f["column"] == "value_number")
    assert failure["row_count"] == len(many) and len(failure["rows"]) == 50
    conn = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    (stored,) = conn.execute(f"select failures_json from {RAW_VALIDATIONS} where not success").fetchone()
    conn.close()
    import json

    assert all(len(f["rows"]) <= 50 for f in json.loads(stored))
    assert f"+{len(many) - 20} more" in outcome.validation.describe(outcome.release_id, "many.csv")


def test_a_file_raw_holds_byte_for_byte_is_not_read_again(gx_dir, tmp_path, write_release):
    """A build with one new file reads that file, not the files raw already holds as they are."""
    from orchestration.lib import ingest as ingest_module
    from orchestration.lib.ingest import held_files

    held_path = write_release("held.csv", as_cells(record_release_rows(*GOOD_RELEASE)))
    db = tmp_path / "w.duckdb"
    load(held_path, gx_dir, db)
    conn = duckdb.connect(str(db))
    try:
        held = held_files(conn, RULES)
        assert set(held) == {"held.csv"}
        assert held_files(conn, "other-rules") == {}  # validated under other rules: read again
        ingest_module._parsed.clear()
        new_path = write_release("new.csv", as_cells(record_release_rows("PBS", "2023-09-20")))
        read = []
        original = ingest_module.record.read_release_file
        ingest_module.record.read_release_file = lambda path, **kw: read.append(path.name) or original(path, **kw)
        try:
            scan = scan_files([(held_path, False), (new_path, False)], held=held)
        finally:
            ingest_module.record.read_release_file = original
        assert read == ["new.csv"]
        (stub,) = [r for r in scan.releases.values() if r.source_file == held_path]
        (loaded,) = read_release_file(held_path, bundled=False)
        assert (stub.release_id, stub.release_sha256, stub.figure_count, stub.published_on) == (
            loaded.release_id,
            loaded.release_sha256,
            len(loaded.figures),
            loaded.published_on,
        )
        assert releases_to_load(conn, scan, RULES) == [r.release_id for r in scan.releases.values() if r is not stub]
        # a held release that must be loaded again all the same (re-run by hand) is read from its file
        report = ingest(
            conn,
            scan,
            [stub.release_id],
            lambda c: validate_staged(
                c, seeds_dir=SEEDS, gx_dir=gx_dir, expectations_dir=EXPECTATIONS, run_name="t", build_date=date.today()
            ),
            loaded_at=datetime(2026, 1, 2),
            run_id=None,
            rules=RULES,
        )
        (outcome,) = [o for o in report.outcomes if o.release_id == stub.release_id]
        assert (outcome.status, outcome.rows) == ("loaded", len(loaded.figures))
        # the same name with other bytes is read
        write_release("held.csv", as_cells(record_release_rows(*GOOD_RELEASE)[:-1]))
        scan = scan_files([(held_path, False)], held=held)
        assert all(r.held_figures is None for r in scan.releases.values())
    finally:
        conn.close()
