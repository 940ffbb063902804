"""The schedule: fetch SBP's files on its release days (16th-22nd, Asia/Karachi) and daily
after that until a new release arrives. The inbox sensor turns what arrives into releases."""

from datetime import datetime
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.defs.fetch import fetch_job
from orchestration.defs.resources import ReleaseFilesResource
from orchestration.lib.fetch import last_download_date
from orchestration.lib.fetch_schedule import should_fetch

KARACHI = ZoneInfo("Asia/Karachi")


@dg.schedule(
    job=fetch_job,
    cron_schedule="0 15 * * *",
    execution_timezone="Asia/Karachi",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "15:00 PKT: every day from the 16th to the 22nd (SBP prints its monthly ICT figure 16-22 days after "
        "the month), and on other days while no new release has been downloaded since the 16th."
    ),
)
def sbp_fetch_schedule(context: dg.ScheduleEvaluationContext, release_files: ReleaseFilesResource):
    tick = context.scheduled_execution_time or datetime.now(KARACHI)
    today = tick.astimezone(KARACHI).date()
    # the inbox the fetch writes to and the inbox sensor watches
    fetch, why = should_fetch(today, last_download_date(release_files.path("inbox")))
    if not fetch:
        return dg.SkipReason(why)
    return dg.RunRequest(run_key=f"fetch-{today.isoformat()}", tags={"itx/why": why})
