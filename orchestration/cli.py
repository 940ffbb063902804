"""`itx`: build the warehouse through Dagster, and query it.

itx build                  load every release, validate, dbt build, write the brief
itx sql "select ..."       read-only SQL on the warehouse (--csv for CSV)
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from pathlib import Path

from orchestration.settings import get_settings

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


def _parse_dbt_project(settings) -> None:
    """Write dbt's manifest, which the Dagster definitions load (dagster-dbt needs it).

    Skipped when the manifest was written for the same project and a warehouse of the same file
    name (a stamp beside it says which): dbt takes seconds to start, and the manifest names the
    database after the file's stem, not its folder. It is parsed with the profile dbt will build
    with (the staging copy), so that dbt's own partial parsing applies at build time; a build in
    another folder reuses the manifest and dbt build re-parses in its own process.
    """
    from orchestration.defs.resources import DBT_DATABASE_ENV
    from orchestration.lib.publication import WarehousePaths, project_fingerprint

    project = settings.dbt_project_dir
    staging = str(WarehousePaths(settings.warehouse).staging)
    stamp = project / "target" / ".itx_manifest_stamp"
    expected = (
        project_fingerprint(
            project / "models",
            project / "macros",
            project / "seeds",
            project / "tests",
            project / "dbt_project.yml",
            project / "profiles.yml",
        )
        + "|"
        + Path(staging).name
    )
    manifest = project / "target" / "manifest.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == expected:
        return
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run(
        [str(dbt), "parse", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project)],
        check=True,
        env={**os.environ, DBT_DATABASE_ENV: staging},
    )
    stamp.write_text(expected)


def _failures(result) -> list[str]:
    """Why a run failed, one line per failed step or blocking check, without stack traces."""
    import dagster as dg

    lines = []
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            message = error.message.strip() if error else ""
            if error and error.cause and "Failure" not in error.cls_name:
                message = f"{message} ({error.cause.message.strip()})"
            lines.append(f"step {event.step_key} failed: {message}")
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.severity != dg.AssetCheckSeverity.WARN and not evaluation.partition:
                lines.append(f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed")
    return lines


def _only_rejections(result) -> bool:
    """The ingest failed only because Great Expectations rejected releases (a quarantine, not an error)."""
    failures = [e for e in result.all_events if e.is_step_failure]
    return bool(failures) and all(
        e.step_failure_data.user_failure_data is not None
        and "rejected_releases" in (e.step_failure_data.user_failure_data.metadata or {})
        for e in failures
    )


def _dagster(settings):
    """The definitions and the instance, with dbt's manifest written first (dagster-dbt loads it)."""
    settings.export_environment()
    settings.inbox.mkdir(parents=True, exist_ok=True)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    _parse_dbt_project(settings)
    import dagster as dg

    from orchestration.definitions import build_defs

    return build_defs(), dg.DagsterInstance.get()


def _run_job(defs, instance, job: str, **kwargs):
    """Run a job in this process, recorded in the instance and tagged with this PID (so that a
    later build can tell a dead run from a live one)."""
    from orchestration.defs.runs import process_tags
    from orchestration.defs.sensors import BUILD_TAG

    tags = {**kwargs.pop("tags", {}), **process_tags(), BUILD_TAG: "1"}
    result = defs.resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False, tags=tags, **kwargs)
    # Dagster handles SIGTERM and Ctrl-C itself while a run executes (it stops the step and dbt,
    # and fails the run): such a failure is a stop, not a failure to report
    interrupted = any(
        e.is_step_failure
        and e.step_failure_data.error
        and e.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError"
        for e in result.all_events
    )
    if _interrupted or interrupted:
        raise KeyboardInterrupt
    return result


def _print_failure(headline: str, result) -> None:
    print(headline, file=sys.stderr)
    for line in _failures(result):
        print(f"  {line}", file=sys.stderr)


def _published(settings):
    """(publication state, quarantined rows) of the published warehouse; (None, []) if none."""
    import duckdb

    from orchestration.lib.ingest import published_state

    if not settings.warehouse.exists():
        return None, []
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        state = published_state(conn)
        try:
            rejected = conn.execute(
                "select source_file, release_id, rule, detail from raw.rejected_files order by 1, 2"
            ).fetchall()
        except duckdb.CatalogException:
            rejected = []
        return state, rejected
    finally:
        conn.close()


def _print_quarantine(rejected) -> None:
    print(f"itx build: {len(rejected)} file(s) or release(s) quarantined, not in the marts:", file=sys.stderr)
    for source_file, release_id, rule, detail in rejected:
        first = detail.splitlines()
        lines = first[1:] if release_id else first
        print(f"  {source_file}" + (f" (release {release_id})" if release_id else "") + f": {rule}", file=sys.stderr)
        for line in lines[:6]:
            print(f"    {line.strip()}", file=sys.stderr)
    print("  Fix or remove each file; the other releases were built and published.", file=sys.stderr)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


_interrupted: list[int] = []


def _stop_on_signals() -> dict:
    """SIGTERM and Ctrl-C stop a build cleanly: the step in progress is abandoned (Dagster passes
    the interrupt on to dbt), the staging copy is left for the next build, and the published
    warehouse is untouched. Dagster turns the interrupt into a failed run; the flag tells `build`
    it was a stop, not a failure."""
    import signal

    def stop(signum, _frame):
        _interrupted.append(signum)
        raise KeyboardInterrupt

    _interrupted.clear()
    return {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}


def build(revalidate: bool = False) -> int:
    from orchestration.lib.publication import WarehouseBusy, WarehousePaths, writer_lock

    settings = get_settings()
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    paths = WarehousePaths(settings.warehouse)
    previous = _stop_on_signals()
    try:
        with writer_lock(paths, purpose="itx build"):
            return _build_locked(settings, paths, revalidate)
    except WarehouseBusy as exc:
        print(f"itx build: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print(
            "itx build: stopped. The published warehouse and the brief are unchanged; the next build goes on "
            "from where this one stopped.",
            file=sys.stderr,
        )
        return 130
    finally:
        import signal

        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _build_locked(settings, paths, revalidate: bool) -> int:
    from orchestration.lib import record
    from orchestration.lib.gx_validation import data_docs_index, rules_sha256
    from orchestration.lib.ingest import held_files, present_files_fingerprint, releases_to_load, scan_files
    from orchestration.lib.publication import has_unpublished_work, prepare_staging
    from orchestration.lib.warehouse import loaded_releases

    files = record.release_files(settings.releases_dir, settings.inbox)
    project = settings.project_fingerprint()
    state, rejected = _published(settings)
    latest_brief = settings.reports_dir / "latest.html"
    # nothing new is decided from the files' bytes, before any is parsed
    if (
        not revalidate
        and state is not None
        and state["files_fingerprint"] == present_files_fingerprint(files)
        and state["project_fingerprint"] == project
        and latest_brief.exists()
        and not has_unpublished_work(paths)
    ):
        print(
            "itx build: nothing new. The warehouse holds exactly the "
            f"{_count(len(files), 'release file')} present "
            f"({state['releases']} releases, {state['figures']} figures, "
            f"published {state['published_at']:%Y-%m-%d %H:%M}); "
            f"brief: {latest_brief}"
        )
        if rejected:
            _print_quarantine(rejected)
            return 1
        return 0
    defs, instance = _dagster(settings)

    from orchestration.defs.partitions import register_releases, release_partitions, retire_releases
    from orchestration.defs.runs import fail_dead_runs

    for run_id in fail_dead_runs(instance):
        print(f"itx build: run {run_id} of a process that died is marked failed")
    rules = rules_sha256(settings.seeds_dir, settings.expectations_dir)
    import duckdb

    conn = duckdb.connect(str(prepare_staging(paths)))
    try:
        # files raw already holds, byte for byte, loaded by this code under these rules, are not
        # parsed again (their releases are read back from raw)
        same_code = state is not None and state["project_fingerprint"] == project
        held = held_files(conn, rules) if same_code and not revalidate else None
        scan = scan_files(files, max_bytes=settings.max_file_bytes, held=held)
        to_load = releases_to_load(conn, scan, rules, force=scan.releases if revalidate else ())
        kept = {rid for rid, (_, source_file) in loaded_releases(conn).items() if source_file in scan.unreadable_files}
    finally:
        conn.close()
    new = register_releases(instance, list(scan.releases))
    retire_releases(instance, keep=set(scan.releases) | kept)
    print(
        f"itx build: {_count(len(scan.releases), 'release')} in {_count(len(scan.files), 'file')} "
        f"({len(new)} new, {len(to_load)} to "
        f"validate, {len(scan.errors)} unreadable); warehouse {settings.warehouse}"
    )
    if to_load:
        keys = instance.get_dynamic_partitions(release_partitions.name)
        positions = sorted(keys.index(rid) for rid in to_load)
        tags = {PARTITION_RANGE_START: keys[positions[0]], PARTITION_RANGE_END: keys[positions[-1]]}
        result = _run_job(defs, instance, "ingest_job", tags=tags)
        if not result.success and not _only_rejections(result):
            _print_failure("itx build: the ingest failed; nothing was published, the warehouse is unchanged:", result)
            return 1
    result = _run_job(defs, instance, "transform_job")
    if not result.success:
        _print_failure(
            "itx build: dbt build or the brief failed; nothing was published, the warehouse is unchanged:", result
        )
        return 1
    state, rejected = _published(settings)
    print(
        f"itx build: published {settings.warehouse} ({state['releases']} releases, {state['figures']} figures). "
        f"Brief: {latest_brief}; Data Docs: {data_docs_index(settings.gx_dir)}"
    )
    if rejected:
        _print_quarantine(rejected)
        return 1
    return 0


def fetch() -> int:
    """Run the fetch job through Dagster; new files land in the inbox for the next build."""
    settings = get_settings()
    defs, instance = _dagster(settings)
    result = _run_job(defs, instance, "fetch_job")
    if not result.success:
        _print_failure("itx fetch: failed:", result)
        return 1
    metadata = result.asset_materializations_for_node("sbp_release_files")[0].metadata
    print(
        "itx fetch: "
        + ", ".join(f"{k} {v.value}" for k, v in metadata.items() if k in ("targets", "downloaded", "unchanged"))
        + f"; inbox {settings.inbox}"
    )
    return 0


READ_STATEMENTS = {"SELECT", "EXPLAIN"}

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
    if not query.strip():
        print(f'{prog}: no SQL given; e.g. {prog} "select * from marts.mart_data_quality"', file=sys.stderr)
        return 2
    try:
        # Reads only: the file is opened read-only, and DuckDB is told to touch no other file
        # (no COPY ... TO, ATTACH, INSTALL or read_csv of other paths), with that setting locked.
        conn = duckdb.connect(
            str(settings.warehouse),
            read_only=True,
            config={
                "enable_external_access": False,
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
                "lock_configuration": True,
            },
        )
    except duckdb.IOException as exc:
        print(f"{prog}: cannot open {settings.warehouse} read-only: {exc}", file=sys.stderr)
        return 2
    try:
        try:
            statements = conn.extract_statements(query)
        except duckdb.Error as exc:
            print(f"{prog}: {exc}", file=sys.stderr)
            return 1
        refused = [s.type.name for s in statements if s.type.name not in READ_STATEMENTS]
        if refused:
            print(
                f"{prog}: only queries are run here (SELECT, SHOW, DESCRIBE, EXPLAIN); refused: "
                f"{', '.join(sorted(set(refused)))}. To save a result, use --csv and redirect it to a file.",
                file=sys.stderr,
            )
            return 2
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
    build_parser = commands.add_parser(
        "build", help="load, validate and model every release through Dagster, write the brief, publish"
    )
    build_parser.add_argument(
        "--revalidate", action="store_true", help="validate every release again, even unchanged ones"
    )
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
        return build(revalidate=args.revalidate)
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
