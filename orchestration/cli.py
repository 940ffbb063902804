"""`itx`: build the warehouse through Dagster, and query it.

itx build                  load every release, validate, dbt build, write the brief
itx sql "select ..."       read-only SQL on the warehouse (--csv for CSV)
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

from orchestration.settings import get_settings

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


def _parse_dbt_project(settings) -> None:
    """Write dbt's manifest, which the Dagster definitions load (dagster-dbt needs it)."""
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [
            str(dbt),
            "parse",
            "--quiet",
            "--project-dir",
            str(settings.dbt_project_dir),
            "--profiles-dir",
            str(settings.dbt_project_dir),
        ],
        check=True,
    )


def _failures(result) -> list[str]:
    import dagster as dg

    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            lines.append(f"step {event.step_key} failed: {error.message.strip() if error else ''}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity != dg.AssetCheckSeverity.WARN:
                lines.append(f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed")
    return lines


def _dagster(settings):
    """The definitions and the instance, with dbt's manifest written first (dagster-dbt loads it)."""
    settings.export_environment()
    settings.inbox.mkdir(parents=True, exist_ok=True)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    _parse_dbt_project(settings)
    import dagster as dg

    from orchestration.definitions import defs

    return defs, dg.DagsterInstance.get()


def _run_job(defs, instance, job: str, failed: str, **kwargs):
    """Run a job in this process (recorded in the instance); None, with the reasons printed, on failure."""
    result = defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    if result.success:
        return result
    print(failed, file=sys.stderr)
    for line in _failures(result):
        print(f"  {line}", file=sys.stderr)
    return None


def build() -> int:
    settings = get_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)

    from orchestration.lib import record

    try:
        releases = record.discover_releases(record.release_files(settings.releases_dir, settings.inbox))
    except record.ReleaseFileError as exc:
        print(f"itx build: {exc}", file=sys.stderr)
        return 2
    defs, instance = _dagster(settings)

    from orchestration.defs.partitions import register_releases, release_partitions
    from orchestration.lib.gx_validation import data_docs_index

    new = register_releases(instance, releases)
    keys = instance.get_dynamic_partitions(release_partitions.name)
    print(
        f"itx build: {len(releases)} releases in {settings.releases_dir} and {settings.inbox} "
        f"({len(new)} new); warehouse {settings.warehouse}"
    )
    tags = {PARTITION_RANGE_START: keys[0], PARTITION_RANGE_END: keys[-1]}
    failed = "itx build: ingestion failed; nothing downstream ran and the marts are unchanged:"
    if not _run_job(defs, instance, "ingest_job", failed, tags=tags):
        return 1
    if not _run_job(defs, instance, "transform_job", "itx build: dbt build or the brief failed:"):
        return 1
    print(
        f"itx build: done. Brief: {settings.reports_dir / 'latest.html'}; Data Docs: {data_docs_index(settings.gx_dir)}"
    )
    return 0


def fetch() -> int:
    """Run the fetch job through Dagster; new files land in the inbox for the next build."""
    settings = get_settings()
    defs, instance = _dagster(settings)
    result = _run_job(defs, instance, "fetch_job", "itx fetch: failed:")
    if not result:
        return 1
    metadata = result.asset_materializations_for_node("sbp_release_files")[0].metadata
    print(
        "itx fetch: "
        + ", ".join(f"{k} {v.value}" for k, v in metadata.items() if k in ("targets", "downloaded", "unchanged"))
        + f"; inbox {settings.inbox}"
    )
    return 0


GROWTH_COLUMNS = (
    "series_code, month, fiscal_year, fiscal_month, value_usd_mn, mom_pct, yoy_pct, fytd_usd_mn, fytd_yoy_pct, "
    "r12_usd_mn, r12_yoy_pct, share_of_ict_pct"
)


def sql(query: str, as_csv: bool, params: list | None = None, prog: str = "itx sql") -> int:
    """Run read-only SQL on the warehouse and print a table (or CSV)."""
    import duckdb

    settings = get_settings()
    if not settings.warehouse.exists():
        print(f"{prog}: no warehouse at {settings.warehouse}; run `make run` first", file=sys.stderr)
        return 2
    try:
        conn = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.IOException as exc:
        print(f"{prog}: cannot open {settings.warehouse} read-only (is a build writing it?): {exc}", file=sys.stderr)
        return 2
    try:
        cursor = conn.execute(query, params or [])
        names = [d[0] for d in cursor.description] if cursor.description else []
        rows = cursor.fetchall() if names else []
    except duckdb.Error as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows(rows)
    else:
        from tabulate import tabulate

        print(tabulate(rows, headers=names, tablefmt="github", missingval="NULL"))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0


def asof(day: str, publisher: str | None, series: str, as_csv: bool) -> int:
    """The growth mart as known on a day: the same columns, plus the vintage and source."""
    from datetime import date

    try:
        date.fromisoformat(day)
    except ValueError:
        print(f"itx asof: {day!r} is not a YYYY-MM-DD date", file=sys.stderr)
        return 2
    query = (
        f"select {GROWTH_COLUMNS}, vintage, value_origin, release_id, source_url "
        "from marts.growth_as_of(cast(? as date), ?) where series_code = ? order by month"
    )
    return sql(query, as_csv, [day, publisher or "all", series], prog="itx asof")


def revisions(series: str, release: str | None, as_csv: bool) -> int:
    """How each figure of a series was revised; or what one release changed."""
    if release:
        query = (
            "select series_code, period_month, basis, previous_usd_mn, value_usd_mn, change_usd_mn, change_pct, "
            "change_kind, previous_release_id from marts.mart_ict_exports_release_changes "
            "where release_id = ? order by change_kind desc, series_code, period_month, basis"
        )
        return sql(query, as_csv, [release], prog="itx revisions")
    query = (
        "select period_month, basis, first_usd_mn, first_published_on, latest_usd_mn, latest_published_on, "
        "revisions, total_revision_usd_mn, total_revision_pct, largest_revision_usd_mn "
        "from marts.mart_ict_exports_revisions where series_code = ? order by period_month, basis"
    )
    return sql(query, as_csv, [series], prog="itx revisions")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="itx", description="Pakistan's IT exports warehouse.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="load, validate and model every release through Dagster, then write the brief")
    commands.add_parser("manifest", help="write dbt's manifest, which the Dagster definitions load")
    commands.add_parser("fetch", help="download SBP's current files into the inbox (ITX_FETCH_*_URL)")
    asof_parser = commands.add_parser("asof", help="the growth mart as known on a day (YYYY-MM-DD)")
    asof_parser.add_argument("day")
    asof_parser.add_argument("--publisher", choices=["SBP", "PBS"], help="what one publisher had printed")
    asof_parser.add_argument("--series", default="ict_total")
    asof_parser.add_argument("--csv", action="store_true")
    revisions_parser = commands.add_parser("revisions", help="first and latest values and their revisions")
    revisions_parser.add_argument("--series", default="ict_total")
    revisions_parser.add_argument("--release", help="what this release changed, e.g. sbp-2023-08-18")
    revisions_parser.add_argument("--csv", action="store_true")
    sql_parser = commands.add_parser("sql", help="run read-only SQL on the warehouse")
    sql_parser.add_argument("query")
    sql_parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    args = parser.parse_args(argv)
    if args.command == "build":
        return build()
    if args.command == "fetch":
        return fetch()
    if args.command == "asof":
        return asof(args.day, args.publisher, args.series, args.csv)
    if args.command == "revisions":
        return revisions(args.series, args.release, args.csv)
    if args.command == "manifest":
        settings = get_settings()
        settings.export_environment()
        _parse_dbt_project(settings)
        return 0
    return sql(args.query, args.csv)


if __name__ == "__main__":
    sys.exit(main())
