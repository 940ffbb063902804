"""Every test runs offline against temporary state: its own warehouse, inbox, reports, GX
project and Dagster instance, never the user's data/ folder.

The bundled warehouse is built once per session (`built`; the states and how they are made:
tests/states.py). Tests that only read it request `built`; a test that changes a warehouse
requests `built_copy`, a copy of its own (this process's settings point at the copy for the
test's duration), so that no test sees another's changes and every test passes alone and in any
order (pytest-randomly shuffles them: `-p no:randomly` keeps the file order).

The warehouses are built by `itx build` processes in background threads, started once the tests
are collected and only for the states the selected tests need, while the other tests run (the
box has two cores); a fixture that needs one waits for it. Tests that need one run after those
that need none, so that the builds overlap the latter.

Markers (pyproject.toml): `e2e` (reads or builds a warehouse through Dagster and dbt), `dagster`
(loads Dagster: the code location, its jobs, sensors and instances) and `gx` (validates releases
with Great Expectations). `make test-fast` runs the unit tests that are none of these.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from states import (  # noqa: F401 (HEADER, RECORD, REPO, ...: imported from here by the tests)
    HEADER,
    RECORD,
    REPO,
    RERUN,
    WORKBOOK,
    WORKBOOK_DATE,
    Background,
    Built,
    ItxState,
    build_docs,
    build_session,
    build_workbook,
    drop_workbook,
    kill_and_repair,
    marts_fingerprint,
    quarantine,
    query,
    rebuild_intervals,
    run_dbt_unit_tests,
    write_manifest,
)

STATE = Path(tempfile.mkdtemp(prefix="itx-tests-"))

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


# --- the warehouses ----------------------------------------------------------------------------
# Each state is a job (tests/states.py), run once: started in the background when the tests are
# collected, for the states the selected tests need (NEEDED), or else made when a fixture asks.

BACKGROUND = Background()
NEEDED: set[str] = set()  # every fixture the selected tests use
ENVIRON: dict[str, str] = {}  # the environment of the builds: the session's, before any test runs


def _root(name: str) -> Path:
    (STATE / "states").mkdir(exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=STATE / "states"))


JOBS = {  # name: (what it needs, how it is made)
    "dbt_manifest": ((), lambda environ: write_manifest(SESSION, environ)),
    "built": (("dbt_manifest",), lambda environ, _: build_session(SESSION, environ)),
    "built_with_workbook": (("built",), lambda environ, built: build_workbook(built, _root("workbook"), environ)),
    "built_quarantined": (
        ("built_with_workbook",),
        lambda environ, built_with_workbook: quarantine(built_with_workbook, _root("quarantine"), environ),
    ),
    "intervals_rebuilt": (
        ("built_quarantined",),
        lambda environ, built_quarantined: rebuild_intervals(built_quarantined, _root("intervals"), environ),
    ),
    "killed_and_repaired": (("built",), lambda environ, built: kill_and_repair(built, _root("killed"), environ)),
    "dbt_unit_tests": (("built",), lambda environ, built: run_dbt_unit_tests(built, _root("dbt-unit"), environ)),
    "docs_site": (("built",), lambda environ, built: build_docs(built, _root("docs"), environ)),
}
# Each job's lane (a worker thread, tests/states.py: Background): the chain most tests wait for,
# in its order; the killed builds (the longest job); the short jobs. Each needs only `built` or
# a job of the chain before it. The tests run in the order their states are ready in.
LANES = {
    "chain": ("dbt_manifest", "built", "built_with_workbook", "built_quarantined", "intervals_rebuilt"),
    "killed": ("killed_and_repaired",),
    "short": ("docs_site", "dbt_unit_tests"),
}
BELOW_THE_CHAIN = 5  # the nice value of everything but the chain
READY_ORDER = {
    name: i
    for i, name in enumerate(
        ("dbt_manifest", "built", "docs_site", "dbt_unit_tests", "built_with_workbook", "built_quarantined")
        + ("intervals_rebuilt", "killed_and_repaired")
    )
}
MADE: dict[str, object] = {}


def job(name: str):
    """The state `name`: as the background job made it (waiting for it), or made now, once."""
    if name not in MADE:
        if name in BACKGROUND.jobs:
            MADE[name] = BACKGROUND.result(name)
        else:
            needs, make = JOBS[name]
            MADE[name] = make(ENVIRON or dict(os.environ), *(job(need) for need in needs))
    return MADE[name]


def _in_background(name: str):
    needs, make = JOBS[name]
    return make(ENVIRON, *(BACKGROUND.result(need) for need in needs))


def pytest_collection_finish(session):
    for item in session.items:
        NEEDED.update(name for name in item.fixturenames if name in JOBS)
    for name in reversed(list(JOBS)):  # and what they need (JOBS lists a job after its needs)
        if name in NEEDED:
            NEEDED.update(JOBS[name][0])
    if not NEEDED or session.config.option.collectonly:
        return
    ENVIRON.update(os.environ)
    if date.today() <= WORKBOOK_DATE.date():  # built_with_workbook skips
        NEEDED.discard("built_with_workbook")
    # in the order of their needs (a job waits only for one of the chain started before it)
    for lane, names in LANES.items():
        for name in names:
            if name in NEEDED and all(need in BACKGROUND.jobs for need in JOBS[name][0]):
                BACKGROUND.start(name, _in_background, name, lane=lane)
        if lane == "chain" and sys.platform == "linux":
            # The chain's thread (made above) and the processes it starts keep the normal priority;
            # this thread, the lanes made after it and everything they start get a lower one, so
            # that the chain, the longest path of the run, has a core of its own while the rest
            # share the other. (Linux keeps a nice value per thread; new threads and processes
            # inherit their creator's.)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BELOW_THE_CHAIN)


def pytest_collection_modifyitems(config, items):
    """The markers `make test-fast` selects on (`-m`), for tests whose file does not set them; and
    the tests that need a warehouse after the others, so that the builds in the background overlap
    the others. pytest-randomly has shuffled the items already: this stable sort keeps its order
    within each group (as pytest-django groups its database tests)."""
    for item in items:
        path = Path(str(item.path))
        if "e2e" in path.parts or "built" in item.fixturenames:  # built_copy, built_with_workbook... too
            item.add_marker(pytest.mark.e2e)
        if path.name == "test_release_validation.py":  # the GX suite on real releases
            item.add_marker(pytest.mark.gx)
    # first the tests that need no state, then by when the states they need are ready
    items.sort(
        key=lambda item: (
            item.get_closest_marker("e2e") is not None,
            max((READY_ORDER.get(name, -1) for name in item.fixturenames), default=-1),
        )
    )


@pytest.fixture(scope="session")
def dbt_manifest() -> subprocess.CompletedProcess:
    """dbt's manifest, which the Dagster definitions load: written once, first (`itx manifest`
    runs dbt parse when the project changed), so that no two processes parse at once."""
    return job("dbt_manifest")


@pytest.fixture(scope="session")
def built(dbt_manifest) -> Built:
    """The warehouse built once, through Dagster, from the bundled releases. Read it only: a test
    that writes requests `built_copy`. At the end of the session its marts must be as built."""
    state = job("built")
    yield state
    assert marts_fingerprint(state.warehouse) == state.fingerprint, "a test changed the session's warehouse"


@pytest.fixture
def built_copy(built, tmp_path, monkeypatch) -> Built:
    """A copy of the session's built state for a test that changes it; this process's settings
    point at the copy for the test's duration."""
    from orchestration.lib import ingest

    # the releases parsed by an earlier build of this process: parsed afresh, as in a new process
    monkeypatch.setattr(ingest, "_parsed", {})
    copy = built.copy_to(tmp_path / "itx state-ü").use(monkeypatch)
    return Built(copy.root, fingerprint=built.fingerprint)


@pytest.fixture(scope="session")
def built_with_workbook(built) -> SimpleNamespace:
    """The built warehouse after a release re-run from the UI and SBP's Jul-Aug FY27 workbook
    dropped into the inbox, and one `itx build` process (states.build_workbook)."""
    if date.today() <= WORKBOOK_DATE.date():
        pytest.skip(f"the workbook's file date {WORKBOOK_DATE.date()} must be in the past")
    return job("built_with_workbook")


@pytest.fixture(scope="session")
def built_quarantined(built_with_workbook) -> SimpleNamespace:
    """From `built_with_workbook`: the workbook gone, a bad release and an unreadable file in,
    with a reader open, and two `itx build` processes (states.quarantine)."""
    return job("built_quarantined")


@pytest.fixture(scope="session")
def killed_and_repaired(built) -> SimpleNamespace:
    """Builds killed at every phase, then one uninterrupted (states.kill_and_repair)."""
    return job("killed_and_repaired")


@pytest.fixture(scope="session")
def intervals_rebuilt(built_quarantined) -> SimpleNamespace:
    """The selection intervals of `built_quarantined` computed afresh (states.rebuild_intervals)."""
    return job("intervals_rebuilt")


@pytest.fixture(scope="session")
def docs_site(built) -> SimpleNamespace:
    """`itx docs` run on the built state (states.build_docs)."""
    return job("docs_site")


@pytest.fixture(scope="session")
def dbt_unit_tests(built) -> subprocess.CompletedProcess:
    """`dbt test --select test_type:unit`, once per session (states.run_dbt_unit_tests)."""
    return job("dbt_unit_tests")


# --- how much a run of the suite builds --------------------------------------------------------
# In-process builds (cli.build) and the processes this one starts: `itx build` and dbt (those
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


def pytest_runtest_setup(item):
    if item.get_closest_marker("e2e") is not None:
        BACKGROUND.spans.setdefault("(e2e tests from)", (time.monotonic() - BACKGROUND.started,) * 2)


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line("itx: " + ", ".join(f"{what}: {n}" for what, n in COUNTS.items()))
    if BACKGROUND.spans:
        terminalreporter.write_line("itx: states made in the background: " + BACKGROUND.timeline())


def pytest_sessionfinish(session, exitstatus):
    BACKGROUND.close()
    shutil.rmtree(STATE, ignore_errors=True)
