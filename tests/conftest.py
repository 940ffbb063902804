"""Every test runs offline against temporary state: its own warehouse, inbox, reports, GX
project and Dagster instance, never the user's data/ folder."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STATE = Path(tempfile.mkdtemp(prefix="itx-tests-"))

os.environ.update(
    {
        "ITX_WAREHOUSE": str(STATE / "warehouse.duckdb"),
        "ITX_INBOX": str(STATE / "inbox"),
        "ITX_REPORTS": str(STATE / "reports"),
        "ITX_GX_DIR": str(STATE / "gx"),
        "DAGSTER_HOME": str(STATE / "dagster_home"),
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
    }
)
(STATE / "inbox").mkdir()
(STATE / "dagster_home").mkdir()
shutil.copy(REPO / "dagster_home" / "dagster.yaml", STATE / "dagster_home" / "dagster.yaml")

RECORD = REPO / "data" / "releases" / "published_figures.csv"
HEADER = "period,series_code,value_usd_thousand,basis,publisher,published_on,source_url,note,published_on_source\n"


@pytest.fixture(scope="session")
def state_dir() -> Path:
    return STATE


@pytest.fixture
def write_release(tmp_path):
    """Write a release file in the record layout from rows of the nine columns."""

    def write(name: str, rows: list[list[str]], directory: Path | None = None) -> Path:
        import csv

        path = (directory or tmp_path) / name
        with path.open("w", newline="") as fh:
            fh.write(HEADER)
            csv.writer(fh).writerows(rows)
        return path

    return write


@pytest.fixture(scope="session")
def built():
    """The warehouse built once, through Dagster, from the bundled releases; the marts' fingerprint."""
    from e2e_helpers import marts_fingerprint

    from orchestration import cli

    assert cli.main(["build"]) == 0
    return marts_fingerprint()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(STATE, ignore_errors=True)
