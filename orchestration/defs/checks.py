"""Asset checks. The Great Expectations validation of each release is a blocking check on
raw/release_figures: it runs inside the load, before the release's transaction commits,
so a release that fails it never reaches the tables dbt reads, and nothing downstream runs."""

import json

import dagster as dg

from orchestration.lib.warehouse import LoadOutcome

RAW_FIGURES_KEY = dg.AssetKey(["raw", "release_figures"])

# Written by raw/release_figures as it validates each release (pass or fail), read by dbt.
validation_results = dg.AssetSpec(
    key=["raw", "validation_results"],
    group_name="raw",
    kinds={"duckdb"},
    description=(
        "Every Great Expectations validation of a release: when, which suite, pass or fail, and the "
        "failed expectations with their offending rows. Written by raw/release_figures; GX's Data Docs "
        "HTML for the same results is under data/gx."
    ),
)

release_validation_check = dg.AssetCheckSpec(
    name="gx_raw_release_figures",
    asset=RAW_FIGURES_KEY,
    blocking=True,
    description=(
        "Great Expectations suite expectations/suites/raw_release_figures.json on every release "
        "loaded in the run: columns and types, known series, real months, bases that parse, "
        "non-negative values, no duplicate figure, plausible magnitudes, errata."
    ),
)


def release_validation_result(outcomes: list[LoadOutcome], data_docs: str | None) -> dg.AssetCheckResult:
    validated = [o for o in outcomes if o.validation is not None]
    failed = [o for o in validated if not o.validation.success]
    failures = [
        {
            "release": o.release_id,
            "expectation": f["expectation"],
            "rule": f["rule"],
            "rows": f["rows"][:50],
            "values": f["values"][:5],
        }
        for o in failed
        for f in o.validation.failures
    ]
    table = "\n".join(
        f"| {f['release']} | {f['expectation']} | {f['rule']} | {', '.join(map(str, f['rows'][:20]))} |"
        for f in failures
    )
    return dg.AssetCheckResult(
        check_name=release_validation_check.name,
        asset_key=RAW_FIGURES_KEY,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(validated) - len(failed)} of {len(validated)} releases validated passed"
            + (f"; failed: {', '.join(o.release_id for o in failed)}" if failed else "")
        ),
        metadata={
            "releases_validated": len(validated),
            "releases_failed": len(failed),
            "releases_unchanged": sum(o.status == "unchanged" for o in outcomes),
            "failures": dg.MetadataValue.md(
                "| release | expectation | rule | rows |\n|---|---|---|---|\n" + table if failures else "none"
            ),
            "failures_json": dg.MetadataValue.json(json.loads(json.dumps(failures, default=str))),
            **({"data_docs": dg.MetadataValue.path(data_docs)} if data_docs else {}),
        },
    )
