"""The dbt project as Dagster assets: `dbt build` on the staging warehouse, so dbt's tests run as
asset checks and a reader never sees a half-built mart.

dagster-dbt defines the assets from dbt's manifest, so they are made by `itx_dbt_models(manifest)`
when the definitions are built (orchestration.definitions.build_defs), not at import."""

import contextlib
import io
import os
import shutil
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.defs.resources import ReleaseFilesResource, WarehouseResource
from orchestration.lib import progress
from orchestration.settings import DBT_DATABASE_ENV, get_settings


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


@cache
def itx_dbt_models(manifest: Path) -> dg.AssetsDefinition:
    """The dbt models, seeds and tests of the manifest as one multi-asset (made once per manifest
    and process: dagster-dbt reads the whole manifest to make it)."""

    @dbt_assets(manifest=manifest, dagster_dbt_translator=ItxDbtTranslator(), name="itx_dbt_models")
    def itx_dbt_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        release_files: ReleaseFilesResource,
    ):
        yield from dbt_build(context, dbt, warehouse, release_files)

    return itx_dbt_models


def dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    release_files: ReleaseFilesResource,
):
    """The step of the dbt assets: raw brought in line with the files, then `dbt build` on the
    staging warehouse; the files, the warehouse and dbt's project from the resources."""
    import duckdb

    from orchestration.lib.gx_validation import rules_sha256
    from orchestration.lib.ingest import sync_with_files
    from orchestration.lib.warehouse import models_built_with, record_models_built_with

    scan = release_files.scan()
    rules = rules_sha256(release_files.path("seeds_dir"), release_files.path("expectations_dir"))
    with warehouse.staging_path(purpose=f"Dagster run {context.run.run_id[:8]} (dbt)") as staging:
        # the fingerprint of the code (dbt project, suites, orchestration/lib: the repository's,
        # no setting moves them) as `itx build` computes it to compare with what was published
        project = get_settings().project_fingerprint()
        # raw follows the files before dbt reads it: releases of removed files go, unreadable files
        # are listed, and the files this state stands for are noted for the publication
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
            # one unit per model, seed and test: each ends in one event (materialization or check)
            nodes = len(context.selected_asset_keys) + len(context.selected_asset_check_keys)
            progress.report("dbt", 0, total=nodes)
            if context.run.tags.get(QUIET_TAG):
                # dagster-dbt echoes every dbt log line to stdout; `itx build` prints its own
                # summary (the lines stay in the run's events and in dbt's log file)
                with contextlib.redirect_stdout(io.StringIO()):
                    yield from _counted(invocation.stream())  # raises if the build failed
            else:
                yield from _counted(invocation.stream())
            conn = duckdb.connect(str(staging))
            try:
                record_models_built_with(conn, project)
            finally:
                conn.close()
            _keep_partial_parse(invocation.target_path, Path(dbt.project_dir) / "target")
        finally:
            os.environ.pop(DBT_DATABASE_ENV, None)


def _counted(events):
    for event in events:
        progress.report("dbt")
        yield event


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
