"""SBP's own files, dropped into the inbox or fetched from a server on 127.0.0.1, become
validated releases in the marts; bad or foreign files fail by name and change nothing."""

import http.server
import os
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import REPO
from e2e_helpers import marts_fingerprint, query

from orchestration import cli
from orchestration.lib.fetch import FetchTarget, fetch_releases
from orchestration.lib.record import read_release_file

pytestmark = pytest.mark.e2e
FIXTURES = REPO / "tests" / "fixtures"
INBOX = Path(os.environ["ITX_INBOX"])
GOOD_FILES = {
    "easydata/trdser_fy26.csv": "easydata_csv",
    "easydata/trdser_ict_total.json": "easydata_json",
    "sbp/ebops_jul-may_fy26.xls": "ebops_workbook",
    "sbp/ebops_jul-mar_fy26.xlsx": "ebops_workbook",
    "sbp/bpm6_july_2020.xls": "bpm6_summary",
    "sbp/bpm6_july_2026.xls": "bpm6_summary",
}
BAD_FILES = {
    "sbp/ebops_truncated.xls": "workbook",
    "sbp/not_ebops.xlsx": "sheet",
    "easydata/xreccom_sample.csv": "dataset",
    "easydata/trdser_truncated.csv": "row shape",
}


@pytest.fixture
def clean_inbox(built):
    """Leave the inbox and the warehouse as the bundled build left them."""
    yield
    dropped = [path.name for path in INBOX.iterdir() if path.name != ".gitkeep"]
    for name in dropped:
        (INBOX / name).unlink()
    loaded = query("select count(*) as n from raw.release_figures where source_file in (select unnest(?))", [dropped])
    quarantined = query("select count(*) as n from raw.rejected_files").iloc[0].n
    if loaded.iloc[0].n or quarantined:  # the next build removes what came from the files that are gone
        assert cli.main(["build"]) == 0
    assert marts_fingerprint() == built


def test_every_supported_format_becomes_a_validated_release(clean_inbox):
    expected = {}
    for name, file_format in GOOD_FILES.items():
        target = INBOX / Path(name).name
        shutil.copy(FIXTURES / name, target)
        (release,) = read_release_file(target, bundled=False)
        expected[release.release_id] = (file_format, len(release.figures))
    assert cli.main(["build"]) == 0

    loaded = query(
        "select release_id, any_value(source_format) as source_format, count(*) as figures "
        "from raw.release_figures where release_id in (select unnest(?)) group by 1",
        [list(expected)],
    )
    assert {r.release_id: (r.source_format, r.figures) for r in loaded.itertuples()} == expected
    validations = query(
        "select release_id, success from staging.stg_validation_results where release_id in (select unnest(?))",
        [list(expected)],
    )
    assert len(validations) == len(expected) and validations.success.all()
    traced = (
        query(
            "select count(*) as n from core.fct_ict_exports_monthly where release_id in (select unnest(?))",
            [list(expected)],
        )
        .iloc[0]
        .n
    )
    assert traced > 0  # the new releases are the latest publications: their months are the facts


def test_bad_or_foreign_files_are_quarantined_by_name_and_change_nothing_else(clean_inbox, built, capsys):
    growth = query("select * from marts.mart_ict_exports_growth_monthly order by all")
    for name in BAD_FILES:
        shutil.copy(FIXTURES / name, INBOX / Path(name).name)
    assert cli.main(["build"]) == 1
    err = capsys.readouterr().err
    summary = err[err.index("quarantined, not in the marts") :]
    for name, rule in BAD_FILES.items():
        target = INBOX / Path(name).name
        assert f"{target.name}: {rule}" in summary, (name, summary)
        assert target.exists()
    assert query("select * from marts.mart_ict_exports_growth_monthly order by all").equals(growth)
    quality = query("select files_rejected, rejected_files from marts.mart_data_quality").iloc[0]
    assert quality.files_rejected == len(BAD_FILES)


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


def test_a_fetched_file_becomes_a_release_dated_by_its_fetch(sbp_server, clean_inbox):
    target = FetchTarget("ebops_workbook", f"{sbp_server}/ecodata/dt.xls")
    (first,) = fetch_releases([target], INBOX, backoff_seconds=0.01)
    (again,) = fetch_releases([target], INBOX, backoff_seconds=0.01)
    assert (first.status, again.status) == ("downloaded", "unchanged")
    assert len([p for p in INBOX.iterdir() if p.suffix == ".xls"]) == 1

    assert cli.main(["build"]) == 0
    today = datetime.now(UTC).date().isoformat()
    row = query(
        "select distinct release_id, published_on, published_on_source, source_url, source_format "
        "from raw.release_figures where source_file = ?",
        [first.path.name],
    )
    assert len(row) == 1
    assert row.iloc[0].published_on == today and row.iloc[0].published_on_source == "fetched"
    assert row.iloc[0].source_url == f"{sbp_server}/ecodata/dt.xls"
    assert row.iloc[0].source_format == "ebops_workbook"
