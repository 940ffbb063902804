"""Where things live. The only module that reads the environment.

Every path is resolved to an absolute path here, once, so that Dagster, dbt (through
ITX_WAREHOUSE in its environment), the CLI and the tests all open the same files. The URLs
SBP's files are fetched from are read here too. This module imports nothing else of the
project: everything may import it, and orchestration/lib receives its paths as arguments.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The dbt project, and its dbt_project.yml, whose vars are the rules the Python must apply as the
# models do (the fiscal year's first month, the rounding allowance: orchestration/lib/dbt_vars.py).
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_PROJECT_YML = DBT_PROJECT_DIR / "dbt_project.yml"
# SBP's workbooks are about 1 MB and the bundled record 0.2 MB: 20 MB is far above any real
# release and far below what would take minutes to validate (ITX_MAX_FILE_MB).
DEFAULT_MAX_FILE_MB = 20

EASYDATA_API_KEY_VARIABLE = "ITX_EASYDATA_API_KEY"
# The environment variable dbt's profile reads for the file it builds (dbt_project/profiles.yml):
# the staging copy while Dagster builds, a copy for `itx docs`; else ITX_WAREHOUSE, the published file.
DBT_DATABASE_ENV = "ITX_DBT_DATABASE"

# (target name, URL variable, default URL, needs the EasyData API key).
# The default SBP URLs are where SBP's economic-data pages link these files today; SBP has moved
# files before, so they may move: override them with the variables (an empty value disables).
FETCH_TARGETS = (
    ("ebops_workbook", "ITX_FETCH_EBOPS_URL", "https://www.sbp.org.pk/ecodata/dt.xls", False),
    ("bpm6_summary", "ITX_FETCH_BPM6_URL", "https://www.sbp.org.pk/ecodata/Balancepayment_BPM6.xls", False),
    # No default: the EasyData URL names a series and dates, e.g.
    # https://easydata.sbp.org.pk/api/v1/series/<SERIES_KEY>/data?format=csv&start_date=2015-07-01
    ("easydata_trdser", "ITX_FETCH_EASYDATA_URL", None, True),
)
FETCH_URL_VARIABLES = {name: variable for name, variable, _, _ in FETCH_TARGETS}


@dataclass(frozen=True)
class FetchTarget:
    """One file to fetch (orchestration/lib/fetch.py)."""

    name: str  # 'ebops_workbook', 'bpm6_summary', 'easydata_trdser', ...
    url: str
    needs_api_key: bool = False  # EasyData API: the key goes in the `api_key` query parameter


def targets_from_environment(environ: Mapping[str, str] = os.environ) -> list[FetchTarget]:
    """The targets configured by ITX_FETCH_EBOPS_URL, ITX_FETCH_BPM6_URL and ITX_FETCH_EASYDATA_URL.

    An unset variable takes its default (EasyData has none, so it is off until set); a variable
    set to an empty string disables its target. The EasyData key itself (ITX_EASYDATA_API_KEY)
    is read by the caller and passed to `fetch_releases`, so it never sits in a target.
    """
    targets = []
    for name, variable, default, needs_api_key in FETCH_TARGETS:
        url = environ.get(variable, default)
        if url is None or not url.strip():
            continue
        targets.append(FetchTarget(name=name, url=url.strip(), needs_api_key=needs_api_key))
    return targets


def project_fingerprint(*roots: Path) -> str:
    """One hash of the code and rules the warehouse is built with (dbt project, suites, the
    brief's code): a change to any of them makes the next build rebuild, even with no new file."""
    digest = hashlib.sha256()
    for root in roots:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if any(part in ("target", "logs", "__pycache__") or part.startswith(".") for part in path.parts[-4:]):
                continue
            digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _path(env_var: str, default: Path) -> Path:
    value = os.environ.get(env_var)
    path = Path(value) if value else default
    if not path.is_absolute():
        # Relative settings are relative to the repository, never to the process's cwd:
        # dbt runs in dbt_project/ and a relative spelling would open a second database.
        path = REPO_ROOT / path
    return path.resolve()


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    inbox: Path
    releases_dir: Path
    reports_dir: Path
    gx_dir: Path
    dbt_project_dir: Path
    expectations_dir: Path
    dagster_home: Path
    max_file_bytes: int  # a release file larger than this is refused before it is parsed

    @property
    def seeds_dir(self) -> Path:
        return self.dbt_project_dir / "seeds"

    def project_fingerprint(self) -> str:
        """A hash of what the warehouse is built with besides the release files: the dbt project,
        the suites and the code under orchestration/lib (see project_fingerprint above)."""
        d = self.dbt_project_dir
        return project_fingerprint(
            d / "models",
            d / "macros",
            d / "seeds",
            d / "tests",
            d / "dbt_project.yml",
            self.expectations_dir,
            REPO_ROOT / "orchestration" / "lib",
        )

    def fetch_targets(self) -> list[FetchTarget]:
        """SBP's files to fetch: ITX_FETCH_EBOPS_URL, ITX_FETCH_BPM6_URL, ITX_FETCH_EASYDATA_URL."""
        return targets_from_environment(os.environ)

    @staticmethod
    def fetch_attempts() -> int:
        """How many times a download is tried before it fails (ITX_FETCH_ATTEMPTS, default 4; the
        waits between tries double from 2 s)."""
        value = os.environ.get("ITX_FETCH_ATTEMPTS", "").strip()
        return max(1, int(value)) if value.isdigit() else 4

    @staticmethod
    def easydata_api_key() -> str | None:
        """The EasyData API key (ITX_EASYDATA_API_KEY); read when needed, never stored or logged."""
        return os.environ.get(EASYDATA_API_KEY_VARIABLE) or None

    def export_environment(self) -> None:
        """Export the resolved paths for child processes (dbt reads ITX_WAREHOUSE in
        profiles.yml) and switch telemetry off everywhere."""
        os.environ["ITX_WAREHOUSE"] = str(self.warehouse)
        os.environ["DAGSTER_HOME"] = str(self.dagster_home)
        os.environ.setdefault("DO_NOT_TRACK", "1")
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


def get_settings() -> Settings:
    data = REPO_ROOT / "data"
    return Settings(
        warehouse=_path("ITX_WAREHOUSE", data / "warehouse.duckdb"),
        inbox=_path("ITX_INBOX", data / "inbox"),
        releases_dir=_path("ITX_RELEASES", data / "releases"),
        reports_dir=_path("ITX_REPORTS", data / "reports"),
        gx_dir=_path("ITX_GX_DIR", data / "gx"),
        dbt_project_dir=DBT_PROJECT_DIR,
        expectations_dir=REPO_ROOT / "expectations",
        dagster_home=_path("DAGSTER_HOME", REPO_ROOT / "dagster_home"),
        max_file_bytes=int(float(os.environ.get("ITX_MAX_FILE_MB") or DEFAULT_MAX_FILE_MB) * 1024 * 1024),
    )
