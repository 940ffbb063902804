"""The dbt project as Dagster assets: `dbt build` on the staging warehouse, so dbt's tests run as
asset checks and a reader never sees a half-built mart."""

import contextlib
import io
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
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
    from orchestration.lib.warehouse import models_built_with, record_models_built_with

    scan = release_files.scan()
    rules = rules_sha256(release_files.path("seeds_dir"), release_files.path("expectations_dir"))
    with warehouse.staging_path(purpose=f"Dagster run {context.run.run_id[:8]} (dbt)") as staging:
        # raw follows the files before dbt reads it: releases of removed files go, unreadable files
        # are listed, and the files this state stands for are noted for the publication
        project = get_settings().project_fingerprint()
        conn = duckdb.connect(str(staging))
        try:
            # the incremental models were built by other code (or never): build them afresh
            full_refresh = models_built_with(conn) != project
            context.log.info(sync_with_files(conn, scan, rules=rules, project_fingerprint=project))
        finally:
            conn.close()
        os.environ[DBT_DATABASE_ENV] = str(staging)
        try:
            # dbt's unit tests check the models' SQL, not the data: the test suite runs them
            # (tests/e2e/test_warehouse.py), a build need not pay for them every time
            args = ["build", "--exclude-resource-type", "unit_test"] + (["--full-refresh"] if full_refresh else [])
            invocation = dbt.cli(args, context=context)
            if context.run.tags.get(QUIET_TAG):
                # dagster-dbt echoes every dbt log line to stdout; `itx build` prints its own
                # summary (the lines stay in the run's events and in dbt's log file)
                with contextlib.redirect_stdout(io.StringIO()):
                    yield from invocation.stream()  # raises if the build failed
            else:
                yield from invocation.stream()
            conn = duckdb.connect(str(staging))
            try:
                record_models_built_with(conn, project)
            finally:
                conn.close()
            _keep_partial_parse(invocation.target_path, Path(dbt.project_dir) / "target")
        finally:
            os.environ.pop(DBT_DATABASE_ENV, None)


KEPT_DBT_TARGETS = 5
# Tag of runs whose caller prints its own summary (`itx build` without --verbose)
QUIET_TAG = "itx/quiet"


def _keep_partial_parse(invocation_target: Path, project_target: Path) -> None:
    """Keep the parse of this dbt build for the next one. dagster-dbt gives every invocation a
    target folder of its own, seeded with target/partial_parse.msgpack; dbt writes its parse
    there. Copied back, the next build with the same profile (the same warehouse) parses only
    what changed instead of the whole project (seconds at every build)."""
    parsed = Path(invocation_target) / "partial_parse.msgpack"
    if not parsed.exists():
        return
    kept = project_target / "partial_parse.msgpack"
    partial = kept.with_name(f".{kept.name}.{os.getpid()}")
    shutil.copyfile(parsed, partial)
    os.replace(partial, kept)
    # and keep the folders of the last few builds only (their logs and compiled SQL), not all
    folders = sorted(
        (p for p in project_target.glob("itx_dbt_models-*") if p.is_dir()), key=lambda p: p.stat().st_mtime
    )
    for old in folders[:-KEPT_DBT_TARGETS]:
        shutil.rmtree(old, ignore_errors=True)
