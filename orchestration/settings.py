"""Where things live. The only module that reads the environment.

Every path is resolved to an absolute path here, once, so that Dagster, dbt (through
ITX_WAREHOUSE in its environment), the CLI and the tests all open the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# SBP's workbooks are about 1 MB and the bundled record 0.2 MB: 20 MB is far above any real
# release and far below what would take minutes to validate (ITX_MAX_FILE_MB).
DEFAULT_MAX_FILE_MB = 20


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
        the suites and the code under orchestration/lib (see orchestration/lib/publication.py)."""
        from orchestration.lib.publication import project_fingerprint

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

    def fetch_targets(self):
        """SBP's files to fetch: ITX_FETCH_EBOPS_URL, ITX_FETCH_BPM6_URL, ITX_FETCH_EASYDATA_URL."""
        from orchestration.lib.fetch import targets_from_environment

        return targets_from_environment(os.environ)

    @staticmethod
    def easydata_api_key() -> str | None:
        """The EasyData API key (ITX_EASYDATA_API_KEY); read when needed, never stored or logged."""
        return os.environ.get("ITX_EASYDATA_API_KEY") or None

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
        dbt_project_dir=REPO_ROOT / "dbt_project",
        expectations_dir=REPO_ROOT / "expectations",
        dagster_home=_path("DAGSTER_HOME", REPO_ROOT / "dagster_home"),
        max_file_bytes=int(float(os.environ.get("ITX_MAX_FILE_MB") or DEFAULT_MAX_FILE_MB) * 1024 * 1024),
    )
