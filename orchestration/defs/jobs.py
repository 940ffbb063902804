"""Jobs: ingest releases (partitioned by release), then transform and report."""

import dagster as dg

from orchestration.defs.checks import RAW_FIGURES_KEY
from orchestration.defs.fetch import SBP_FILES_KEY

ingest_job = dg.define_asset_job(
    name="ingest_job",
    selection=dg.AssetSelection.assets(RAW_FIGURES_KEY),
    description="Load and validate releases (one partition per release) into raw.release_figures.",
)

transform_job = dg.define_asset_job(
    name="transform_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(RAW_FIGURES_KEY, SBP_FILES_KEY),
    description="dbt build (models and their tests) on the validated releases, then the monthly brief.",
)
