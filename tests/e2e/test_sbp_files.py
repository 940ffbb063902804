"""SBP's own files, dropped into the inbox or fetched from a server on 127.0.0.1, become validated
releases; bad or foreign files are quarantined by name and block nothing.

Tested at the ingest, where file formats matter: the raw asset materialized through Dagster on
the new releases' partitions, in a copy of the built warehouse, as `itx build` runs it before dbt
(e2e_helpers.ingest). What reaches raw is what dbt reads: a workbook dropped in the inbox all the
way to the facts and the marts is built once, in test_july_cumulative.py."""

import http.server
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import REPO
from e2e_helpers import ingest, query

from orchestration.lib.fetch import fetch_releases
from orchestration.lib.gx_validation import COVERAGE_SUITE, RELEASE_SUITE
from orchestration.lib.record import read_release_file
from orchestration.settings import FetchTarget

pytestmark = pytest.mark.e2e
FIXTURES = REPO / "tests" / "fixtures"
GOOD_FILES = {
    "easydata/trdser_fy26.csv": "easydata_csv",
    "easydata/trdser_ict_total.json": "easydata_json",
    "sbp/ebops_jul-may_fy26.xls": "ebops_workbook",
    "sbp/ebops_jul-mar_fy26.xlsx": "ebops_workbook",
    "sbp/bpm6_july_2020.xls": "bpm6_summary",
    "sbp/bpm6_july_2026.xls": "bpm6_summary",
}
WITH_A_HEADER_OF_PERIODS = (
    "easydata/trdser_fy26.csv",
    "easydata/trdser_ict_total.json",
    "sbp/ebops_jul-may_fy26.xls",
    "sbp/ebops_jul-mar_fy26.xlsx",
    "sbp/bpm6_july_2026.xls",
)
BAD_FILES = {
    "sbp/ebops_truncated.xls": "workbook",
    "sbp/not_ebops.xlsx": "sheet",
    "easydata/xreccom_sample.csv": "dataset",
    "easydata/trdser_truncated.csv": "row shape",
}


def drop(inbox: Path, names) -> dict[str, tuple[str, int]]:
    """Copy fixture files into the inbox: {release id: (file, figures)} of those that read."""
    releases = {}
    for name in names:
        target = inbox / Path(name).name
        shutil.copy(FIXTURES / name, target)
        if name in GOOD_FILES:
            (release,) = read_release_file(target, bundled=False)
            releases[release.release_id] = (target.name, len(release.figures))
    return releases


def test_every_supported_format_becomes_a_validated_release(built_copy):
    releases = drop(built_copy.inbox, GOOD_FILES)
    result = ingest(list(releases))
    assert result.success

    staged = built_copy.staging
    loaded = query(
        "select release_id, any_value(source_file) as source_file, any_value(source_format) as source_format, "
        "count(*) as figures from raw.release_figures where release_id in (select unnest(?)) group by 1",
        [list(releases)],
        warehouse=staged,
    )
    formats = {Path(name).name: file_format for name, file_format in GOOD_FILES.items()}
    assert {r.release_id: (r.source_file, r.figures) for r in loaded.itertuples()} == releases
    assert {r.source_file: r.source_format for r in loaded.itertuples()} == formats
    validations = query(
        "select release_id, success, suite_name from raw.validation_results where release_id in (select unnest(?))",
        [list(releases)],
        warehouse=staged,
    )
    assert len(validations) == len(releases) and validations.success.all()
    # files with a header of periods are checked against it too (the coverage suite)
    by_file = {releases[r.release_id][0]: r.suite_name for r in validations.itertuples()}
    assert {name for name, suites in by_file.items() if suites == f"{RELEASE_SUITE}+{COVERAGE_SUITE}"} >= {
        Path(name).name for name in WITH_A_HEADER_OF_PERIODS
    }
    # each release's own partition: its Great Expectations check passed, and it was materialized
    assert {e.partition: e.passed for e in result.get_asset_check_evaluations()} == dict.fromkeys(releases, True)
    materialized = {
        m.partition for m in result.get_asset_materialization_events() if m.asset_key.path == ["raw", "release_figures"]
    }
    assert materialized == set(releases)


def test_bad_or_foreign_files_are_quarantined_by_name_and_block_nothing(built_copy):
    good = drop(built_copy.inbox, ["easydata/trdser_ict_total.json", *BAD_FILES])
    result = ingest(list(good))
    assert result.success  # unreadable files are listed, never a failed load

    staged = built_copy.staging
    rejected = query("select source_file, release_id, rule from raw.rejected_files", warehouse=staged)
    assert {r.source_file: r.rule for r in rejected.itertuples()} == {Path(n).name: r for n, r in BAD_FILES.items()}
    assert rejected.release_id.isna().all()  # no release could be read from any of them
    assert all((built_copy.inbox / Path(name).name).exists() for name in BAD_FILES)  # left where they are
    loaded = query(
        "select distinct release_id from raw.release_figures where release_id in (select unnest(?))",
        [list(good)],
        warehouse=staged,
    )
    assert set(loaded.release_id) == set(good)


class _FileServer(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 (the http.server API)
        body = self.files.get(self.path.split("?")[0])
        self.send_response(200 if body else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args):
        pass


@pytest.fixture
def sbp_server():
    _FileServer.files = {"/ecodata/dt.xls": (FIXTURES / "sbp" / "ebops_jul-may_fy26.xls").read_bytes()}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FileServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_fetched_file_becomes_a_release_dated_by_its_fetch(sbp_server, built_copy):
    target = FetchTarget("ebops_workbook", f"{sbp_server}/ecodata/dt.xls")
    (first,) = fetch_releases([target], built_copy.inbox, backoff_seconds=0.01)
    (again,) = fetch_releases([target], built_copy.inbox, backoff_seconds=0.01)
    assert (first.status, again.status) == ("downloaded", "unchanged")
    assert len([p for p in built_copy.inbox.iterdir() if p.suffix == ".xls"]) == 1

    (release,) = read_release_file(first.path, bundled=False)
    assert ingest([release.release_id]).success
    today = datetime.now(UTC).date().isoformat()
    row = query(
        "select distinct release_id, published_on, published_on_source, source_url, source_format "
        "from raw.release_figures where source_file = ?",
        [first.path.name],
        warehouse=built_copy.staging,
    )
    assert len(row) == 1 and row.iloc[0].release_id == release.release_id
    assert row.iloc[0].published_on == today and row.iloc[0].published_on_source == "fetched"
    assert row.iloc[0].source_url == f"{sbp_server}/ecodata/dt.xls"
    assert row.iloc[0].source_format == "ebops_workbook"
