"""The dbt project as Dagster assets: `dbt build` on the staging warehouse, so dbt's tests run as
asset checks and a reader never sees a half-built mart."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.resources import DBT_DATABASE_ENV, ReleaseFilesResource, WarehouseResource, dbt_project
from orchestration.settings import get_settings


class ItxDbtTranslator(DagsterDbtTranslator):
    """Asset keys are the DuckDB [schema, table]; groups are the dbt folders."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else None


@dbt_assets(
    manifest=dbt_project().manifest_path,
    dagster_dbt_translator=ItxDbtTranslator(),
    name="itx_dbt_models",
)
def itx_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    release_files: ReleaseFilesResource,
):
    import duckdb

    from orchestration.lib.gx_validation import rules_sha256
    from orchestration.lib.ingest import sync_with_files

    scan = release_files.scan()
    rules = rules_sha256(release_files.path("seeds_dir"), release_files.path("expectations_dir"))
    with warehouse.staging_path(purpose=f"Dagster run {context.run.run_id[:8]} (dbt)") as staging:
        # raw follows the files before dbt reads it: releases of removed files go, unreadable files
        # are listed, and the files this state stands for are noted for the publication
        conn = duckdb.connect(str(staging))
        try:
            context.log.info(
                sync_with_files(conn, scan, rules=rules, project_fingerprint=get_settings().project_fingerprint())
            )
        finally:
            conn.close()
        os.environ[DBT_DATABASE_ENV] = str(staging)
        try:
            # dbt's unit tests check the models' SQL, not the data: the test suite runs them
            # (tests/e2e/test_warehouse.py), a build need not pay for them every time
            yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()
        finally:
            os.environ.pop(DBT_DATABASE_ENV, None)
