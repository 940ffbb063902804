"""Resources: the warehouse (one DuckDB file, written through a private staging copy), dbt, and
where release files live."""

import sys
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from orchestration.lib.publication import WarehousePaths, prepare_staging, writer_lock
from orchestration.settings import get_settings

# The environment variable dbt's profile reads for the file it builds (dbt_project/profiles.yml):
# the staging copy while Dagster builds, the published file for anyone running dbt by hand.
DBT_DATABASE_ENV = "ITX_DBT_DATABASE"


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
    """Where releases come from, what validates them, and where the brief goes."""

    releases_dir: str
    inbox: str
    seeds_dir: str
    expectations_dir: str
    gx_dir: str
    reports_dir: str
    max_file_bytes: int

    def path(self, name: str) -> Path:
        return Path(getattr(self, name))

    def files(self):
        from orchestration.lib import record

        return record.release_files(self.path("releases_dir"), self.path("inbox"))

    def scan(self):
        """Every release in the files present, and the files that cannot be read."""
        from orchestration.lib.ingest import scan_files

        return scan_files(self.files(), max_bytes=self.max_file_bytes)


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


@cache
def dbt_project() -> DbtProject:
    """dbt's project, made when first asked for (not at import): the manifest is prepared then."""
    settings = get_settings()
    settings.export_environment()
    project = DbtProject(project_dir=settings.dbt_project_dir, profiles_dir=settings.dbt_project_dir)
    project.prepare_if_dev()
    return project


def build_resources() -> dict:
    settings = get_settings()
    return {
        "warehouse": WarehouseResource(database=str(settings.warehouse)),
        "dbt": ItxDbtCliResource(
            project_dir=dbt_project(),
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
        "release_files": ReleaseFilesResource(
            releases_dir=str(settings.releases_dir),
            inbox=str(settings.inbox),
            seeds_dir=str(settings.seeds_dir),
            expectations_dir=str(settings.expectations_dir),
            gx_dir=str(settings.gx_dir),
            reports_dir=str(settings.reports_dir),
            max_file_bytes=settings.max_file_bytes,
        ),
    }
