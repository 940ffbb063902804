"""reports/monthly_brief: the brief for the latest month, as HTML and Markdown."""

import dagster as dg

from orchestration.defs.resources import WAREHOUSE_POOL, ReleaseFilesResource, WarehouseResource

MART_KEYS = [
    dg.AssetKey(["marts", "mart_ict_exports_growth_monthly"]),
    dg.AssetKey(["marts", "mart_ict_exports_fiscal_year"]),
    dg.AssetKey(["marts", "mart_data_quality"]),
]


@dg.asset(
    key=["reports", "monthly_brief"],
    group_name="reports",
    deps=MART_KEYS,
    pool=WAREHOUSE_POOL,
    kinds={"html", "markdown"},
    description=(
        "The monthly brief for the latest month: headline (value, YoY, MoM, FYTD and its growth), "
        "sub-series, a 24-month chart, data quality and sources. Written only when every check "
        "upstream passed."
    ),
)
def monthly_brief(context: dg.AssetExecutionContext, warehouse: WarehouseResource, release_files: ReleaseFilesResource):
    from orchestration.lib.report import BriefNotReady, gather_brief, write_brief

    with warehouse.get_read_only_connection() as conn:
        try:
            brief = gather_brief(conn)
        except BriefNotReady as exc:
            raise dg.Failure(description=str(exc)) from exc
    paths = write_brief(brief, release_files.path("reports_dir"))
    context.log.info(f"brief for {brief.month_label}: {', '.join(str(p) for p in paths.values())}")
    return dg.MaterializeResult(
        metadata={
            "month": brief.month_label,
            "headline": brief.headline,
            "html": dg.MetadataValue.path(str(paths["html"])),
            "markdown": dg.MetadataValue.path(str(paths["markdown"])),
            "preview": dg.MetadataValue.md(paths["markdown"].read_text()),
        }
    )
