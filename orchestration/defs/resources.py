"""Resources: the warehouse (one DuckDB file, written through a private staging copy), dbt, where
release files live, and what the fetch downloads.

Importing this module resolves nothing and writes nothing (no environment variable, no dbt
manifest): the resources' values come from the settings when the definitions are built
(`build_resources`, called by orchestration.definitions.build_defs), and every asset, sensor and
schedule reads its paths from these resources, so that overriding one moves them all.
"""

import os
import subprocess
import sys
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject, DbtProjectPreparer
from dagster_duckdb import DuckDBResource

from orchestration.lib.publication import WarehousePaths, prepare_staging, writer_lock
from orchestration.settings import DBT_DATABASE_ENV, EASYDATA_API_KEY_VARIABLE, Settings


def _dbt_executable() -> str:
    # the dbt installed beside Dagster (dagster dev finds it on PATH, `itx` and the tests may not)
    return str(Path(sys.executable).with_name("dbt"))


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource, for the published warehouse file.

    Readers open the published file read-only. Writers go through `writer()` or
    `staging_path()`: the writer lock, then the private staging copy
    (orchestration/lib/publication.py), which the brief's step publishes.
    """

    @property
    def paths(self) -> WarehousePaths:
        return WarehousePaths(Path(self.database))

    @contextmanager
    def get_read_only_connection(self):
        conn = duckdb.connect(self.database, read_only=True)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def staging_path(self, purpose: str):
        """Hold the writer lock and yield the staging warehouse's path (made ready)."""
        with writer_lock(self.paths, purpose=purpose):
            yield prepare_staging(self.paths)

    @contextmanager
    def writer(self, purpose: str):
        """Hold the writer lock and yield a connection to the staging warehouse."""
        with self.staging_path(purpose) as path:
            conn = duckdb.connect(str(path))
            try:
                yield conn
            finally:
                conn.close()


class ReleaseFilesResource(dg.ConfigurableResource):
    """Where releases come from (the bundled releases and the inbox, which the inbox sensor
    watches, the fetch fills and the schedule reads), what validates them, and where the brief goes."""

    releases_dir: str
    inbox: str
    seeds_dir: str
    expectations_dir: str
    gx_dir: str
    reports_dir: str
    max_file_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReleaseFilesResource":
        return cls(
            releases_dir=str(settings.releases_dir),
            inbox=str(settings.inbox),
            seeds_dir=str(settings.seeds_dir),
            expectations_dir=str(settings.expectations_dir),
            gx_dir=str(settings.gx_dir),
            reports_dir=str(settings.reports_dir),
            max_file_bytes=settings.max_file_bytes,
        )

    def path(self, name: str) -> Path:
        return Path(getattr(self, name))

    def files(self):
        from orchestration.lib import record

        return record.release_files(self.path("releases_dir"), self.path("inbox"))

    def scan(self):
        """Every release in the files present, and the files that cannot be read."""
        from orchestration.lib.ingest import scan_files

        return scan_files(self.files(), max_bytes=self.max_file_bytes)


class FetchTargetConfig(dg.Config):
    """One file to download (orchestration.settings.FetchTarget)."""

    name: str
    url: str
    needs_api_key: bool = False


class FetchResource(dg.ConfigurableResource):
    """What the fetch downloads into the inbox (release_files.inbox): SBP's files by URL
    (ITX_FETCH_EBOPS_URL, ITX_FETCH_BPM6_URL, ITX_FETCH_EASYDATA_URL when the definitions are
    built), and the EasyData API key for the targets that need it.

    The key is given as `dg.EnvVar("ITX_EASYDATA_API_KEY")`: Dagster resolves it when a run starts
    and shows the variable's name, never its value, in the UI.
    """

    targets: list[FetchTargetConfig] = []
    easydata_api_key: str | None = None
    attempts: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> "FetchResource":
        return cls(
            targets=[
                FetchTargetConfig(name=t.name, url=t.url, needs_api_key=t.needs_api_key)
                for t in settings.fetch_targets()
            ],
            # named only when set: an EnvVar of an unset variable fails every run that uses it
            easydata_api_key=dg.EnvVar(EASYDATA_API_KEY_VARIABLE) if settings.easydata_api_key() else None,
            attempts=settings.fetch_attempts(),
        )

    def fetch_targets(self):
        from orchestration.settings import FetchTarget

        return [FetchTarget(name=t.name, url=t.url, needs_api_key=t.needs_api_key) for t in self.targets]


class ItxDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, without two start-up costs it pays on every `dbt build` and this
    project never uses: `dbt --version` in a subprocess (the dbt here is the dbt-core installed
    beside Dagster), and an in-process dbt adapter (only used for column metadata)."""

    @property
    def _cli_version(self):
        from importlib.metadata import version as installed

        from packaging.version import parse

        return parse(installed("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


class StagingProfilePreparer(DbtProjectPreparer):
    """Under `dagster dev`, dbt's manifest is parsed again whenever the definitions load (so an
    edited model shows at the next reload), as `itx manifest` parses it: with dbt's profile
    pointed at the staging warehouse (so that the next `dbt build` reuses the parse), and
    telemetry off. The variables go to dbt's process only; this process's environment is left
    alone. Outside `dagster dev` the manifest is expected to exist (`itx build`, `itx manifest`
    and `make ui` write it)."""

    def __init__(self, warehouse: Path):
        self.staging = WarehousePaths(Path(warehouse)).staging

    def prepare_if_dev(self, project: DbtProject) -> None:
        if self.using_dagster_dev():
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        target = Path(project.project_dir) / project.target_path
        subprocess.run(
            [_dbt_executable(), "parse", "--quiet"]
            + ["--project-dir", str(project.project_dir), "--profiles-dir", str(project.profiles_dir)]
            + ["--target-path", str(target)],
            check=True,
            env={**os.environ, DBT_DATABASE_ENV: str(self.staging), "DO_NOT_TRACK": "1"},
        )


@cache
def dbt_project(project_dir: Path, warehouse: Path) -> DbtProject:
    """dbt's project, made when the definitions are built, never at import (as in
    dagster-open-platform): dagster-dbt needs its manifest to define the dbt assets. Under
    `dagster dev` the manifest is prepared here (StagingProfilePreparer); once per process."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    StagingProfilePreparer(warehouse).prepare_if_dev(project)
    return project


def build_resources(settings: Settings) -> dict:
    """The resources for the paths the settings name (read when the definitions are built)."""
    return {
        "warehouse": WarehouseResource(database=str(settings.warehouse)),
        "dbt": ItxDbtCliResource(
            project_dir=dbt_project(settings.dbt_project_dir, settings.warehouse),
            dbt_executable=_dbt_executable(),
        ),
        "release_files": ReleaseFilesResource.from_settings(settings),
        "fetch": FetchResource.from_settings(settings),
    }
