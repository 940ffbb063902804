"""Sensors: new or changed release files start ingest runs (an unreadable file is reported once
and skipped); any finished ingest, whichever job or UI action ran it, starts the transform that
builds the marts and the brief and publishes them."""

import json
from datetime import datetime

import dagster as dg

from orchestration.defs.checks import RAW_FIGURES_KEY
from orchestration.defs.jobs import ingest_job, transform_job
from orchestration.defs.partitions import release_partitions
from orchestration.defs.raw import TRIGGER_TAG
from orchestration.defs.resources import ReleaseFilesResource

BUILD_TAG = "itx/build"  # runs of `itx build`, which runs its own transform


def plan_inbox_tick(scan, cursor: dict | None, existing_partitions: set[str]):
    """What one tick of the inbox sensor does, as data: (run requests, partitions to add,
    partitions to delete, errors to report, the new cursor)."""
    if cursor is None:
        # First tick: releases already built (by `make run`) are not new, nor are their files.
        cursor = {
            "releases": {
                rid: [r.release_sha256, r.source_file.name]
                for rid, r in scan.releases.items()
                if rid in existing_partitions
            },
            "files": dict(scan.files),
            "errors": {},
        }
    known = cursor.get("releases", {})
    requests = [
        dg.RunRequest(
            job_name=ingest_job.name,
            partition_key=rid,
            run_key=f"{rid}:{release.release_sha256}",
            tags={TRIGGER_TAG: "release_inbox_sensor"},
        )
        for rid, release in scan.releases.items()
        if known.get(rid, [None])[0] != release.release_sha256
    ]
    unreadable = scan.errors_by_file
    errors_seen = cursor.get("errors", {})
    new_errors = [e for name, e in unreadable.items() if errors_seen.get(name) != scan.files.get(name)]
    add = [rid for rid in scan.releases if rid not in existing_partitions]
    # a release whose file is unreadable now keeps its partition (its previous version stays)
    delete = [
        rid
        for rid in existing_partitions
        if rid not in scan.releases and known.get(rid, [None, None])[1] not in unreadable
    ]
    removed_files = set(cursor.get("files", {})) - set(scan.files)
    if not requests and (removed_files or new_errors or delete):
        # nothing to ingest, but raw must follow the files: the transform removes the releases of
        # removed files and lists the unreadable ones before dbt runs
        requests.append(dg.RunRequest(job_name=transform_job.name, run_key=f"files:{scan.fingerprint}"))
    new_cursor = {
        "releases": {rid: [r.release_sha256, r.source_file.name] for rid, r in scan.releases.items()},
        "files": dict(scan.files),
        "errors": {name: scan.files.get(name) for name in unreadable},
    }
    return requests, add, delete, new_errors, new_cursor


@dg.sensor(
    jobs=[ingest_job, transform_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the bundled releases and the inbox (ITX_INBOX): each new or changed release becomes a "
        "partition and an ingest run; a removed file's partitions are deleted; a file that cannot be read is "
        "reported once, with the reason, and skipped."
    ),
)
def release_inbox_sensor(context: dg.SensorEvaluationContext, release_files: ReleaseFilesResource):
    scan = release_files.scan()
    existing = set(context.instance.get_dynamic_partitions(release_partitions.name))
    cursor = json.loads(context.cursor) if context.cursor else None
    requests, add, delete, new_errors, new_cursor = plan_inbox_tick(scan, cursor, existing)
    for error in new_errors:
        context.log.error(f"skipped, left where it is: {error}")
    partition_requests = []
    if add:
        partition_requests.append(release_partitions.build_add_request(add))
    if delete:
        partition_requests.append(release_partitions.build_delete_request(delete))
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=partition_requests,
        cursor=json.dumps(new_cursor, sort_keys=True),
        skip_reason=None if requests else "no new or changed release",
    )


@dg.sensor(
    job=transform_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "After any run that ingested releases (the sensor's ingest_job runs, a partition materialized by hand in "
        "the UI, a backfill), whether or not it rejected some, rebuild the dbt models and the brief and publish."
    ),
)
def transform_after_ingest(context: dg.SensorEvaluationContext):
    state = json.loads(context.cursor) if context.cursor else None
    if state is None:
        context.update_cursor(json.dumps({"since": datetime.now().timestamp(), "seen": []}))
        return dg.SkipReason("watching runs from now on")
    # run timestamps are kept to the second: look a little back, and skip the runs already seen
    records = context.instance.get_run_records(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
            updated_after=datetime.fromtimestamp(state["since"] - 2),
        ),
        order_by="update_timestamp",
        ascending=True,
    )
    seen = set(state["seen"])
    latest, trigger = state["since"], None
    for rec in records:
        run = rec.dagster_run
        if run.run_id in seen:
            continue
        seen.add(run.run_id)
        latest = max(latest, rec.update_timestamp.timestamp())
        if BUILD_TAG in run.tags:
            continue
        if run.job_name == ingest_job.name or (run.asset_selection and RAW_FIGURES_KEY in run.asset_selection):
            trigger = run
    recent = [rec.dagster_run.run_id for rec in records if rec.update_timestamp.timestamp() >= latest - 2]
    context.update_cursor(json.dumps({"since": latest, "seen": recent}))
    if trigger is None:
        return dg.SkipReason("no ingest finished")
    return dg.RunRequest(run_key=f"after:{trigger.run_id}", tags={"itx/after_run": trigger.run_id})
