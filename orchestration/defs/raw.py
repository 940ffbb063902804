"""raw/release_figures: every figure of every release, as printed, with its provenance."""

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.checks import RAW_FIGURES_KEY, release_validation_check, release_validation_result
from orchestration.defs.partitions import release_partitions
from orchestration.defs.resources import WAREHOUSE_POOL, ReleaseFilesResource, WarehouseResource
from orchestration.lib import record
from orchestration.lib.warehouse import RAW_FIGURES, LoadOutcome, delete_release, ensure_raw_tables, load_release


@dg.asset(
    key=RAW_FIGURES_KEY,
    group_name="raw",
    partitions_def=release_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[release_validation_check],
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "python"},
    description=(
        "Every figure of every release, as printed, with provenance (release id, source URL, "
        "file name and sha256, loaded-at). One partition per release; a load replaces exactly "
        "that release's rows in one transaction, committed only if Great Expectations passes."
    ),
)
def release_figures(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    release_files: ReleaseFilesResource,
):
    from orchestration.lib.gx_validation import build_data_docs, validate_release

    releases = record.discover_releases(
        record.release_files(release_files.path("releases_dir"), release_files.path("inbox"))
    )
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    outcomes: list[LoadOutcome] = []

    def validate(conn, release_id):
        return validate_release(
            conn,
            release_id,
            seeds_dir=release_files.path("seeds_dir"),
            gx_dir=release_files.path("gx_dir"),
            expectations_dir=release_files.path("expectations_dir"),
            run_name=f"{release_id}:{context.run.run_id}",
        )

    with warehouse.get_connection() as conn:
        ensure_raw_tables(conn)
        for key in context.partition_keys:
            release = releases.get(key)
            if release is None:
                # The release's file is gone from the releases folder and the inbox: its
                # figures go too, so the warehouse says what the files say.
                delete_release(conn, key, keep_validations=False)
                context.log.warning(f"release {key}: no file holds it any more; its rows were removed")
                continue
            outcome = load_release(conn, release, validate, loaded_at=loaded_at, run_id=context.run.run_id)
            outcomes.append(outcome)
            if outcome.status == "rejected":
                context.log.error(outcome.validation.describe(key, release.source_file.name))
        total = conn.execute(f"select count(*), count(distinct release_id) from {RAW_FIGURES}").fetchone()

    data_docs = None
    if any(o.validation is not None for o in outcomes):
        data_docs = str(build_data_docs(release_files.path("gx_dir")))

    check_result = release_validation_result(outcomes, data_docs)
    rejected = [o for o in outcomes if o.status == "rejected"]
    if rejected:
        # The rejected releases were rolled back: nothing of them is materialized.
        yield check_result
        raise dg.Failure(
            description="\n".join(
                o.validation.describe(o.release_id, releases[o.release_id].source_file.name) for o in rejected
            ),
            metadata={"rejected_releases": [o.release_id for o in rejected]},
        )
    yield dg.MaterializeResult(
        asset_key=RAW_FIGURES_KEY,
        metadata={
            "releases_in_run": len(context.partition_keys),
            "releases_loaded": sum(o.status == "loaded" for o in outcomes),
            "releases_unchanged": sum(o.status == "unchanged" for o in outcomes),
            "figures_in_run": sum(o.rows for o in outcomes),
            "figures_in_warehouse": total[0],
            "releases_in_warehouse": total[1],
        },
    )
    yield check_result
