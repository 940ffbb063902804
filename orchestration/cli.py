"""`itx`: build the warehouse through Dagster, and read it (`itx --help`, `itx <command> --help`).

itx build                  load every release, validate, dbt build, write the brief, publish
itx releases               every release loaded, and what is quarantined
itx asof / revisions       the growth mart as known on a day; revisions
itx sql "select ..."       read-only SQL on the warehouse (--csv for CSV)
itx export --out DIR       every mart as Parquet (or CSV)
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_DATABASE_ENV, get_settings, project_fingerprint

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
    from orchestration.defs.resources import StagingProfilePreparer, dbt_project
    from orchestration.lib.publication import WarehousePaths

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
    StagingProfilePreparer(settings.warehouse).prepare(dbt_project(project, settings.warehouse))
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
            # a dg.Failure's message starts with its class path; the description is what matters
            message = re.sub(r"^[\w.]*\.Failure: ", "", message).replace("\n", "\n    ")
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
    from orchestration.defs.dbt import QUIET_TAG
    from orchestration.defs.runs import process_tags
    from orchestration.defs.sensors import BUILD_TAG

    tags = {**kwargs.pop("tags", {}), **process_tags(), BUILD_TAG: "1"}
    if not _verbose:
        tags[QUIET_TAG] = "1"
    # Dagster's own log lines (DEBUG events, stack traces) only with --verbose: itx prints one line
    # per phase and a summary, and the run's events stay in the Dagster instance for the UI
    run_config = {
        **kwargs.pop("run_config", {}),
        "loggers": {"console": {"config": {"log_level": "DEBUG" if _verbose else "CRITICAL"}}},
    }
    result = defs.resolve_job_def(job).execute_in_process(
        instance=instance, raise_on_error=False, tags=tags, run_config=run_config, **kwargs
    )
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


def _forget_figures(scan) -> None:
    """Once raw holds them, the parsed figures are not needed any more (the transform reads the
    releases' ids and hashes only): let them go before dbt runs, so the two do not add up."""
    for release in scan.releases.values():
        if release.held_figures is None:
            release.held_figures = len(release.figures)
            release.figures = []


def _headline() -> str | None:
    """The latest month of ICT exports in the published marts, as a reporter would say it."""
    rows = _read(
        "select month, value_usd_mn, yoy_pct, fytd_usd_mn, fytd_yoy_pct from marts.mart_ict_exports_growth_monthly "
        "where series_code = 'ict_total' and value_usd_mn is not null order by month desc limit 1"
    )
    if not rows:
        return None
    month, value, yoy, fytd, fytd_yoy = rows[0]

    def pct(x):
        return "n/a" if x is None else f"{float(x):+.1f}%"

    text = f"latest month {month:%B %Y}: ICT exports ${float(value):,.0f}m ({pct(yoy)} year on year)"
    if fytd is not None:
        text += f", fiscal year to date ${float(fytd):,.0f}m ({pct(fytd_yoy)})"
    return text


def _print_quarantine(rejected) -> None:
    print(f"itx build: {len(rejected)} file(s) or release(s) quarantined, not in the marts:", file=sys.stderr)
    for source_file, release_id, rule, detail in rejected:
        first = detail.splitlines()
        lines = first[1:] if release_id else first
        print(f"  {source_file}" + (f" (release {release_id})" if release_id else "") + f": {rule}", file=sys.stderr)
        for line in lines[:6]:
            print(f"    {line.strip()}", file=sys.stderr)
    print("  Fix or remove each file; the other releases were built and published.", file=sys.stderr)


@contextlib.contextmanager
def _progress_bar(step: str, description: str):
    """A progress bar over the units `step` reports (orchestration.lib.progress). rich draws it on
    a terminal; elsewhere (a pipe, a file, CI) it prints its last state once, with no ANSI codes.
    With --verbose the log lines say it all, and there is no bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from orchestration.lib import progress

    console = Console(file=sys.stdout)
    if not console.is_terminal:
        # one plain line at the end, as wide as it needs: no bar, no ellipsis at 80 columns
        console = Console(file=sys.stdout, width=400)
    bar = Progress(
        TextColumn(f"itx build: {description}"),
        *([BarColumn(bar_width=30)] if console.is_terminal else []),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=_verbose,
    )
    task = bar.add_task(step, total=None)

    def listen(name: str, advance: int, total: int | None) -> None:
        if name == step:
            bar.update(task, advance=advance, **({"total": total} if total is not None else {}))

    with bar, progress.listening(listen):
        yield


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


_interrupted: list[int] = []
_verbose = False  # --verbose: Dagster's log lines and warnings too


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
        with _progress_bar("read", "reading files"):
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
        # --revalidate: the step validates its releases again even if raw holds them unchanged
        config = {"ops": {"raw_releases": {"config": {"force": True}}}} if revalidate else {}
        with _progress_bar("load", "validating and loading (Great Expectations)"):
            result = _run_job(defs, instance, "ingest_job", tags=tags, run_config=config)
        if not result.success and not _only_rejections(result):
            _print_failure("itx build: the ingest failed; nothing was published, the warehouse is unchanged:", result)
            return 1
    _forget_figures(scan)
    with _progress_bar("dbt", "dbt build, the brief, publication"):
        result = _run_job(defs, instance, "transform_job")
    if not result.success:
        _print_failure(
            "itx build: dbt build or the brief failed; nothing was published, the warehouse is unchanged:", result
        )
        return 1
    state, rejected = _published(settings)
    turned_away = {release_id for _, release_id, _, _ in rejected if release_id in to_load}
    print(
        f"itx build: published {settings.warehouse} ({state['releases']} releases, {state['figures']} figures): "
        f"{len(to_load) - len(turned_away)} loaded, {len(scan.releases) - len(to_load)} unchanged, "
        f"{len(turned_away)} rejected."
    )
    headline = _headline()
    if headline:
        print(f"itx build: {headline}")
    print(f"itx build: brief {latest_brief}; Data Docs {data_docs_index(settings.gx_dir)}")
    if rejected:
        _print_quarantine(rejected)
        return 1
    return 0


def fetch() -> int:
    """Run the fetch job through Dagster; new files land in the inbox for the next build."""
    settings = get_settings()
    if not settings.fetch_targets():
        print(
            "itx fetch: nothing to fetch: every download is switched off "
            "(ITX_FETCH_EBOPS_URL, ITX_FETCH_BPM6_URL and ITX_FETCH_EASYDATA_URL are empty or unset)"
        )
        return 0
    defs, instance = _dagster(settings)
    result = _run_job(defs, instance, "fetch_job")
    if not result.success:
        _print_failure("itx fetch: failed:", result)
        return 1
    from orchestration.defs.fetch import SBP_FILES_KEY

    materializations = [
        event.event_specific_data.materialization
        for event in result.all_events
        if event.is_step_materialization and event.asset_key == SBP_FILES_KEY
    ]
    if not materializations:
        print("itx fetch: nothing was fetched", file=sys.stderr)
        return 1
    metadata = materializations[0].metadata
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

        if not rows:
            hint = (
                " (the tables are in schemas: try `show all tables`)" if query.strip().lower() == "show tables" else ""
            )
            print(f"no rows{hint}")
            return 0
        print(tabulate(rows, headers=names, tablefmt="github", missingval="NULL"))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0


def _read(query: str, params: list | None = None) -> list[tuple] | None:
    """Rows of a query on the published warehouse, read-only; None when there is no warehouse."""
    import duckdb

    settings = get_settings()
    if not settings.warehouse.exists():
        return None
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return conn.execute(query, params or []).fetchall()
    finally:
        conn.close()


def _unknown(prog: str, what: str, value: str, known: list[str]) -> int:
    """Exit 2 naming the unknown value and the valid ones (the closest first)."""
    import difflib

    close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    listing = ", ".join(known[:40]) + (f", ... ({len(known)} in all)" if len(known) > 40 else "")
    print(f"{prog}: unknown {what} {value!r}.{hint} Known: {listing}", file=sys.stderr)
    return 2


def _publisher(prog: str, publisher: str | None) -> str | None:
    """'all', 'SBP' or 'PBS' from any case; None (after saying why) when it is none of them."""
    scope = (publisher or "all").strip()
    scope = "all" if scope.lower() == "all" else scope.upper()
    if scope not in ("all", "SBP", "PBS"):
        _unknown(prog, "publisher", publisher, ["SBP", "PBS", "all"])
        return None
    return scope


def _check_series(prog: str, series: str) -> bool:
    known = _read("select series_code from core.dim_series order by sort_order, series_code")
    if known is None or series in {k for (k,) in known}:
        return True
    _unknown(prog, "series", series, [k for (k,) in known])
    return False


def asof(day: str, publisher: str | None, series: str, as_csv: bool) -> int:
    """The growth mart as known on a day: the same columns, plus the vintage and source."""
    from datetime import date

    try:
        date.fromisoformat(day)
    except ValueError:
        print(f"itx asof: {day!r} is not a YYYY-MM-DD date", file=sys.stderr)
        return 2
    scope = _publisher("itx asof", publisher)
    if scope is None:
        return 2
    # the known series and the first day of the scope, in one read
    known = _read(
        "select (select list(series_code order by sort_order, series_code) from core.dim_series), "
        "(select min(known_from) from intermediate.int_figures__selection_intervals where scope = ?)",
        [scope],
    )
    if known:
        codes, first = known[0]
        if codes is not None and series not in codes:
            return _unknown("itx asof", "series", series, list(codes))
        if first is not None and date.fromisoformat(day) < first:
            who = "either publisher" if scope == "all" else scope
            print(
                f"itx asof: nothing had been printed by {day}: the first figure of {who} in the warehouse "
                f"was published on {first}",
                file=sys.stderr,
            )
            return 2
    query = (
        f"select {GROWTH_COLUMNS}, vintage, value_origin, release_id, source_url "
        "from marts.growth_as_of(cast(? as date), ?) where series_code = ? order by month"
    )
    return sql(query, as_csv, [day, scope, series], prog="itx asof")


def releases(publisher: str | None, as_csv: bool) -> int:
    """Every release loaded, with its validation, then the files and releases quarantined now."""
    scope = _publisher("itx releases", publisher)
    if scope is None:
        return 2
    where, params = ("", []) if scope == "all" else ("where publisher = ?", [scope])
    code = sql(
        "select release_id, publisher, published_on, published_on_estimated as estimated, source_file as file, "
        "figures, case when validation_success then 'passed' when validation_success is null then 'not validated' "
        "else 'failed' end as validation, has_rejected_version "
        f"from marts.mart_releases {where} order by published_on, release_id",
        as_csv,
        params,
        prog="itx releases",
    )
    if code or as_csv:
        return code
    rejected = _read("select source_file, release_id, rule from raw.rejected_files order by 1, 2") or []
    if rejected:
        print(f"\nquarantined now ({len(rejected)}), not in the marts:")
        for source_file, release_id, rule in rejected:
            print(f"  {source_file}" + (f" (release {release_id})" if release_id else "") + f": {rule}")
    return code


def export(file_format: str, out: str) -> int:
    """Every mart as one file (Parquet or CSV) in a folder, for DuckDB, pandas, Spark or a BI tool."""
    import duckdb

    settings = get_settings()
    if not settings.warehouse.exists():
        print(f"itx export: no warehouse at {settings.warehouse}; run `make run` first", file=sys.stderr)
        return 2
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        marts = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "and table_type = 'BASE TABLE' and table_catalog = current_database() order by 1"
            ).fetchall()
        ]
        options = "(format parquet)" if file_format == "parquet" else "(format csv, header)"
        for name in marts:
            target = folder / f"{name}.{file_format}"
            conn.execute(f"copy (select * from marts.{name}) to '{_sql_text(str(target))}' {options}")
            print(f"itx export: {target}")
    finally:
        conn.close()
    print(f"itx export: {len(marts)} marts written to {folder} as {file_format}")
    return 0


def docs() -> int:
    """dbt's documentation site of the published warehouse (models, columns, tests, lineage), as one
    static page. dbt reads the catalog from a copy, so the published file is never opened for writing."""
    import shutil
    import tempfile

    settings = get_settings()
    if not settings.warehouse.exists():
        print(f"itx docs: no warehouse at {settings.warehouse}; run `make run` first", file=sys.stderr)
        return 2
    out = settings.reports_dir.parent / "docs"
    project = settings.dbt_project_dir
    dbt = Path(sys.executable).with_name("dbt")
    with tempfile.TemporaryDirectory(prefix="itx-docs-") as tmp:
        copy = Path(tmp) / settings.warehouse.name  # the same name: dbt's catalog is named after it
        shutil.copyfile(settings.warehouse, copy)
        done = subprocess.run(
            [
                str(dbt),
                "docs",
                "generate",
                "--static",
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
                "--target-path",
                str(out),
            ],
            env={**os.environ, DBT_DATABASE_ENV: str(copy), "DO_NOT_TRACK": "1"},
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        print("itx docs: dbt docs generate failed:\n" + done.stdout[-3000:], file=sys.stderr)
        return 1
    print(f"itx docs: dbt's documentation of the warehouse: {out / 'static_index.html'} (open it in a browser)")
    return 0


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def revisions(series: str, release: str | None, as_csv: bool) -> int:
    """How each figure of a series was revised; or what one release changed."""
    if release:
        known = _read("select release_id from marts.mart_releases order by published_on, release_id")
        if known is not None and release not in {k for (k,) in known}:
            code = _unknown("itx revisions", "release", release, [k for (k,) in known][::-1])
            print("itx revisions: `itx releases` lists every release", file=sys.stderr)
            return code
        query = (
            "select series_code, period_month, basis, previous_usd_mn, value_usd_mn, change_usd_mn, change_pct, "
            "change_kind, previous_release_id from marts.mart_ict_exports_release_changes "
            "where release_id = ? order by change_kind desc, series_code, period_month, basis"
        )
        return sql(query, as_csv, [release], prog="itx revisions")
    if not _check_series("itx revisions", series):
        return 2
    query = (
        "select period_month, basis, first_usd_mn, first_published_on, latest_usd_mn, latest_published_on, "
        "revisions, total_revision_usd_mn, total_revision_pct, largest_revision_usd_mn "
        "from marts.mart_ict_exports_revisions where series_code = ? order by period_month, basis"
    )
    return sql(query, as_csv, [series], prog="itx revisions")


COMMANDS = {
    "build": (
        "Load, validate and model every release through Dagster, write the brief, and publish.",
        "itx build                # what `make run` does\nitx build --revalidate   # validate every release again\n"
        "itx build --verbose      # with Dagster's own log lines",
    ),
    "releases": (
        "Every release loaded (id, publisher, date, estimated or not, file, figures, validation), then what is "
        "quarantined now and why.",
        "itx releases\nitx releases --publisher pbs\nitx releases --csv > releases.csv",
    ),
    "asof": (
        "The growth mart as it was known on a day: what both publishers (or one) had printed by then.",
        "itx asof 2023-09-20 --publisher PBS   # July 2023 as PBS printed it\n"
        "itx asof 2024-08-20 --series computer_services --csv",
    ),
    "revisions": (
        "How each figure of a series was revised (first and latest value, revisions), or what one release changed.",
        "itx revisions\nitx revisions --series computer_services\nitx revisions --release sbp-2023-08-18",
    ),
    "sql": (
        "Run read-only SQL (SELECT, SHOW, DESCRIBE, EXPLAIN) on the published warehouse. Tables are in the "
        "schemas raw, staging, intermediate, core and marts.",
        'itx sql "select month, value_usd_mn, yoy_pct from marts.mart_ict_exports_growth_monthly '
        "where series_code = 'ict_total' order by month desc limit 12\"\n"
        'itx sql "show all tables" --csv',
    ),
    "export": (
        "Write every mart to a folder, one file each (Parquet or CSV), readable by DuckDB, pandas, Spark or a BI tool.",
        "itx export --out exports/\nitx export --format csv --out exports/",
    ),
    "fetch": (
        "Download SBP's current files into the inbox (ITX_FETCH_EBOPS_URL, ITX_FETCH_BPM6_URL, "
        "ITX_FETCH_EASYDATA_URL); the next build loads them.",
        "itx fetch\nITX_FETCH_BPM6_URL= itx fetch   # without the BPM6 summary",
    ),
    "docs": (
        "Build dbt's documentation site of the published warehouse (models, columns, tests, lineage) as one page "
        "in data/docs/.",
        "itx docs   # then open data/docs/static_index.html",
    ),
    "manifest": ("Write dbt's manifest, which the Dagster definitions load (`make ui` does it).", "itx manifest"),
}


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # the reader went away (`itx asof ... | head`): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None) -> int:
    global _verbose
    parser = argparse.ArgumentParser(
        prog="itx",
        description="Pakistan's IT exports warehouse: build it, and read it.",
        epilog="`itx <command> --help` describes each command, with examples.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name: str) -> argparse.ArgumentParser:
        description, examples = COMMANDS[name]
        return commands.add_parser(
            name,
            help=description.split(". ")[0].rstrip("."),
            description=description,
            epilog="examples:\n" + "\n".join(f"  {line}" for line in examples.splitlines()),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    build_parser = command("build")
    build_parser.add_argument("--revalidate", action="store_true", help="validate every release again")
    build_parser.add_argument("--verbose", action="store_true", help="Dagster's log lines and warnings too")
    releases_parser = command("releases")
    releases_parser.add_argument("--publisher", help="SBP or PBS (any case)")
    releases_parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    asof_parser = command("asof")
    asof_parser.add_argument("day", help="YYYY-MM-DD")
    asof_parser.add_argument("--publisher", help="what one publisher had printed: SBP or PBS (any case)")
    asof_parser.add_argument("--series", default="ict_total", help="a series code (default ict_total)")
    asof_parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    revisions_parser = command("revisions")
    revisions_parser.add_argument("--series", default="ict_total", help="a series code (default ict_total)")
    revisions_parser.add_argument("--release", help="what this release changed, e.g. sbp-2023-08-18")
    revisions_parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    sql_parser = command("sql")
    sql_parser.add_argument("query", help="the SQL")
    sql_parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    export_parser = command("export")
    export_parser.add_argument("--format", choices=["parquet", "csv"], default="parquet", type=str.lower)
    export_parser.add_argument("--out", required=True, help="the folder to write to (made if missing)")
    fetch_parser = command("fetch")
    fetch_parser.add_argument("--verbose", action="store_true", help="Dagster's log lines and warnings too")
    command("docs")
    command("manifest")
    args = parser.parse_args(argv)
    _verbose = bool(getattr(args, "verbose", False))
    if not _verbose:
        import warnings

        # Dagster's preview and beta warnings are for this project's developers, not its users
        warnings.filterwarnings("ignore", module="dagster.*")
        warnings.filterwarnings("ignore", module="orchestration.*")
    if args.command == "build":
        return build(revalidate=args.revalidate)
    if args.command == "fetch":
        return fetch()
    if args.command == "releases":
        return releases(args.publisher, args.csv)
    if args.command == "asof":
        return asof(args.day, args.publisher, args.series, args.csv)
    if args.command == "revisions":
        return revisions(args.series, args.release, args.csv)
    if args.command == "export":
        return export(args.format, args.out)
    if args.command == "docs":
        return docs()
    if args.command == "manifest":
        settings = get_settings()
        settings.export_environment()
        _parse_dbt_project(settings)
        return 0
    return sql(args.query, args.csv)


if __name__ == "__main__":
    sys.exit(main())
