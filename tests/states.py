"""The warehouse states the end-to-end tests read, and how each is made.

The session's state is the bundled releases built once (`built`); the others are copies of it
after what a user does between builds (a release re-run from the UI, a workbook dropped in the
inbox, a bad file, a build killed...), each made by real `itx build` processes. Every state lives
in a folder whose path has spaces, hyphens and non-ASCII letters, as does the warehouse file's
name (which DuckDB makes the database's name: dbt's views and table macro must quote it).

The flows below run in background threads while the other tests go on (tests/conftest.py), so
they take the environment of their processes as an argument and never read or change this
process's: the tests' own thread may be changing it meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from orchestration.settings import DBT_DATABASE_ENV

REPO = Path(__file__).resolve().parent.parent
RECORD = REPO / "data" / "releases" / "published_figures.csv"
HEADER = "period,series_code,value_usd_thousand,basis,publisher,published_on,source_url,note,published_on_source\n"
STATE_VARIABLES = ("ITX_WAREHOUSE", "ITX_INBOX", "ITX_REPORTS", "ITX_GX_DIR", "DAGSTER_HOME")
BIN = Path(sys.executable).parent


def query(sql, params=None, warehouse: Path | None = None):
    """A query on a warehouse, read-only: the one the environment names now, unless told."""
    import duckdb

    conn = duckdb.connect(str(warehouse or os.environ["ITX_WAREHOUSE"]), read_only=True)
    try:
        return conn.execute(sql, params or []).df()
    finally:
        conn.close()


def marts_fingerprint(warehouse: Path | None = None) -> str:
    digest = hashlib.sha256()
    for mart in ("mart_ict_exports_growth_monthly", "mart_ict_exports_fiscal_year", "mart_data_quality"):
        rows = query(f"select * from marts.{mart} order by all", warehouse=warehouse)
        digest.update(rows.to_csv(index=False).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class ItxState:
    """One warehouse with its inbox, reports, GX project and Dagster instance, under `root`."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "wh-probe ü.duckdb"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox ü"

    @property
    def reports(self) -> Path:
        return self.root / "reports-ü"

    @property
    def gx_dir(self) -> Path:
        return self.root / "gx ü"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster home"

    @property
    def staging(self) -> Path:
        """The private copy a build writes before publishing it."""
        from orchestration.lib.publication import WarehousePaths

        return WarehousePaths(self.warehouse).staging

    @property
    def lock(self) -> Path:
        from orchestration.lib.publication import WarehousePaths

        return WarehousePaths(self.warehouse).lock_file

    @property
    def variables(self) -> dict[str, str]:
        values = (self.warehouse, self.inbox, self.reports, self.gx_dir, self.dagster_home)
        return {name: str(path) for name, path in zip(STATE_VARIABLES, values, strict=True)}

    def env(self, environ: dict | None = None) -> dict[str, str]:
        """The environment of an `itx` process on this state: `environ` (this process's if None)
        with the state's paths."""
        return {**(os.environ if environ is None else environ), **self.variables}

    def make(self) -> ItxState:
        """An empty state: no warehouse yet, an empty inbox, the repository's Dagster settings."""
        self.inbox.mkdir(parents=True)
        self.dagster_home.mkdir(parents=True)
        shutil.copy(REPO / "dagster_home" / "dagster.yaml", self.dagster_home / "dagster.yaml")
        return self

    def copy_to(self, root: Path) -> ItxState:
        """This state, copied file for file (modification times kept) under another root."""
        shutil.copytree(self.root, root, symlinks=True)
        return ItxState(root)

    def use(self, monkeypatch) -> ItxState:
        """Point this process's settings at this state until the test ends."""
        for name, value in self.variables.items():
            monkeypatch.setenv(name, value)
        return self

    def itx(self, *args, environ: dict | None = None, timeout=600, **variables: str) -> subprocess.CompletedProcess:
        """`itx <args>` in a process of its own, on this state (with `variables` set on top)."""
        return subprocess.run(
            [str(BIN / "itx"), *args],
            env={**self.env(environ), **variables},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )

    def start_build(self, log: Path, environ: dict | None = None) -> subprocess.Popen:
        """`itx build --verbose` started, its output to `log` (Dagster's step events: a test waits
        for them to kill the build mid-phase), in a session of its own (kill_9 kills the group)."""
        return subprocess.Popen(
            [str(BIN / "itx"), "build", "--verbose"],
            env=self.env(environ),
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )

    def rows(self, sql) -> list[tuple]:
        import duckdb

        conn = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def published(self) -> str:
        """A fingerprint of what the warehouse publishes: the growth and fiscal-year marts, and
        raw's releases with their figure counts."""
        digest = hashlib.sha256()
        for mart in ("mart_ict_exports_growth_monthly", "mart_ict_exports_fiscal_year"):
            digest.update(repr(self.rows(f"select * from marts.{mart} order by all")).encode())
        digest.update(
            repr(self.rows("select release_id, count(*) from raw.release_figures group by 1 order by 1")).encode()
        )
        return digest.hexdigest()

    def latest_month(self) -> str:
        return str(self.rows("select max(month) from marts.mart_ict_exports_growth_monthly")[0][0])


@dataclass(frozen=True)
class Built(ItxState):
    """A built state, with its marts' fingerprint (marts_fingerprint)."""

    fingerprint: str = ""


# --- the session's states ----------------------------------------------------------------------


def write_manifest(state: ItxState, environ: dict) -> subprocess.CompletedProcess:
    """`itx manifest`: dbt's manifest for the state's warehouse (dbt parse, when the project or
    the warehouse's file name changed)."""
    done = state.itx("manifest", environ=environ)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def build_session(state: ItxState, environ: dict) -> Built:
    """The bundled releases, built by `itx build` into an empty state."""
    done = state.itx("build", environ=environ)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return Built(state.root, fingerprint=marts_fingerprint(state.warehouse))


# SBP's EBOPS workbook of Jul-Aug FY27 (tests/fixtures/make_sbp_workbooks.py): July and August
# 2026, printed only as cumulatives. Dropped by hand, it is dated by its file date (estimated):
# after August ends, before today.
WORKBOOK = REPO / "tests" / "fixtures" / "sbp" / "ebops_jul-aug_fy27.xlsx"
WORKBOOK_DATE = datetime(2026, 9, 18, 12, tzinfo=UTC)
RERUN = "sbp-2023-08-18"  # a bundled release, re-run from the UI


def drop_workbook(inbox: Path) -> Path:
    target = inbox / WORKBOOK.name
    shutil.copy(WORKBOOK, target)
    os.utime(target, (WORKBOOK_DATE.timestamp(), WORKBOOK_DATE.timestamp()))
    return target


# What Materialize on one partition of raw/release_figures runs (the UI's run, a process of its
# own): the ingest job on that partition; what Dagster recorded, as JSON on the last line.
MATERIALIZE_ONE_PARTITION = """
import json, sys
import dagster as dg
from orchestration.definitions import build_defs

with dg.DagsterInstance.get() as instance:
    result = build_defs().resolve_job_def("ingest_job").execute_in_process(
        partition_key=sys.argv[1], instance=instance, raise_on_error=False
    )
print(json.dumps({
    "success": result.success,
    "evaluations": [
        {"partition": e.partition, "passed": e.passed, "description": e.description}
        for e in result.get_asset_check_evaluations()
    ],
    "materializations": [
        {"asset": m.asset_key.to_user_string(), "partition": m.partition,
         "status": m.materialization.metadata["status"].value if "status" in m.materialization.metadata else None}
        for m in result.get_asset_materialization_events()
    ],
}))
"""


def rerun_from_the_ui(built: Built, root: Path, environ: dict) -> SimpleNamespace:
    """A copy of the built state in which one bundled release was re-run from the UI: validated
    and reloaded into the staging copy, not published."""
    state = built.copy_to(root / "itx state-ü")
    done = subprocess.run(
        [sys.executable, "-c", MATERIALIZE_ONE_PARTITION, RERUN],
        env=state.env(environ),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    count = f"select count(*) as n from raw.validation_results where release_id = '{RERUN}'"
    validations = SimpleNamespace(
        published=int(query(count, warehouse=state.warehouse).n[0]),
        staged=int(query(count, warehouse=state.staging).n[0]),
    )
    return SimpleNamespace(state=state, rerun=json.loads(done.stdout.strip().splitlines()[-1]), validations=validations)


def build_workbook(built: Built, root: Path, environ: dict) -> SimpleNamespace:
    """The session's second state: a copy of the built warehouse after what a user does between
    two builds, then one `itx build` process (its output kept):

    1. re-runs one bundled release from the UI (rerun_from_the_ui), unpublished;
    2. drops SBP's Jul-Aug FY27 workbook into the inbox: the suite's one workbook built all the way
       to the facts and the marts (tests/e2e/test_july_cumulative.py).

    The build publishes both. Read it only (or copy it): the lifecycle's tests start from it."""
    staged = rerun_from_the_ui(built, root, environ)
    drop_workbook(staged.state.inbox)
    done = staged.state.itx("build", environ=environ)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    state = Built(staged.state.root, fingerprint=marts_fingerprint(staged.state.warehouse))
    return SimpleNamespace(state=state, rerun=staged.rerun, validations=staged.validations, build=done)


READER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.readline()
print(conn.execute("select count(*) from raw.release_figures").fetchone()[0])
"""
BAD_OCTOBER = "2026-10,ict_total,20000,month,SBP,2026-11-18,https://example.org/sbp-october,,source\n"


def quarantine(with_workbook: SimpleNamespace, root: Path, environ: dict) -> SimpleNamespace:
    """From a copy of `with_workbook`, with a notebook open on the warehouse all along (in its own
    process: DuckDB shares one open file per process): the workbook goes, a bad release and an
    unreadable file arrive, and `itx build` runs; then runs again with nothing new."""
    state = with_workbook.state.copy_to(root / "itx state-ü")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(state.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        (state.inbox / WORKBOOK.name).unlink()
        (state.inbox / "sbp_october.csv").write_text(HEADER + BAD_OCTOBER)
        (state.inbox / "notes.csv").write_text("hello;world\n")
        done = state.itx("build", environ=environ)
    finally:
        # the reader was never in the way, and still reads the state it opened
        read, _ = reader.communicate("read\n", timeout=60)
    again = state.itx("build", environ=environ)
    return SimpleNamespace(state=state, build=done, read=read, again=again)


def wait_for(log: Path, marker: str, proc: subprocess.Popen, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"build ended before {marker!r}: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise AssertionError(f"no {marker!r} within {timeout} s")


def kill_9(proc: subprocess.Popen) -> None:
    """kill -9 the build and what it started, at once (as a CI runner or `kill -9 -- -PGID` does).

    Killed alone, `itx build` would leave its dbt running on the staging copy for seconds, and a
    build started meanwhile fails on DuckDB's WAL ("the WAL was created for a newer version of this
    database"): the next build re-creates the staging folder under the orphan, whose next WAL lands
    beside the fresh copy. A bug of its own, not what tests/e2e/test_lifecycle.py checks."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def kill_and_repair(built: Built, root: Path, environ: dict) -> SimpleNamespace:
    """From a copy of the built warehouse with the workbook dropped in: `itx build` killed (kill -9)
    in the middle of the load; a second started, and a third while it runs (which waits, then
    says who holds the warehouse); the second killed in the middle of dbt; a fourth stopped with
    SIGTERM in the middle of dbt; then a fifth, uninterrupted. What each step left is recorded."""
    state = built.copy_to(root / "itx state-ü")
    seen = SimpleNamespace(before=state.published(), state=state)
    drop_workbook(state.inbox)

    # kill -9 in the middle of the load
    log = root / "ingest.log"
    proc = state.start_build(log, environ)
    wait_for(log, 'STEP_START - Started execution of step "raw_releases"', proc)
    time.sleep(3)
    kill_9(proc)
    seen.after_kill_in_load = state.published()
    seen.brief_after_kill_in_load = (state.reports / "ict_exports_brief_2026-08.md").exists()

    # a second build while one runs: it waits, then says who holds the warehouse
    log = root / "dbt.log"
    proc = state.start_build(log, environ)
    seen.holder_pid = proc.pid
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and f'"pid": {proc.pid}' not in (
        state.lock.read_text() if state.lock.exists() else ""
    ):
        time.sleep(0.2)
    started = time.monotonic()
    seen.refused = state.itx("build", environ=environ, timeout=60)
    seen.waited = time.monotonic() - started

    # kill -9 in the middle of dbt
    wait_for(log, "Running dbt command", proc)
    time.sleep(5)
    kill_9(proc)
    seen.after_kill_in_dbt = state.published()

    # SIGTERM in the middle of dbt: a clean stop, nothing published
    log = root / "sigterm.log"
    proc = state.start_build(log, environ)
    wait_for(log, "Running dbt command", proc)
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    seen.sigterm_exit = proc.wait(timeout=60)
    seen.sigterm_log = log.read_text()
    seen.after_sigterm = state.published()

    # the next build finds the dead runs, takes the lock at once and repairs
    seen.repair = state.itx("build", environ=environ)
    return seen


def run_dbt_unit_tests(built: Built, root: Path, environ: dict) -> subprocess.CompletedProcess:
    """dbt's unit tests (a build skips them: they check the models' SQL, not the data), on a copy
    of the built warehouse (they need the models' parents to exist), with a target folder of
    their own (dbt_project/target is the builds')."""
    copy = built.copy_to(root / "itx state-ü")
    return run_dbt(["test", "--select", "test_type:unit"], env=copy.env(environ), target=root / "target")


def run_dbt(args: list[str], *, env: dict, target: Path) -> subprocess.CompletedProcess:
    """`dbt <args>` on the repository's project, with a target folder of its own
    (dbt_project/target is the builds')."""
    project = REPO / "dbt_project"
    return subprocess.run(
        [str(BIN / "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(project)]
        + ["--target-path", str(target)],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )


def build_docs(built: Built, root: Path, environ: dict) -> SimpleNamespace:
    """`itx docs` in a process of its own on the built state, its site beside `root/reports`
    (dbt's docs read a copy of the warehouse: its file must be left as it was)."""
    before = built.warehouse.stat().st_mtime_ns
    done = built.itx("docs", environ=environ, ITX_REPORTS=str(root / "reports"))
    return SimpleNamespace(
        done=done, page=root / "docs" / "static_index.html", untouched=built.warehouse.stat().st_mtime_ns == before
    )


def rebuild_intervals(quarantined: SimpleNamespace, root: Path, environ: dict) -> SimpleNamespace:
    """The selection intervals computed afresh (dbt run --full-refresh) on a copy of the
    quarantined state's warehouse, which dbt kept up to date key by key through its builds."""
    state = quarantined.state
    copy = root / state.warehouse.name
    shutil.copy(state.warehouse, copy)
    done = run_dbt(
        ["run", "--full-refresh", "--select", "int_figures__selection_intervals"],
        env={**state.env(environ), DBT_DATABASE_ENV: str(copy)},
        target=root / "target",
    )
    return SimpleNamespace(done=done, rebuilt=copy, kept=state.warehouse)


# --- in the background -------------------------------------------------------------------------


class Background:
    """Jobs in worker threads, one per lane: the chain of states most tests wait for, the build
    killed at every phase (the longest job), and the short jobs. The tests' own thread is one more
    stream on the two cores. A job may wait only for a job of the chain started before it: no two
    workers wait for each other."""

    def __init__(self):
        self.jobs: dict[str, Future] = {}
        self.lanes: dict[str, ThreadPoolExecutor] = {}
        self.started = time.monotonic()
        self.spans: dict[str, tuple[float, float]] = {}  # name: (start, end), seconds into the run

    def start(self, name: str, job, *args, lane: str) -> Future:
        if lane not in self.lanes:
            self.lanes[lane] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"itx-state-{lane}")
        self.jobs[name] = self.lanes[lane].submit(self._timed, name, job, *args)
        return self.jobs[name]

    def _timed(self, name: str, job, *args):
        start = time.monotonic() - self.started
        try:
            return job(*args)
        finally:
            self.spans[name] = (start, time.monotonic() - self.started)

    def timeline(self) -> str:
        """When each job ran, in seconds into the run: where a slow run spent its time."""
        return ", ".join(f"{name} {a:.0f}-{b:.0f} s" for name, (a, b) in sorted(self.spans.items(), key=lambda i: i[1]))

    def result(self, name: str):
        """The job's result (waiting for it), or None if it was not started."""
        job = self.jobs.get(name)
        return job.result() if job is not None else None

    def close(self) -> None:
        """What was started and is not needed any more (a failed run): let it end."""
        for lane in self.lanes.values():
            lane.shutdown(wait=True, cancel_futures=True)
