import csv
from datetime import date

import pytest
from conftest import RECORD

from orchestration.lib.record import discover_releases, read_release_file
from orchestration.lib.release import (
    PUBLICATION_LAG_DAYS,
    RECORD_COLUMNS,
    ReleaseFileError,
    estimate_published_on,
    period_end,
    release_id_for,
)


def record_rows():
    with RECORD.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_row_of_the_record_lands_in_exactly_one_release():
    rows = record_rows()
    releases = read_release_file(RECORD, bundled=True)
    figures = [f for r in releases for f in r.figures]
    assert len(figures) == len(rows)
    assert sorted(f.source_row for f in figures) == list(range(2, len(rows) + 2))
    # every field kept exactly as printed
    for f in figures:
        row = rows[f.source_row - 2]
        assert (f.period, f.series_code, f.value_usd_thousand, f.source_url) == (
            row["period"],
            row["series_code"],
            row["value_usd_thousand"],
            row["source_url"],
        )


def test_a_release_is_one_publisher_on_one_day():
    rows = record_rows()
    dated = {(r["publisher"], r["published_on"]) for r in rows if r["published_on"]}
    releases = read_release_file(RECORD, bundled=True)
    reported = {(r.publisher, r.published_on.isoformat()) for r in releases if not r.published_on_estimated}
    assert reported == dated
    for release in releases:
        assert {f.publisher for f in release.figures} == {release.publisher}


def test_undated_figures_get_the_publishers_usual_lag_and_are_marked_estimated():
    releases = read_release_file(RECORD, bundled=True)
    estimated = [r for r in releases if r.published_on_estimated]
    assert estimated, "the record has undated figures"
    for release in estimated:
        assert release.release_id.endswith("-est")
        for f in release.figures:
            assert f.published_on == ""
            lag = PUBLICATION_LAG_DAYS[f.publisher]
            assert (release.published_on - period_end(f.period)).days == lag


def test_estimates_follow_the_lag_rule():
    assert estimate_published_on("SBP", "2024-02") == date(2024, 3, 20)
    assert estimate_published_on("PBS", "2023-12") == date(2024, 2, 19)


def test_release_ids():
    assert release_id_for("SBP", date(2023, 8, 18), False, None) == "sbp-2023-08-18"
    assert release_id_for("PBS", date(2023, 9, 20), True, None) == "pbs-2023-09-20-est"
    assert release_id_for("SBP", date(2026, 9, 18), False, "SBP Sept 2026") == "sbp-2026-09-18-sbp-sept-2026"


def test_inbox_files_are_new_releases(write_release, tmp_path):
    path = write_release(
        "October release.csv",
        [
            ["2026-10", "ict_total", "401000", "month", "SBP", "2026-11-18", "https://example.org/a", "", "source"],
        ],
    )
    (release,) = read_release_file(path, bundled=False)
    assert release.release_id == "sbp-2026-11-18-october-release"
    assert release.source_file_sha256 and len(release.release_sha256) == 64


def test_a_file_over_the_size_limit_is_refused(write_release):
    path = write_release(
        "big.csv", [["2024-01", "ict_total", "1", "month", "SBP", "2024-02-20", "https://e.org", "", ""]]
    )
    with pytest.raises(ReleaseFileError) as err:
        read_release_file(path, bundled=False, max_bytes=100)
    assert err.value.rule == "size" and "over the limit of" in err.value.detail
    assert err.value.detail.endswith("100 bytes (ITX_MAX_FILE_MB)")


def test_a_record_header_with_a_column_renamed_names_both(tmp_path):
    path = tmp_path / "renamed.csv"
    path.write_text(",".join(RECORD_COLUMNS).replace("note", "comment") + "\n")
    with pytest.raises(ReleaseFileError) as err:
        read_release_file(path, bundled=False)
    assert str(err.value).startswith(f"{path}, row 1: header: missing: note; unknown: comment")


def test_a_value_that_is_not_a_number_is_kept_as_printed(write_release):
    row = ["2024-01", "ict_total", "n/a", "month", "SBP", "2024-02-20", "https://e.org", "", "source"]
    (release,) = read_release_file(write_release("x.csv", [row]), bundled=False)
    assert release.figures[0].value_usd_thousand == "n/a"


def test_a_file_of_no_known_layout_is_refused_by_name(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("period,series,value\n2024-01,ict_total,1\n")
    with pytest.raises(ReleaseFileError) as err:
        read_release_file(path, bundled=False)
    assert str(err.value).startswith(f"{path}: format: not a release file")


def test_an_unknown_publisher_names_the_row(write_release):
    path = write_release(
        "x.csv",
        [
            ["2024-01", "ict_total", "1", "month", "SBP", "2024-02-20", "https://e.org", "", "source"],
            ["2024-01", "ict_total", "1", "month", "MoITT", "2024-02-20", "https://e.org", "", "source"],
        ],
    )
    with pytest.raises(ReleaseFileError, match=r"x.csv, row 3: publisher"):
        read_release_file(path, bundled=False)


def test_a_row_with_no_date_and_no_period_cannot_be_placed(write_release):
    path = write_release("x.csv", [["2024-13", "ict_total", "1", "month", "SBP", "", "https://e.org", "", "unknown"]])
    with pytest.raises(ReleaseFileError, match=r"row 2: published_on: no date"):
        read_release_file(path, bundled=False)


def test_the_same_release_in_two_files_is_refused(write_release, tmp_path):
    row = ["2024-01", "ict_total", "1", "month", "SBP", "2024-02-20", "https://e.org", "", "source"]
    a = write_release("a.csv", [row])
    b = write_release("b.csv", [row])
    with pytest.raises(ReleaseFileError, match="also in"):
        discover_releases([(a, True), (b, True)])


def test_changing_a_figure_changes_the_release_hash(write_release):
    row = ["2024-01", "ict_total", "300000", "month", "SBP", "2024-02-20", "https://e.org", "", "source"]
    (before,) = read_release_file(write_release("a.csv", [row]), bundled=True)
    (after,) = read_release_file(write_release("a.csv", [row[:2] + ["301000"] + row[3:]]), bundled=True)
    assert before.release_sha256 != after.release_sha256
