"""Asset keys of the raw layer and the Great Expectations check of each release.

The GX validation runs inside the ingest, before a release is committed, so a release that fails
it never reaches the tables dbt reads. Its result is reported on the release's own partition:
an AssetCheckEvaluation per release (Dagster 1.13's partitioned asset checks) and the summary in
the partition's materialization.
"""

import dagster as dg

from orchestration.defs.partitions import release_partitions
from orchestration.lib.warehouse import LoadOutcome

RAW_FIGURES_KEY = dg.AssetKey(["raw", "release_figures"])
RAW_VALIDATIONS_KEY = dg.AssetKey(["raw", "validation_results"])
RAW_HEADER_PERIODS_KEY = dg.AssetKey(["raw", "release_header_periods"])
RAW_REJECTED_KEY = dg.AssetKey(["raw", "rejected_files"])

# A snapshot, not a partition of a release: what is quarantined now. Written by the ingest (the
# releases it rejects) and by the transform's sync with the files (the files it cannot read).
rejected_files = dg.AssetSpec(
    RAW_REJECTED_KEY,
    group_name="raw",
    kinds={"duckdb"},
    description=(
        "What is quarantined now: files that cannot be read (with the rule) and releases Great Expectations "
        "rejected (with the file rows and rules). Rewritten by every ingest and by the transform before dbt; "
        "listed by marts.mart_data_quality and the brief."
    ),
)

release_validation_check = dg.AssetCheckSpec(
    name="gx_raw_release_figures",
    asset=RAW_FIGURES_KEY,
    partitions_def=release_partitions,
    description=(
        "Great Expectations suites expectations/suites/raw_release_figures.json (and raw_release_coverage.json "
        "for files with a header of periods) on the release, before it is committed: columns and types, known "
        "series, real months, bases that parse, non-negative values, no duplicate figure, plausible magnitudes, "
        "errata, no date in the future, no page contradicting itself."
    ),
)


def failures_table(outcome: LoadOutcome) -> str:
    rows = [
        f"| {f['expectation']} | {f['rule']} | {', '.join(map(str, f['rows'][:20]))} | {'; '.join(f['values'][:5])} |"
        for f in outcome.validation.failures
    ]
    return "| expectation | rule | file rows | values |\n|---|---|---|---|\n" + "\n".join(rows)


def check_evaluation(outcome: LoadOutcome, data_docs: str | None) -> dg.AssetCheckEvaluation:
    """The GX result of one validated release, on its partition."""
    validation = outcome.validation
    metadata = {
        "release": outcome.release_id,
        "file": outcome.source_file,
        "figures": outcome.rows,
        "suite": validation.suite_name,
        "expectations_evaluated": validation.evaluated,
        "expectations_failed": len(validation.failures),
    }
    if validation.failures:
        metadata["failures"] = dg.MetadataValue.md(failures_table(outcome))
    if data_docs:
        metadata["data_docs"] = dg.MetadataValue.path(data_docs)
    return dg.AssetCheckEvaluation(
        asset_key=RAW_FIGURES_KEY,
        check_name=release_validation_check.name,
        passed=validation.success,
        severity=dg.AssetCheckSeverity.ERROR,
        partition=outcome.release_id,
        description=(
            f"{outcome.release_id} ({outcome.source_file}): {validation.evaluated} expectations, "
            + ("all passed" if validation.success else f"{len(validation.failures)} failed")
        ),
        metadata=metadata,
    )
