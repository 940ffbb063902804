"""Jobs: ingest releases (partitioned by release), then transform, report and publish.

Both run their steps in one process: every step writes the warehouse through the writer lock
(orchestration/lib/publication.py), so nothing runs side by side anyway, and one process saves
the start-up of a process per step."""

import dagster as dg

from orchestration.defs.checks import RAW_FIGURES_KEY, RAW_HEADER_PERIODS_KEY, RAW_VALIDATIONS_KEY
from orchestration.defs.fetch import SBP_FILES_KEY

RAW_KEYS = (RAW_FIGURES_KEY, RAW_VALIDATIONS_KEY, RAW_HEADER_PERIODS_KEY)

ingest_job = dg.define_asset_job(
    name="ingest_job",
    selection=dg.AssetSelection.assets(*RAW_KEYS),
    executor_def=dg.in_process_executor,
    description=(
        "Load and validate releases (one partition per release) into the staging warehouse; rejected releases "
        "are quarantined, the others kept. transform_job publishes."
    ),
)

transform_job = dg.define_asset_job(
    name="transform_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(*RAW_KEYS, SBP_FILES_KEY),
    executor_def=dg.in_process_executor,
    description=(
        "dbt build (models and their tests) on the staging warehouse, the monthly brief, then the publication "
        "of both (the warehouse file replaced in one rename)."
    ),
)
