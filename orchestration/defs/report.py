"""reports/monthly_brief: the brief for the latest month, as HTML and Markdown; then the
publication of the whole build (warehouse and brief) in one step."""

import dagster as dg

from orchestration.defs.resources import ReleaseFilesResource, WarehouseResource

# Every table the brief reads (orchestration/lib/report.py), so its lineage is complete.
BRIEF_SOURCES = [
    dg.AssetKey(["marts", "mart_ict_exports_growth_monthly"]),
    dg.AssetKey(["marts", "mart_data_quality"]),
    dg.AssetKey(["marts", "mart_ict_exports_release_changes"]),
    dg.AssetKey(["marts", "mart_reconciliation_issues"]),
    dg.AssetKey(["core", "dim_month"]),
    dg.AssetKey(["core", "dim_series"]),
    dg.AssetKey(["core", "fct_ict_exports_monthly"]),
    # every page that printed a month's value, with its rounding, for the sources it cites
    dg.AssetKey(["core", "fct_ict_export_figures"]),
    # the printed cumulative behind a fiscal year to date, for the publisher its chart names
    dg.AssetKey(["intermediate", "int_figures__selected"]),
    dg.AssetKey(["staging", "stg_validation_results"]),
    dg.AssetKey(["staging", "stg_rejected_files"]),
]


@dg.asset(
    key=["reports", "monthly_brief"],
    group_name="reports",
    deps=BRIEF_SOURCES,
    kinds={"html", "markdown"},
    description=(
        "The monthly brief for the latest month: headline (value, YoY, MoM, FYTD and its growth), "
        "sub-series, a 24-month chart, data quality (with the quarantined files) and sources. Written on "
        "the staging warehouse once dbt's tests pass; then the warehouse and the brief are published "
        "together (the warehouse file replaced in one rename)."
    ),
)
def monthly_brief(context: dg.AssetExecutionContext, warehouse: WarehouseResource, release_files: ReleaseFilesResource):
    import duckdb

    from orchestration.lib.publication import publish
    from orchestration.lib.report import BriefNotReady, gather_brief, write_brief

    paths = warehouse.paths
    with warehouse.staging_path(purpose=f"Dagster run {context.run.run_id[:8]} (brief)") as staging:
        conn = duckdb.connect(str(staging), read_only=True)
        try:
            brief = gather_brief(conn)
        except BriefNotReady as exc:
            raise dg.Failure(description=str(exc)) from exc
        finally:
            conn.close()
        if paths.staging_reports.exists():
            for old in paths.staging_reports.iterdir():
                old.unlink()
        written = write_brief(brief, paths.staging_reports)
        publish(paths, release_files.path("reports_dir"))
    reports = release_files.path("reports_dir")
    context.log.info(f"published {paths.published}; brief for {brief.month_label} in {reports}")
    markdown = (reports / written["markdown"].name).read_text()
    return dg.MaterializeResult(
        metadata={
            "month": brief.month_label,
            "headline": brief.headline,
            "html": dg.MetadataValue.path(str(reports / written["html"].name)),
            "markdown": dg.MetadataValue.path(str(reports / written["markdown"].name)),
            "warehouse": dg.MetadataValue.path(str(paths.published)),
            "preview": dg.MetadataValue.md(markdown),
        }
    )
