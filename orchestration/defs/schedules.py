"""The monthly schedule: SBP prints its ICT figure 16-22 days after the month ends."""

import dagster as dg

from orchestration.defs.jobs import ingest_job
from orchestration.defs.partitions import release_partitions
from orchestration.defs.release_discovery import release_run_requests, scan_releases


@dg.schedule(
    job=ingest_job,
    cron_schedule="0 15 16-22 * *",
    execution_timezone="Asia/Karachi",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="15:00 PKT on the 16th to 22nd of every month: load any release not yet in the warehouse.",
)
def monthly_release_schedule(context: dg.ScheduleEvaluationContext):
    found, errors = scan_releases()
    for error in errors:
        context.log.error(error)
    existing = set(context.instance.get_dynamic_partitions(release_partitions.name))
    requests = release_run_requests(
        context.instance, found, {rid: sha for rid, sha in found.items() if rid in existing}
    )
    return requests or dg.SkipReason("no release that is not yet in the warehouse")
