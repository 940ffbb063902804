"""The itx code location: `dagster dev -w workspace.yaml` loads `defs`."""

import dagster as dg

from orchestration.defs.checks import rejected_files
from orchestration.defs.dbt import itx_dbt_models
from orchestration.defs.fetch import fetch_job, sbp_release_files
from orchestration.defs.jobs import ingest_job, transform_job
from orchestration.defs.raw import raw_releases
from orchestration.defs.report import monthly_brief
from orchestration.defs.resources import build_resources
from orchestration.defs.schedules import sbp_fetch_schedule
from orchestration.defs.sensors import release_inbox_sensor, transform_after_ingest


def build_defs() -> dg.Definitions:
    """The definitions, with resources for the paths the environment names now (so that `itx`
    and the tests can point one process at another warehouse)."""
    return dg.Definitions(
        assets=[sbp_release_files, raw_releases, rejected_files, itx_dbt_models, monthly_brief],
        jobs=[fetch_job, ingest_job, transform_job],
        schedules=[sbp_fetch_schedule],
        sensors=[release_inbox_sensor, transform_after_ingest],
        resources=build_resources(),
    )


defs = build_defs()
