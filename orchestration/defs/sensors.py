"""Sensors: new release files in the inbox start ingest runs; a good ingest starts transform."""

import json

import dagster as dg

from orchestration.defs.jobs import ingest_job, transform_job
from orchestration.defs.partitions import release_partitions
from orchestration.defs.release_discovery import release_run_requests, scan_releases


@dg.sensor(
    job=ingest_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the bundled releases and the inbox (ITX_INBOX): each new or changed release "
        "becomes a partition and an ingest run."
    ),
)
def release_inbox_sensor(context: dg.SensorEvaluationContext):
    found, errors = scan_releases()
    for error in errors:
        context.log.error(error)
    if context.cursor:
        known = json.loads(context.cursor)
    else:
        # First tick: releases already built (by `make run`) are not new.
        existing = set(context.instance.get_dynamic_partitions(release_partitions.name))
        known = {rid: sha for rid, sha in found.items() if rid in existing}
    requests = release_run_requests(context.instance, found, known)
    context.update_cursor(json.dumps(found, sort_keys=True))
    if not requests:
        reason = "no new release" + (f"; unreadable files: {' | '.join(errors)}" if errors else "")
        return dg.SkipReason(reason)
    return requests


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=transform_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After releases load and pass validation, rebuild the dbt models and the brief.",
)
def transform_after_ingest(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=context.dagster_run.run_id)
