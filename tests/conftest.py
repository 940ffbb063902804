"""Every test runs offline against temporary state: its own warehouse, inbox, reports, GX
project and Dagster instance, never the user's data/ folder.

The bundled warehouse is built once per session (`built`), through Dagster, in a folder whose
path has spaces, hyphens and non-ASCII letters (as is the warehouse file's name, which DuckDB
makes the database's name). Tests that only read it request `built`; a test that changes a
warehouse requests `built_copy`, a copy of that state of its own (the environment points at the
copy for the test's duration), so that no test ever sees another's changes and every test passes
alone and in any order (pytest-randomly shuffles them: `-p no:randomly` keeps the file order).

Markers (pyproject.toml): `e2e` (reads or builds a warehouse through Dagster and dbt), `dagster`
(loads Dagster: the code location, its jobs, sensors and instances) and `gx` (validates releases
with Great Expectations). `make test-fast` runs the unit tests that are none of these.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parent.parent
STATE = Path(tempfile.mkdtemp(prefix="itx-tests-"))
RECORD = REPO / "data" / "releases" / "published_figures.csv"
HEADER = "period,series_code,value_usd_thousand,basis,publisher,published_on,source_url,note,published_on_source\n"
STATE_VARIABLES = ("ITX_WAREHOUSE", "ITX_INBOX", "ITX_REPORTS", "ITX_GX_DIR", "DAGSTER_HOME")


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
        """The private copy a build writes (orchestration/lib/publication.py) before publishing it."""
        return self.root / f".{self.warehouse.name}.build" / self.warehouse.name

    @property
    def variables(self) -> dict[str, str]:
        values = (self.warehouse, self.inbox, self.reports, self.gx_dir, self.dagster_home)
        return {name: str(path) for name, path in zip(STATE_VARIABLES, values, strict=True)}

    @property
    def env(self) -> dict[str, str]:
        """The environment of an `itx` process working on this state."""
        return {**os.environ, **self.variables}

    def make(self) -> "ItxState":
        """An empty state: no warehouse yet, an empty inbox, the repository's Dagster settings."""
        self.inbox.mkdir(parents=True)
        self.dagster_home.mkdir(parents=True)
        shutil.copy(REPO / "dagster_home" / "dagster.yaml", self.dagster_home / "dagster.yaml")
        return self

    def copy_to(self, root: Path) -> "ItxState":
        """This state, copied file for file (modification times kept) under another root."""
        shutil.copytree(self.root, root, symlinks=True)
        return ItxState(root)

    def use(self, monkeypatch) -> "ItxState":
        """Point this process's settings at this state until the test ends."""
        for name, value in self.variables.items():
            monkeypatch.setenv(name, value)
        return self

    def itx(self, *args, timeout=600, environ=None) -> subprocess.CompletedProcess:
        """`itx <args>` in a process of its own, on this state (in `environ`, or this process's)."""
        itx = Path(sys.executable).with_name("itx")
        env = {**(os.environ if environ is None else environ), **self.variables}
        return subprocess.run([str(itx), *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)


# The session's state, which `built` builds: its variables are the environment of every test.
SESSION = ItxState(STATE / "itx state-ü").make()
os.environ.update({**SESSION.variables, "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "False"})


@pytest.fixture
def write_release(tmp_path):
    """Write a release file in the record layout from rows of the nine columns."""

    def write(name: str, rows: list[list[str]], directory: Path | None = None) -> Path:
        import csv

        path = (directory or tmp_path) / name
        with path.open("w", newline="") as fh:
            fh.write(HEADER)
            csv.writer(fh).writerows(rows)
        return path

    return write


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
class Built(ItxState):
    """The state the session's build left, with its marts' fingerprint."""

    fingerprint: str = ""


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    """The warehouse built once, through Dagster, from the bundled releases. Read it only: a test
    that writes requests `built_copy`. At the end of the session the marts must be as built.

    Once it is built, the states made from it that the selected tests need are started in the
    background (see below)."""
    from orchestration import cli

    assert cli.main(["build"]) == 0
    state = Built(SESSION.root, fingerprint=marts_fingerprint(SESSION.warehouse))
    start_in_background(state, tmp_path_factory)
    yield state
    assert marts_fingerprint(SESSION.warehouse) == state.fingerprint, "a test changed the session's warehouse"


@pytest.fixture
def built_copy(built, tmp_path, monkeypatch) -> Built:
    """A copy of the session's built state for a test that changes it; this process's settings
    point at the copy for the test's duration."""
    from orchestration.lib import ingest

    # the releases parsed by an earlier build of this process: parsed afresh, as in a new process
    monkeypatch.setattr(ingest, "_parsed", {})
    copy = built.copy_to(tmp_path / "itx state-ü").use(monkeypatch)
    return Built(copy.root, fingerprint=built.fingerprint)


def pytest_collection_modifyitems(config, items):
    """The markers `make test-fast` selects on, for tests whose file does not set them."""
    for item in items:
        path = Path(str(item.path))
        if "e2e" in path.parts or "built" in item.fixturenames:  # built_copy, built_with_workbook too
            item.add_marker(pytest.mark.e2e)
        if path.name == "test_release_validation.py":  # the GX suite on real releases
            item.add_marker(pytest.mark.gx)


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


def rerun_from_the_ui(built: Built, root: Path) -> SimpleNamespace:
    """A copy of the built state in which one bundled release was re-run from the UI (Materialize
    on its partition of raw/release_figures: the ingest job, in this process): validated and
    reloaded into the staging copy, not published."""
    import dagster as dg

    from orchestration.definitions import build_defs

    state = Built(built.copy_to(root / "itx state-ü").root)
    count = f"select count(*) as n from raw.validation_results where release_id = '{RERUN}'"
    with pytest.MonkeyPatch.context() as monkeypatch:
        state.use(monkeypatch)
        with dg.DagsterInstance.get() as instance:
            rerun = (
                build_defs().resolve_job_def("ingest_job").execute_in_process(partition_key=RERUN, instance=instance)
            )
    validations = SimpleNamespace(
        published=int(query(count, warehouse=state.warehouse).n[0]),
        staged=int(query(count, warehouse=state.staging).n[0]),
    )
    return SimpleNamespace(state=state, rerun=rerun, validations=validations)


def build_workbook(staged: SimpleNamespace, environ: dict) -> SimpleNamespace:
    """The workbook dropped into the inbox of `staged` (rerun_from_the_ui), and `itx build`."""
    drop_workbook(staged.state.inbox)
    done = staged.state.itx("build", environ=environ)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    state = Built(staged.state.root, fingerprint=marts_fingerprint(staged.state.warehouse))
    return SimpleNamespace(state=state, rerun=staged.rerun, validations=staged.validations, build=done)


@pytest.fixture(scope="session")
def built_with_workbook(built, tmp_path_factory) -> SimpleNamespace:
    """The session's second state: a copy of the built warehouse after what a user does between
    two builds, then one `itx build` process (its output kept):

    1. re-runs one bundled release from the UI (rerun_from_the_ui), which validates and reloads it
       into the staging copy, unpublished (tests/e2e/test_lifecycle.py);
    2. drops SBP's Jul-Aug FY27 workbook into the inbox: the suite's one workbook built all the way
       to the facts and the marts (tests/e2e/test_july_cumulative.py).

    The build publishes both. Read it only (or copy it): the lifecycle's tests start from it."""
    if date.today() <= WORKBOOK_DATE.date():
        pytest.skip(f"the workbook's file date {WORKBOOK_DATE.date()} must be in the past")
    return background_result("workbook") or build_workbook(
        rerun_from_the_ui(built, tmp_path_factory.mktemp("workbook")), dict(os.environ)
    )


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


@pytest.fixture(scope="session")
def built_quarantined(built_with_workbook, tmp_path_factory) -> SimpleNamespace:
    """The session's third state, for tests/e2e/test_lifecycle.py: `quarantine` (above)."""
    return background_result("quarantined") or quarantine(
        built_with_workbook, tmp_path_factory.mktemp("quarantine"), dict(os.environ)
    )


def run_dbt_unit_tests(built: Built, root: Path, environ: dict) -> subprocess.CompletedProcess:
    """dbt's unit tests (a build skips them: they check the models' SQL, not the data), on a copy
    of the built warehouse (they need the models' parents to exist), with a target folder of
    their own (dbt_project/target is the builds')."""
    copy = built.copy_to(root / "itx state-ü")
    project = REPO / "dbt_project"
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), "test", "--select", "test_type:unit", "--project-dir", str(project), "--profiles-dir", str(project)]
        + ["--target-path", str(root / "target")],
        env={**environ, **copy.variables},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )


@pytest.fixture(scope="session")
def dbt_unit_tests(built, tmp_path_factory) -> subprocess.CompletedProcess:
    """`dbt test --select test_type:unit`, once per session (run_dbt_unit_tests)."""
    return background_result("dbt unit tests") or run_dbt_unit_tests(
        built, tmp_path_factory.mktemp("dbt-unit"), dict(os.environ)
    )


# --- states built in the background ----------------------------------------------------------
# The tests run in one process, and the box has two cores: the processes that make the session's
# other states (`itx build`, dbt) run in one background thread, started as soon as the built
# warehouse is there, while the tests go on; a fixture that needs one waits for it. Only what the
# selected tests need is started (NEEDED); a test run alone makes what it needs itself.

NEEDED: set[str] = set()  # every fixture the selected tests use
_JOBS: dict[str, Future] = {}
_WORKER: list[ThreadPoolExecutor] = []


def pytest_collection_finish(session):
    for item in session.items:
        NEEDED.update(item.fixturenames)


def in_background(name: str, job, *args) -> Future:
    if not _WORKER:
        _WORKER.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="itx-background"))
    _JOBS[name] = _WORKER[0].submit(job, *args)
    return _JOBS[name]


def background_result(name: str):
    """The result of a job started in the background (waiting for it), or None if none was."""
    job = _JOBS.get(name)
    return job.result() if job is not None else None


def start_in_background(built: Built, tmp_path_factory) -> None:
    # the environment of the processes: the session's, now (before any test changes it)
    environ = dict(os.environ)
    if "dbt_unit_tests" in NEEDED:
        in_background("dbt unit tests", run_dbt_unit_tests, built, tmp_path_factory.mktemp("dbt-unit"), environ)
    if "built_with_workbook" in NEEDED and date.today() > WORKBOOK_DATE.date():
        staged = rerun_from_the_ui(built, tmp_path_factory.mktemp("workbook"))  # in this process, now
        workbook = in_background("workbook", build_workbook, staged, environ)
        if "built_quarantined" in NEEDED:
            root = tmp_path_factory.mktemp("quarantine")
            in_background("quarantined", lambda: quarantine(workbook.result(), root, environ))


# --- how much a run of the suite builds --------------------------------------------------------
# In-process builds (cli.build) and the processes the tests start: `itx build` and dbt (those
# started by Dagster in this process included; those started inside an `itx build` process not).
# Printed at the end of the run, so that a test that builds needlessly shows.

COUNTS = {"in-process builds": 0, "`itx build` processes": 0, "dbt processes": 0}


def _count_popen(original):
    def counted(self, args, *rest, **kwargs):
        argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
        program = os.path.basename(argv[0]) if argv else ""
        if program == "itx" and "build" in argv[1:2]:
            COUNTS["`itx build` processes"] += 1
        elif program == "dbt":
            COUNTS["dbt processes"] += 1
        original(self, args, *rest, **kwargs)

    return counted


def pytest_configure(config):
    subprocess.Popen.__init__ = _count_popen(subprocess.Popen.__init__)
    try:
        from orchestration import cli
    except ImportError:  # the tests that need it say why; the others run
        return
    build = cli.build

    def counted_build(*args, **kwargs):
        COUNTS["in-process builds"] += 1
        return build(*args, **kwargs)

    cli.build = counted_build


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line("itx: " + ", ".join(f"{what}: {n}" for what, n in COUNTS.items()))


def pytest_sessionfinish(session, exitstatus):
    for worker in _WORKER:  # what was started and not needed (a failed run): let it end
        worker.shutdown(wait=True, cancel_futures=True)
    shutil.rmtree(STATE, ignore_errors=True)
