"""The raw layer: every figure of every release as printed, its validations and its header.

One multi-asset: raw/release_figures is partitioned by release; raw/validation_results and
raw/release_header_periods, tables every release writes to, are not. One step brings raw in line
with the release files for the partitions of the run (plus the removal of releases whose file is
gone), validating the new or changed releases together. Each release's partition gets its own
events (two: the GX check's result and, when it was loaded or is unchanged, the materialization
with its validation summary); a release Great Expectations rejected is left failed (quarantined,
the others of the run are kept). The two shared tables get one event each per run: Dagster's
SQLite event log costs ~12 ms an event, so events follow the releases that changed, once.
"""

from datetime import UTC, date, datetime

import dagster as dg

from orchestration.defs.checks import (
    RAW_FIGURES_KEY,
    RAW_HEADER_PERIODS_KEY,
    RAW_VALIDATIONS_KEY,
    check_evaluation,
    release_validation_check,
)
from orchestration.defs.partitions import release_partitions
from orchestration.defs.resources import ReleaseFilesResource, WarehouseResource

# Tags on runs started by `itx build` and by the inbox sensor: such runs load only what changed.
TRIGGER_TAG = "itx/trigger"


class IngestConfig(dg.Config):
    """`force`: validate and load the run's releases again even if unchanged (after a change of
    the suites or the errata, say). Unset: forced for a one-release run started by hand in the UI,
    not for the runs of the sensor or of `itx build`."""

    force: bool | None = None


@dg.multi_asset(
    name="raw_releases",
    specs=[
        dg.AssetSpec(
            RAW_FIGURES_KEY,
            group_name="raw",
            kinds={"duckdb"},
            skippable=True,
            partitions_def=release_partitions,
            description=(
                "Every figure of every release, as printed, with provenance (release id, source URL, file "
                "name and sha256, loaded-at). One partition per release; committed only if Great Expectations "
                "passes."
            ),
        ),
        dg.AssetSpec(
            RAW_VALIDATIONS_KEY,
            group_name="raw",
            kinds={"duckdb"},
            skippable=True,
            description=(
                "Every Great Expectations validation of a release (pass or fail, with a bounded sample of the "
                "failing rows); and raw.rejected_files, what is quarantined now: files that cannot be read and "
                "releases that failed validation."
            ),
        ),
        dg.AssetSpec(
            RAW_HEADER_PERIODS_KEY,
            group_name="raw",
            kinds={"duckdb"},
            skippable=True,
            description="The (period, basis) pairs the header of an SBP file announces, checked against its figures.",
        ),
    ],
    check_specs=[release_validation_check],
    backfill_policy=dg.BackfillPolicy.single_run(),
    # Dagster requires a declared check's result unless the asset can be subset; results here are
    # events on each release's partition instead, so the step declares itself subsettable
    can_subset=True,
)
def raw_releases(
    context: dg.AssetExecutionContext,
    config: IngestConfig,
    warehouse: WarehouseResource,
    release_files: ReleaseFilesResource,
):
    from orchestration.lib import progress
    from orchestration.lib.gx_validation import data_docs_index, rules_sha256, validate_staged
    from orchestration.lib.ingest import ingest, releases_to_load

    keys = list(context.partition_keys)
    force = config.force
    if force is None:
        force = len(keys) == 1 and TRIGGER_TAG not in context.run.tags
    scan = release_files.scan()
    for error in scan.errors:
        context.log.warning(f"quarantined: {error}")
    rules = rules_sha256(release_files.path("seeds_dir"), release_files.path("expectations_dir"))
    gx_dir = release_files.path("gx_dir")

    def validate(conn):
        return validate_staged(
            conn,
            seeds_dir=release_files.path("seeds_dir"),
            gx_dir=gx_dir,
            expectations_dir=release_files.path("expectations_dir"),
            run_name=f"ingest:{context.run.run_id}",
            build_date=date.today(),
        )

    with warehouse.writer(purpose=f"Dagster run {context.run.run_id[:8]}") as conn:
        wanted = set(releases_to_load(conn, scan, rules, force=keys if force else ()))
        to_load = [k for k in keys if k in wanted]
        report = ingest(
            conn,
            scan,
            to_load,
            validate,
            loaded_at=datetime.now(UTC).replace(tzinfo=None),
            run_id=context.run.run_id,
            rules=rules,
            unchanged=[k for k in keys if k not in wanted],
        )
    missing = [k for k in keys if k not in scan.releases]
    for key in missing:
        context.log.warning(f"release {key}: no file holds it any more; its rows are removed")

    # the validation's GX Checkpoint added this run's results to Data Docs (pages and index)
    data_docs = str(data_docs_index(gx_dir)) if data_docs_index(gx_dir).exists() else None

    progress.report("load", 0, total=len(to_load))
    for outcome in report.outcomes:
        if outcome.release_id not in keys:
            continue
        if outcome.validation is not None:
            progress.report("load")
        if outcome.validation is not None:
            context.log_event(check_evaluation(outcome, data_docs))
        if outcome.status in ("loaded", "unchanged"):
            metadata = {"status": outcome.status, "file": outcome.source_file, "figures": outcome.rows}
            if outcome.validation is not None:
                metadata["expectations_evaluated"] = outcome.validation.evaluated
                metadata["validation"] = "passed"
            if data_docs:
                metadata["data_docs"] = dg.MetadataValue.path(data_docs)
            context.log_event(
                dg.AssetMaterialization(asset_key=RAW_FIGURES_KEY, partition=outcome.release_id, metadata=metadata)
            )
    # the two tables of every release are written once per run: one event each, not one per release
    for key in (RAW_VALIDATIONS_KEY, RAW_HEADER_PERIODS_KEY):
        context.log_event(
            dg.AssetMaterialization(
                asset_key=key,
                metadata={"releases_validated": len(to_load), "releases_in_run": len(keys)},
            )
        )
    rejected = report.by_status("rejected")
    context.log.info(
        f"{len(report.by_status('loaded'))} loaded, {len(report.by_status('unchanged'))} unchanged, "
        f"{len(rejected)} rejected, {len(report.by_status('removed'))} removed; "
        f"{len(scan.errors)} unreadable file(s)"
    )
    # every result above is an event on its release's partition; the step has no output of its own
    yield from ()
    if rejected:
        raise dg.Failure(
            description="\n".join(o.validation.describe(o.release_id, o.source_file) for o in rejected),
            metadata={"rejected_releases": [o.release_id for o in rejected]},
        )
