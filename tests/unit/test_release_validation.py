"""The Great Expectations suites on real releases: the good pass, every expectation of every
suite fails on a bad release made for it (read by the parser, so an expectation the parser or the
frame's SQL keeps from ever failing has no such release), failures name file, rows, expectation,
rule and values as printed, the suites read helper columns only where their meta says why, the
Checkpoint's Data Docs follow each run, and a failed load leaves the previous state."""

import csv
import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import RECORD, REPO

from orchestration.lib.gx_validation import (
    COVERAGE_SUITE,
    RELEASE_SUITE,
    data_docs_index,
    staged_frame,
    validate_staged,
)
from orchestration.lib.ingest import ingest, releases_to_load, scan_files
from orchestration.lib.record import read_release_file
from orchestration.lib.release import RECORD_COLUMNS
from orchestration.lib.warehouse import (
    RAW_FIGURE_COLUMNS,
    RAW_FIGURES,
    RAW_REJECTED,
    RAW_VALIDATIONS,
    ensure_raw_tables,
    stage_releases,
)

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


def validate(conn, gx_dir, build_date=None, run_name="test", data_docs=False):
    """The suites' verdicts on the staged releases; Data Docs only for the tests of what the
    Checkpoint's action keeps (rendering them takes about a second a run)."""
    return validate_staged(
        conn,
        seeds_dir=SEEDS,
        gx_dir=gx_dir,
        expectations_dir=EXPECTATIONS,
        run_name=run_name,
        build_date=build_date or date.today(),
        data_docs=data_docs,
    )


def ingest_files(conn, files, gx_dir, build_date=None, data_docs=False):
    """Bring the warehouse in line with the given files, as the ingest asset does."""
    scan = scan_files(files)
    assert not scan.errors, scan.errors
    to_load = releases_to_load(conn, scan, RULES)
    report = ingest(
        conn,
        scan,
        to_load,
        lambda c: validate(c, gx_dir, build_date, data_docs=data_docs),
        loaded_at=datetime(2026, 1, 1),
        run_id=None,
        rules=RULES,
        unchanged=scan.releases,
    )
    return report


def load(path: Path, gx_dir: Path, db: Path, bundled=False, build_date=None, data_docs=False):
    (release,) = read_release_file(path, bundled=bundled)
    conn = duckdb.connect(str(db))
    try:
        report = ingest_files(conn, [(path, bundled)], gx_dir, build_date, data_docs)
        outcome = next(o for o in report.outcomes if o.release_id == release.release_id)
        rows = conn.execute(
            f"select count(*) from {RAW_FIGURES} where release_id = ?", [release.release_id]
        ).fetchone()[0]
    finally:
        conn.close()
    return outcome, rows


def failure_key(failure):
    return (failure["expectation"], str(failure["column"]))


def failed_expectations(outcome):
    return {failure_key(f) for f in outcome.validation.failures}


def mutate(rows, index, **changes):
    rows = [dict(r) for r in rows]
    rows[index].update(changes)
    return rows


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


# --- every expectation fails on a release made to break it -------------------------------------


def suite_specs():
    return [json.loads(path.read_text()) for path in sorted((EXPECTATIONS / "suites").glob("*.json"))]


def expectation_key(suite_name, expectation):
    kwargs = expectation["kwargs"]
    column = kwargs.get("column") or kwargs.get("column_A") or kwargs.get("column_list")
    return (suite_name, expectation["type"], str(column))


def every_expectation():
    return [
        pytest.param(spec["name"], e, id="{}:{}:{}".format(*expectation_key(spec["name"], e)))
        for spec in suite_specs()
        for e in spec["expectations"]
    ]


def good_rows():
    rows = record_release_rows(*GOOD_RELEASE)
    index = next(
        i
        for i, r in enumerate(rows)
        if r["series_code"] == "ict_total" and r["basis"] == "month" and r["period"] == "2023-07"
    )
    return rows, index


def one_row(**changes):
    """The good release with its July 2023 ICT line changed: that file row must fail."""

    def make(tmp_path, write_release):
        rows, index = good_rows()
        return [write_release("bad.csv", as_cells(mutate(rows, index, **changes)))], "bad.csv", [index + 2]

    return make


def every_row(**changes):
    def make(tmp_path, write_release):
        rows, index = good_rows()
        return [write_release("bad.csv", as_cells([dict(r, **changes) for r in rows]))], "bad.csv", [index + 2]

    return make


def duplicate_row(tmp_path, write_release):
    rows, index = good_rows()
    return [write_release("bad.csv", as_cells(rows + [rows[index]]))], "bad.csv", [index + 2, len(rows) + 2]


def two_pages_disagree(tmp_path, write_release):
    """The release prints its July figure on a second page, $10 million apart."""
    rows, index = good_rows()
    other = dict(
        rows[index],
        source_url="https://example.org/another-page",
        value_usd_thousand=str(int(float(rows[index]["value_usd_thousand"])) + 10000),
    )
    return [write_release("bad.csv", as_cells(rows + [other]))], "bad.csv", [index + 2, len(rows) + 2]


def another_release_misquotes_the_page(tmp_path, write_release):
    """A second release quotes the good release's page with another value; both are staged."""
    rows, index = good_rows()
    good = write_release("first.csv", as_cells(rows))
    other = dict(
        rows[index],
        published_on="2023-08-25",
        value_usd_thousand=str(int(float(rows[index]["value_usd_thousand"])) + 10000),
    )
    return [good, write_release("bad.csv", as_cells([other]))], "bad.csv", [2]


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


def workbook_lines_do_not_add_up(tmp_path, write_release):
    """Software consultancy (9.2.2) inflated by $5 million in May-26: computer services (9.2) no
    longer sums its children."""
    rows = {}

    def inflate_software(sheet):
        row = _row_of(sheet, "9.2.2")
        sheet.cell(row, 8).value = float(sheet.cell(row, 8).value) + 5000  # May-26 credit
        rows["parent"] = _row_of(sheet, "9.2")

    path = edited_workbook(tmp_path, inflate_software)
    return [path], path.name, [rows["parent"]]


def workbook_header_announces_a_month_it_does_not_hold(tmp_path, write_release):
    def blank_latest_month(sheet):
        for row in range(1, sheet.max_row + 1):
            if isinstance(sheet.cell(row, 8).value, (int, float)):
                sheet.cell(row, 8).value = None

    path = edited_workbook(tmp_path, blank_latest_month)
    return [path], path.name, ["2026-05 month"]


# (suite, expectation, column) -> a bad release for it: (files, the bad file's name, its rows that
# must be named). A new expectation without a case here fails test_every_expectation_fails_...
BAD_RELEASES = {
    (RELEASE_SUITE, "expect_column_values_to_not_be_null", "value_number"): one_row(value_usd_thousand="214mn"),
    (RELEASE_SUITE, "expect_column_values_to_be_between", "value_number"): one_row(value_usd_thousand="-214000"),
    (RELEASE_SUITE, "expect_column_values_to_be_in_set", "series_code"): one_row(series_code="ict_exports"),
    (RELEASE_SUITE, "expect_column_values_to_match_regex", "period"): one_row(period="2023-13"),
    (RELEASE_SUITE, "expect_column_values_to_match_regex", "basis"): one_row(basis="ytd"),
    (RELEASE_SUITE, "expect_column_pair_values_to_be_equal", "basis_end_month"): one_row(basis="fytd_Jul-Jun"),
    # the parser reads 20230818 as 18 August 2023 (the same release), but it is not YYYY-MM-DD
    (RELEASE_SUITE, "expect_column_values_to_match_regex", "published_on"): one_row(published_on="20230818"),
    (RELEASE_SUITE, "expect_column_pair_values_a_to_be_greater_than_b", "published_on_date"): one_row(period="2023-09"),
    (RELEASE_SUITE, "expect_column_values_to_be_between", "published_on_date"): every_row(published_on="2031-08-18"),
    (RELEASE_SUITE, "expect_column_values_to_be_in_set", "published_on_source"): one_row(published_on_source="press"),
    (RELEASE_SUITE, "expect_column_values_to_match_regex", "source_url"): one_row(source_url="propakistani"),
    (
        RELEASE_SUITE,
        "expect_compound_columns_to_be_unique",
        "['release_id', 'series_code', 'period', 'basis', 'source_url']",
    ): duplicate_row,
    # $20mn for a month of ICT exports, and a month printed as $2,140 million
    (RELEASE_SUITE, "expect_column_pair_values_a_to_be_greater_than_b", "value_number"): one_row(
        value_usd_thousand="20000"
    ),
    (RELEASE_SUITE, "expect_column_pair_values_a_to_be_greater_than_b", "plausible_max_usd_thousand"): one_row(
        value_usd_thousand="2140000"
    ),
    (RELEASE_SUITE, "expect_column_values_to_not_match_regex", "note"): one_row(
        note="INCONSISTENT_IN_SOURCE: the text disagrees"
    ),
    (RELEASE_SUITE, "expect_column_pair_values_a_to_be_greater_than_b", "spread_tolerance_usd_thousand"): (
        two_pages_disagree
    ),
    (RELEASE_SUITE, "expect_column_pair_values_a_to_be_greater_than_b", "children_tolerance_usd_thousand"): (
        workbook_lines_do_not_add_up
    ),
    (RELEASE_SUITE, "expect_column_values_to_be_null", "page_contradiction"): another_release_misquotes_the_page,
    (
        COVERAGE_SUITE,
        "expect_column_values_to_be_between",
        "figures",
    ): workbook_header_announces_a_month_it_does_not_hold,
}


@pytest.mark.parametrize(("suite_name", "expectation"), every_expectation())
def test_every_expectation_fails_on_a_release_made_to_break_it(
    suite_name, expectation, gx_dir, tmp_path, write_release
):
    key = expectation_key(suite_name, expectation)
    assert key in BAD_RELEASES, f"no bad release shows that {key} can fail: add one to BAD_RELEASES"
    files, bad_file, bad_rows = BAD_RELEASES[key](tmp_path, write_release)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    report = ingest_files(conn, [(f, False) for f in files], gx_dir)
    (outcome,) = [o for o in report.outcomes if o.source_file == bad_file]
    assert outcome.status == "rejected"
    assert conn.execute(
        f"select count(*) from {RAW_FIGURES} where release_id = ?", [outcome.release_id]
    ).fetchone() == (0,)
    conn.close()
    (failure,) = [f for f in outcome.validation.failures if failure_key(f) == key[1:]]
    assert {str(r) for r in bad_rows} <= {str(r) for r in failure["rows"]}
    assert failure["rule"] == expectation["meta"]["rule"]
    message = outcome.validation.describe(outcome.release_id, bad_file)
    assert f"{bad_file} row(s) " in message and key[1] in message and failure["rule"] in message


def test_every_expectation_has_a_bad_release_and_no_case_is_stale():
    keys = {expectation_key(spec["name"], e) for spec in suite_specs() for e in spec["expectations"]}
    assert set(BAD_RELEASES) == keys


# --- what the suites read ---------------------------------------------------------------------

# the columns each suite's frame takes from the raw tables as they are (row_id is source_row)
RAW_COLUMNS = {
    RELEASE_SUITE: set(RAW_FIGURE_COLUMNS) | {"row_id"},
    COVERAGE_SUITE: {"release_id", "period", "basis"},  # raw.release_header_periods
}


def columns_read(expectation) -> set[str]:
    kwargs = expectation["kwargs"]
    read = {kwargs.get(k) for k in ("column", "column_A", "column_B")} | set(kwargs.get("column_list") or ())

    def condition_columns(condition):
        if not condition:
            return set()
        return (
            {condition["column"]["name"]}
            if "column" in condition
            else set().union(*(condition_columns(c) for c in condition.get("conditions", ())))
        )

    return (read | condition_columns(kwargs.get("row_condition"))) - {None}


def helpers_named(expectation) -> set[str]:
    named = expectation["meta"].get("helper_column") or []
    return {named} if isinstance(named, str) else set(named)


@pytest.mark.parametrize(("suite_name", "expectation"), every_expectation())
def test_an_expectation_reads_a_helper_column_only_where_its_meta_says_why(suite_name, expectation):
    helpers = columns_read(expectation) - RAW_COLUMNS[suite_name]
    assert helpers == helpers_named(expectation)
    if helpers:
        assert len(expectation["meta"].get("why", "")) > 40
    # what a failure prints is the file's own text or its parsed form, not a helper
    assert set(expectation["meta"].get("show", [])) <= RAW_COLUMNS[suite_name]


def test_the_frame_has_no_helper_column_the_suite_does_not_name():
    (release,) = read_release_file(WORKBOOK, bundled=False)
    conn = duckdb.connect()
    ensure_raw_tables(conn)
    stage_releases(conn, [release], datetime(2026, 1, 1))
    named = {spec["name"]: set().union(*(helpers_named(e) for e in spec["expectations"])) for spec in suite_specs()}
    frame = staged_frame(conn, SEEDS)
    assert set(frame.columns) <= RAW_COLUMNS[RELEASE_SUITE] | named[RELEASE_SUITE]
    assert named[RELEASE_SUITE] <= set(frame.columns)


# --- how failures read ------------------------------------------------------------------------


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
    # the values as printed: the figure, its series and basis
    (low,) = [f for f in outcome.validation.failures if f["column"] == "value_number"]
    assert low["values"] == [f"({rows[hw]['value_usd_thousand']}, software_consultancy, {rows[hw]['basis']})"]


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


def test_a_release_dated_in_the_future_fails_with_a_day_of_grace(gx_dir, tmp_path, write_release):
    rows = record_release_rows(*GOOD_RELEASE)
    path = write_release("future.csv", as_cells([dict(r, published_on="2031-08-18") for r in rows]))
    outcome, kept = load(path, gx_dir, tmp_path / "w.duckdb", build_date=date(2026, 11, 30))
    assert outcome.status == "rejected" and kept == 0
    (failure,) = [
        f
        for f in outcome.validation.failures
        if failure_key(f) == ("expect_column_values_to_be_between", "published_on_date")
    ]
    assert failure["row_count"] == len(rows) and failure["values"][0] == "2031-08-18"
    # a day's grace for time zones: tomorrow passes
    tomorrow = write_release("tomorrow.csv", as_cells([dict(r, published_on="2026-12-01") for r in rows]))
    outcome, _ = load(tomorrow, gx_dir, tmp_path / "w2.duckdb", build_date=date(2026, 11, 30))
    assert outcome.status == "loaded", outcome.validation.failures


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


def test_failing_rows_are_kept_as_a_bounded_sample(tmp_path, write_release):
    """A file of thousands of bad rows keeps a sample of them, counted, not every one: in
    raw.validation_results and in GX's stored result behind Data Docs."""
    gx_dir = tmp_path / "gx"
    rows = record_release_rows(*GOOD_RELEASE)
    many = [
        dict(rows[0], period=f"20{y:02d}-{m:02d}", value_usd_thousand="-1") for y in range(10, 24) for m in range(1, 13)
    ]
    path = write_release("many.csv", as_cells(many))
    outcome, _ = load(path, gx_dir, tmp_path / "w.duckdb", data_docs=True)
    failure = next(f for f in outcome.validation.failures if f["column"] == "value_number")
    assert failure["row_count"] == len(many) and len(failure["rows"]) == 50
    conn = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    (stored,) = conn.execute(f"select failures_json from {RAW_VALIDATIONS} where not success").fetchone()
    conn.close()
    assert all(len(f["rows"]) <= 50 for f in json.loads(stored))
    assert f"+{len(many) - 20} more" in outcome.validation.describe(outcome.release_id, "many.csv")
    (result_file,) = (gx_dir / "gx" / "uncommitted" / "validations").rglob("*.json")
    gx_result = json.loads(result_file.read_text())
    negative = next(
        r for r in gx_result["results"] if r["expectation_config"]["type"] == "expect_column_values_to_be_between"
    )
    assert negative["result"]["unexpected_count"] == len(many)
    assert len(negative["result"]["unexpected_index_list"]) == 50 and len(negative["result"]["unexpected_list"]) == 50
    assert "unexpected_index_query" not in negative["result"]


# --- the Checkpoint and Data Docs ---------------------------------------------------------------


def test_each_run_goes_through_a_checkpoint_that_adds_its_own_results_to_data_docs(tmp_path, write_release):
    """Data Docs get the new run's pages (and the index); the pages of earlier runs are not
    rendered again, and the index still lists them."""
    from great_expectations.checkpoint import UpdateDataDocsAction

    from orchestration.lib.gx_validation import _context

    gx_dir = tmp_path / "gx"
    site = data_docs_index(gx_dir).parent
    path = write_release("release.csv", as_cells(record_release_rows(*GOOD_RELEASE)))
    (release,) = read_release_file(path, bundled=False)
    conn = duckdb.connect()
    ensure_raw_tables(conn)
    stage_releases(conn, [release], datetime(2026, 1, 1))
    validate(conn, gx_dir, run_name="first-run", data_docs=True)
    (first_page,) = (site / "validations").rglob("*.html")
    suite_page = site / "expectations" / f"{RELEASE_SUITE}.html"
    before = {page: (page.stat().st_mtime_ns, page.read_bytes()) for page in (first_page, suite_page)}
    validate(conn, gx_dir, run_name="second-run", data_docs=True)
    pages = sorted((site / "validations").rglob("*.html"))
    assert len(pages) == 2 and {p.relative_to(site / "validations").parts[1] for p in pages} == {
        "first-run",
        "second-run",
    }
    # neither the first run's page nor the suite's (the suite is unchanged) is rendered again
    assert {page: (page.stat().st_mtime_ns, page.read_bytes()) for page in before} == before
    index = data_docs_index(gx_dir).read_text()
    assert "first-run" in index and "second-run" in index
    checkpoint = _context(str(gx_dir)).checkpoints.get(RELEASE_SUITE)
    assert [isinstance(a, UpdateDataDocsAction) for a in checkpoint.actions] == [True]
    assert [v.suite.name for v in checkpoint.validation_definitions] == [RELEASE_SUITE]


# --- files raw holds ----------------------------------------------------------------------------


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
            lambda c: validate(c, gx_dir, run_name="t"),
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
