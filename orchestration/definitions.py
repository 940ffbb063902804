"""The itx code location: `dagster dev -w workspace.yaml` loads `defs`.

`defs` is loaded when Dagster asks for it (`@dg.definitions`), not when this module is imported:
only then are the settings read, the resources made and dbt's manifest read (and, under
`dagster dev`, prepared: orchestration/defs/resources.py).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from orchestration.defs.checks import rejected_files
from orchestration.defs.dbt import itx_dbt_models
from orchestration.defs.fetch import fetch_job, sbp_release_files
from orchestration.defs.jobs import ingest_job, transform_job
from orchestration.defs.raw import raw_releases
from orchestration.defs.report import monthly_brief
from orchestration.defs.resources import build_resources, dbt_project
from orchestration.defs.schedules import sbp_fetch_schedule
from orchestration.defs.sensors import release_inbox_sensor, transform_after_ingest
from orchestration.settings import get_settings


def build_defs(resources: Mapping[str, Any] | None = None) -> dg.Definitions:
    """The definitions, with resources for the paths the environment names now (so that `itx`
    and the tests can point one process at another warehouse). `resources` replace the defaults
    of the same keys: every asset, sensor and schedule that uses one follows it."""
    settings = get_settings()
    manifest = dbt_project(settings.dbt_project_dir, settings.warehouse).manifest_path
    return dg.Definitions(
        assets=[sbp_release_files, raw_releases, rejected_files, itx_dbt_models(manifest), monthly_brief],
        jobs=[fetch_job, ingest_job, transform_job],
        schedules=[sbp_fetch_schedule],
        sensors=[release_inbox_sensor, transform_after_ingest],
        resources={**build_resources(settings), **(resources or {})},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
