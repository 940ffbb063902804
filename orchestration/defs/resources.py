"""Resources: the warehouse (one DuckDB file), dbt, and where release files live."""

import sys
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from orchestration.settings import get_settings

# Every asset that writes the warehouse runs in this pool, limited to one slot
# (dagster_home/dagster.yaml): DuckDB allows one writing process at a time.
WAREHOUSE_POOL = "duckdb_warehouse"


class WarehouseResource(DuckDBResource):
    """dagster-duckdb's resource, plus read-only connections for readers."""

    @contextmanager
    def get_read_only_connection(self):
        conn = duckdb.connect(self.database, read_only=True)
        try:
            yield conn
        finally:
            conn.close()


class ReleaseFilesResource(dg.ConfigurableResource):
    """Where releases come from, and what validates them."""

    releases_dir: str
    inbox: str
    seeds_dir: str
    expectations_dir: str
    gx_dir: str
    reports_dir: str

    def path(self, name: str) -> Path:
        return Path(getattr(self, name))


settings = get_settings()
settings.export_environment()

dbt_project = DbtProject(project_dir=settings.dbt_project_dir, profiles_dir=settings.dbt_project_dir)
dbt_project.prepare_if_dev()


def build_resources() -> dict:
    return {
        "warehouse": WarehouseResource(database=str(settings.warehouse)),
        "dbt": DbtCliResource(
            project_dir=dbt_project,
            dbt_executable=str(Path(sys.executable).with_name("dbt")),
        ),
        "release_files": ReleaseFilesResource(
            releases_dir=str(settings.releases_dir),
            inbox=str(settings.inbox),
            seeds_dir=str(settings.seeds_dir),
            expectations_dir=str(settings.expectations_dir),
            gx_dir=str(settings.gx_dir),
            reports_dir=str(settings.reports_dir),
        ),
    }
