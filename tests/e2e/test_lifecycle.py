"""Releases in, releases out, through real `itx build` processes, in a warehouse whose paths have
spaces, hyphens and non-ASCII letters (tests/conftest.py): a new release reaches the marts and
the brief, a bad file is quarantined and never blocks the others, a removed file's release
leaves raw, the marts and the brief in the same build, a reader never blocks a build, one
release re-run from the UI is validated again and published by the next build, a second build
waits and then says who holds the warehouse, and a build killed (kill -9 or SIGTERM) in the
middle of the load or of dbt leaves the published warehouse as it was, blocks nothing, and the
next build repairs to exactly a clean build's state.

No test builds from an empty warehouse: each starts from a copy of the session's built one or of
`built_with_workbook` (tests/conftest.py: the built warehouse after a re-run from the UI, with
SBP's Jul-Aug FY27 workbook dropped into its inbox, and one `itx build` process), which is also
the clean build a repaired one must equal."""

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest
from conftest import REPO, RERUN, WORKBOOK, ItxState, drop_workbook

pytestmark = pytest.mark.e2e

ITX = str(Path(sys.executable).with_name("itx"))
MARTS = ("mart_ict_exports_growth_monthly", "mart_ict_exports_fiscal_year")


class State(ItxState):
    """A warehouse and its files, worked on by `itx build` processes."""

    def build(self, *args, timeout=600) -> subprocess.CompletedProcess:
        return self.itx("build", *args, timeout=timeout)

    def start_build(self, log: Path) -> subprocess.Popen:
        fh = log.open("w")
        # --verbose: the test waits for Dagster's step events in the log to kill the build mid-phase;
        # a session of its own: kill_9 kills the build with the processes it started (dbt)
        return subprocess.Popen(
            [ITX, "build", "--verbose"],
            env=self.env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )

    def query(self, sql):
        conn = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for mart in MARTS:
            digest.update(repr(self.query(f"select * from marts.{mart} order by all")).encode())
        digest.update(
            repr(self.query("select release_id, count(*) from raw.release_figures group by 1 order by 1")).encode()
        )
        return digest.hexdigest()

    def latest_month(self) -> str:
        return str(self.query("select max(month) from marts.mart_ict_exports_growth_monthly")[0][0])

    def workbook_release(self) -> str | None:
        rows = self.query(f"select distinct release_id from raw.release_figures where source_file = '{WORKBOOK.name}'")
        return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def with_workbook(built_with_workbook):
    """The session's state with the workbook built: its output, its release and its fingerprint."""
    state = State(built_with_workbook.state.root)
    return SimpleNamespace(
        state=state,
        build=built_with_workbook.build,
        release=state.workbook_release(),
        fingerprint=state.fingerprint(),
    )


def test_a_build_adds_the_months_to_the_marts_and_the_brief_and_reports_in_a_few_lines(with_workbook):
    """One line per phase and a summary (releases, the latest month, where the brief is); Dagster's
    DEBUG lines, dbt's log lines and ANSI colours only with --verbose."""
    out = with_workbook.build.stdout + with_workbook.build.stderr
    lines = out.strip().splitlines()
    assert len(lines) < 60, out
    assert not any(word in out for word in ("DEBUG", "\x1b[", "Warning", "Traceback")), out
    assert re.search(r": 1 loaded, \d+ unchanged, 0 rejected", out) and "latest month" in out and "brief " in out
    state = with_workbook.state
    assert with_workbook.release and state.latest_month() == "2026-08-01"
    assert (state.reports / "ict_exports_brief_2026-08.md").exists()
    assert "Aug 2026" in (state.reports / "latest.md").read_text()
    # dbt's table macro is made in the database whatever its name needs quoting
    as_of = "select count(*) from marts.growth_as_of(date '2024-01-01') where series_code = 'ict_total'"
    assert state.query(as_of)[0][0]


def test_re_running_one_release_from_the_ui_validates_and_reloads_it(built_with_workbook):
    """What Materialize on one partition of raw/release_figures does: the release is validated
    and reloaded even though unchanged, its own partition shows the result, and the next build
    (under `make ui`, transform_after_ingest) publishes it."""
    import dagster as dg

    result = built_with_workbook.rerun
    assert result.success
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.partition == RERUN and evaluation.passed
    assert "expectations, all passed" in evaluation.description
    (materialization,) = [
        m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["raw", "release_figures"])
    ]
    assert materialization.partition == RERUN
    assert materialization.materialization.metadata["status"].value == "loaded"
    validations = built_with_workbook.validations
    assert validations.staged == validations.published + 1  # validated again, in the staging copy
    state = State(built_with_workbook.state.root)
    published = state.query(f"select count(*) from raw.validation_results where release_id = '{RERUN}'")[0][0]
    assert published == validations.staged


def kill_9(proc: subprocess.Popen) -> None:
    """kill -9 the build and what it started, at once (as a CI runner or `kill -9 -- -PGID` does).

    Killed alone, `itx build` would leave its dbt running on the staging copy for seconds, and a
    build started meanwhile fails on DuckDB's WAL ("the WAL was created for a newer version of this
    database"): the next build re-creates the staging folder under the orphan, whose next WAL lands
    beside the fresh copy. Reported; not what this test checks."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def wait_for(log: Path, marker: str, proc: subprocess.Popen, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"build ended before {marker!r}: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise AssertionError(f"no {marker!r} within {timeout} s")


@pytest.fixture(scope="module")
def quarantined(built_quarantined, with_workbook):
    """From a copy of `with_workbook`, with a notebook open on the warehouse all along: the
    workbook goes, a bad release and an unreadable file arrive, `itx build` runs, then runs again
    with nothing new (tests/conftest.py: `quarantine`)."""
    q = built_quarantined
    return SimpleNamespace(
        state=State(q.state.root), build=q.build, read=q.read, again=q.again, removed=with_workbook.release
    )


def test_a_bad_file_is_quarantined_a_removed_one_leaves_everything_and_a_reader_never_blocks(quarantined):
    state, done = quarantined.state, quarantined.build
    assert done.returncode == 1, done.stderr[-3000:]
    assert int(quarantined.read.strip()) > 0
    # the summary comes last, names each file and rule (and the failing rows), with no stack trace after it
    tail = done.stderr[done.stderr.index("quarantined, not in the marts") :]
    assert "sbp_october.csv (release sbp-2026-11-18-sbp-october): plausible magnitude" in tail
    assert "notes.csv: format" in tail and "Traceback" not in tail
    assert "row(s) 2" in done.stderr
    # raw, the marts, the quality mart and the brief agree: no workbook (July and August 2026), no October
    releases = {r[0] for r in state.query("select distinct release_id from raw.release_figures")}
    assert quarantined.removed not in releases and "sbp-2026-11-18-sbp-october" not in releases
    failed = state.query("select release_id from raw.validation_results where not success")
    assert failed == [("sbp-2026-11-18-sbp-october",)]
    assert state.latest_month() == "2026-07-01"
    quality = state.query(
        "select releases_loaded, files_rejected, releases_rejected, rejected_files from marts.mart_data_quality"
    )[0]
    assert quality[:3] == (len(releases), 2, 1)
    assert "sbp_october.csv" in quality[3] and "notes.csv" in quality[3]
    brief = (state.reports / "latest.md").read_text()
    assert "Jul 2026" in brief and "sbp_october.csv" in brief and "notes.csv" in brief
    assert not list(state.reports.glob("ict_exports_brief_2026-08.*"))
    assert (state.inbox / "sbp_october.csv").exists() and (state.inbox / "notes.csv").exists()


def test_a_build_with_nothing_new_does_nothing_and_still_says_what_is_quarantined(quarantined):
    again = quarantined.again
    assert again.returncode == 1 and "nothing new" in again.stdout and "sbp_october.csv" in again.stderr


def test_the_incremental_intervals_equal_a_rebuild_from_scratch(quarantined, tmp_path):
    """After the builds above (releases added, quarantined, removed), the selection intervals dbt
    kept up to date key by key are exactly those a full refresh computes from the same raw."""
    state = quarantined.state
    copy = tmp_path / state.warehouse.name
    shutil.copy(state.warehouse, copy)
    project = REPO / "dbt_project"
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "run",
            "--full-refresh",
            "--select",
            "int_figures__selection_intervals",
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(tmp_path / "target"),
        ],
        env={**state.env, "ITX_DBT_DATABASE": str(copy)},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    conn = duckdb.connect(str(copy), read_only=True)
    try:
        conn.execute(f"attach '{state.warehouse}' as kept (read_only)")
        rebuilt = f'"{copy.stem}".intermediate.int_figures__selection_intervals'
        kept = "kept.intermediate.int_figures__selection_intervals"
        assert conn.execute(f"select count(*) from {kept}").fetchone()[0] > 0
        for a, b in ((rebuilt, kept), (kept, rebuilt)):
            assert conn.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0] == 0
    finally:
        conn.close()


def test_dagster_tells_the_truth_per_release(quarantined, monkeypatch):
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(quarantined.state.dagster_home))
    with dg.DagsterInstance.get() as instance:
        key = dg.AssetKey(["raw", "release_figures"])
        partitions = set(instance.get_dynamic_partitions("release"))
        assert quarantined.removed not in partitions  # its file was deleted
        assert "sbp-2026-11-18-sbp-october" in partitions
        materialized = instance.get_materialized_partitions(key)
        assert "sbp-2026-11-18-sbp-october" not in materialized
        assert "sbp-2023-08-18" in materialized
        from dagster import AssetCheckKey

        history = instance.event_log_storage.get_asset_check_execution_history(
            AssetCheckKey(key, "gx_raw_release_figures"), limit=500
        )
        by_partition = {}
        for record in reversed(history):
            evaluation = record.event.dagster_event.event_specific_data
            by_partition[evaluation.partition] = evaluation
        assert by_partition["sbp-2026-11-18-sbp-october"].passed is False
        assert by_partition["sbp-2023-08-18"].passed is True
        assert all(e.partition for e in by_partition.values())  # every result on its own release
        assert not any("0 of 0" in (e.description or "") for e in by_partition.values())


def test_kill_9_or_sigterm_at_any_phase_blocks_nothing_and_the_next_build_repairs(built_copy, with_workbook, tmp_path):
    state = State(built_copy.root)  # this process's settings name it too
    before = state.fingerprint()
    drop_workbook(state.inbox)

    # kill -9 in the middle of the load
    log = tmp_path / "ingest.log"
    proc = state.start_build(log)
    wait_for(log, 'STEP_START - Started execution of step "raw_releases"', proc)
    time.sleep(3)
    kill_9(proc)
    assert state.fingerprint() == before  # the published warehouse is as it was
    assert not (state.reports / "ict_exports_brief_2026-08.md").exists()

    # a second build while one runs: it waits, then says who holds the warehouse
    log = tmp_path / "dbt.log"
    proc = state.start_build(log)
    deadline = time.monotonic() + 60
    lock = state.root / f".{state.warehouse.name}.lock"
    while time.monotonic() < deadline and f'"pid": {proc.pid}' not in (lock.read_text() if lock.exists() else ""):
        time.sleep(0.2)
    started = time.monotonic()
    other = state.build(timeout=60)
    waited = time.monotonic() - started
    assert other.returncode == 3 and f"PID {proc.pid}" in other.stderr, other.stderr[-2000:]
    assert waited < 30  # ~10 s of waiting plus the start of a Python process
    print(f"second build refused after {waited:.1f} s")

    # kill -9 in the middle of dbt
    wait_for(log, "Running dbt command", proc)
    time.sleep(5)
    kill_9(proc)
    assert state.fingerprint() == before

    # SIGTERM in the middle of dbt: a clean stop, nothing published
    log = tmp_path / "sigterm.log"
    proc = state.start_build(log)
    wait_for(log, "Running dbt command", proc)
    time.sleep(3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 130
    assert "stopped" in log.read_text() and state.fingerprint() == before

    # the next build finds the dead runs, takes the lock at once and repairs
    done = state.build()
    assert done.returncode == 0, done.stderr[-3000:]
    # the runs of the killed builds were marked failed by the next build that started
    assert "marked failed" in log.read_text() + done.stdout
    assert state.latest_month() == "2026-08-01"
    repaired = state.fingerprint()

    # exactly a clean build's state: the same releases built without interruption (with_workbook)
    assert repaired == with_workbook.fingerprint

    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        unfinished = instance.get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
        )
    assert unfinished == []
