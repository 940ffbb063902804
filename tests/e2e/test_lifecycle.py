"""Releases in, releases out, through real `itx build` processes, in a warehouse whose paths have
spaces, hyphens and non-ASCII letters: a bad file is quarantined and never blocks the others, a
removed file's release leaves raw, the marts and the brief in the same build, a reader never
blocks a build, a second build waits and then says who holds the warehouse, and a build killed
(kill -9 or SIGTERM) in the middle of the load or of dbt leaves the published warehouse as it
was, blocks nothing, and the next build repairs to exactly a clean build's state."""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import HEADER, REPO

pytestmark = pytest.mark.e2e

ITX = str(Path(sys.executable).with_name("itx"))
MARTS = ("mart_ict_exports_growth_monthly", "mart_ict_exports_fiscal_year")
AUGUST = "2026-08,ict_total,431000,month,SBP,2026-09-17,https://example.org/sbp-august,,source\n"
READER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
sys.stdin.readline()
print(conn.execute("select count(*) from raw.release_figures").fetchone()[0])
"""
# marts fingerprints of uninterrupted builds, by the files they were built from
CLEAN_BUILDS: dict[str, str] = {}
BAD_OCTOBER = "2026-10,ict_total,20000,month,SBP,2026-11-18,https://example.org/sbp-october,,source\n"


class State:
    """One warehouse with its inbox, reports, GX project and Dagster instance, in odd paths."""

    def __init__(self, root: Path):
        self.root = root
        self.warehouse = root / "wh-probe ü.duckdb"
        self.inbox = root / "inbox ü"
        self.reports = root / "reports-ü"
        self.env = {
            **os.environ,
            "ITX_WAREHOUSE": str(self.warehouse),
            "ITX_INBOX": str(self.inbox),
            "ITX_REPORTS": str(self.reports),
            "ITX_GX_DIR": str(root / "gx ü"),
            "DAGSTER_HOME": str(root / "dagster home"),
        }
        (root / "dagster home").mkdir(parents=True)
        shutil.copy(REPO / "dagster_home" / "dagster.yaml", root / "dagster home" / "dagster.yaml")
        self.inbox.mkdir()

    def build(self, *args, timeout=600) -> subprocess.CompletedProcess:
        return subprocess.run(
            [ITX, "build", *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=REPO
        )

    def start_build(self, log: Path) -> subprocess.Popen:
        fh = log.open("w")
        # --verbose: the test waits for Dagster's step events in the log to kill the build mid-phase
        return subprocess.Popen(
            [ITX, "build", "--verbose"], env=self.env, stdout=fh, stderr=subprocess.STDOUT, cwd=REPO
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

    def drop(self, name, *rows):
        (self.inbox / name).write_text(HEADER + "".join(rows))


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    s = State(tmp_path_factory.mktemp("lifecycle") / "itx state-ü")
    done = s.build()
    assert done.returncode == 0, done.stderr[-3000:]
    s.first_build = done
    # dbt's table macro is made in the database whatever its name needs quoting
    assert s.query("select count(*) from marts.growth_as_of(date '2024-01-01') where series_code = 'ict_total'")[0][0]
    return s


def test_a_build_reports_in_a_few_lines_without_dagster_logs_or_colours(state):
    """One line per phase and a summary (releases, the latest month, where the brief is); Dagster's
    DEBUG lines, dbt's log lines and ANSI colours only with --verbose."""
    out = state.first_build.stdout + state.first_build.stderr
    lines = out.strip().splitlines()
    assert len(lines) < 60, out
    assert not any(word in out for word in ("DEBUG", "\x1b[", "Warning", "Traceback")), out
    assert "loaded, 0 unchanged, 0 rejected" in out and "latest month" in out and "brief " in out


def wait_for(log: Path, marker: str, proc: subprocess.Popen, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"build ended before {marker!r}: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    raise AssertionError(f"no {marker!r} within {timeout} s")


def test_a_bad_file_is_quarantined_a_removed_one_leaves_everything_and_a_reader_never_blocks(state):
    # a notebook left open all along, in its own process (DuckDB shares one open file per process)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(state.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert reader.stdout.readline().strip() == "open"
    try:
        state.drop("sbp_august.csv", AUGUST)
        done = state.build()
        assert done.returncode == 0, done.stderr[-3000:]
        assert state.latest_month() == "2026-08-01"
        assert (state.reports / "ict_exports_brief_2026-08.md").exists()
        assert "Aug 2026" in (state.reports / "latest.md").read_text()
        CLEAN_BUILDS["bundled + August"] = state.fingerprint()

        # the month's file goes, a bad release and an unreadable file arrive
        (state.inbox / "sbp_august.csv").unlink()
        state.drop("sbp_october.csv", BAD_OCTOBER)
        (state.inbox / "notes.csv").write_text("hello;world\n")
        started = time.monotonic()
        done = state.build()
        assert done.returncode == 1
        # the summary comes last, names each file and rule, with no stack trace after it
        tail = done.stderr[done.stderr.index("quarantined, not in the marts") :]
        assert "sbp_october.csv (release sbp-2026-11-18-sbp-october): plausible magnitude" in tail
        assert "notes.csv: format" in tail and "Traceback" not in tail
        # raw, the marts, the quality mart and the brief agree: no August, no October
        releases = {r[0] for r in state.query("select distinct release_id from raw.release_figures")}
        assert not any(r.endswith(("sbp-august", "sbp-october")) for r in releases)
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
        print(f"build with a reader open: {time.monotonic() - started:.1f} s")
    finally:
        # the reader was never in the way, and still reads the state it opened
        out, _ = reader.communicate("read\n", timeout=60)
    assert int(out.strip()) > 0

    # a build with nothing new does nothing, and still says what is quarantined
    again = state.build()
    assert again.returncode == 1 and "nothing new" in again.stdout and "sbp_october.csv" in again.stderr
    (state.inbox / "sbp_october.csv").unlink()
    (state.inbox / "notes.csv").unlink()


def test_the_incremental_intervals_equal_a_rebuild_from_scratch(state, tmp_path):
    """After the builds above (releases added, quarantined, removed), the selection intervals dbt
    kept up to date key by key are exactly those a full refresh computes from the same raw."""
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


def test_dagster_tells_the_truth_per_release(state):
    import dagster as dg

    os.environ["DAGSTER_HOME"], home = state.env["DAGSTER_HOME"], os.environ["DAGSTER_HOME"]
    try:
        instance = dg.DagsterInstance.get()
        key = dg.AssetKey(["raw", "release_figures"])
        partitions = set(instance.get_dynamic_partitions("release"))
        assert "sbp-2026-09-17-sbp-august" not in partitions  # its file was deleted
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
    finally:
        os.environ["DAGSTER_HOME"] = home


def test_re_running_one_release_from_the_ui_validates_and_reloads_it(state, monkeypatch):
    """What Materialize on one partition of raw/release_figures does: the release is validated
    and reloaded even though unchanged, and its own partition shows the result."""
    import dagster as dg

    for name in ("ITX_WAREHOUSE", "ITX_INBOX", "ITX_REPORTS", "ITX_GX_DIR", "DAGSTER_HOME"):
        monkeypatch.setenv(name, state.env[name])
    from orchestration.definitions import build_defs

    count = "select count(*) from raw.validation_results where release_id = 'sbp-2023-08-18'"
    staging = state.warehouse.parent / f".{state.warehouse.name}.build" / state.warehouse.name
    with dg.DagsterInstance.get() as instance:
        result = (
            build_defs()
            .resolve_job_def("ingest_job")
            .execute_in_process(partition_key="sbp-2023-08-18", instance=instance)
        )
        assert result.success
        (evaluation,) = result.get_asset_check_evaluations()
        assert evaluation.partition == "sbp-2023-08-18" and evaluation.passed
        assert "expectations, all passed" in evaluation.description
        (materialization,) = [
            m
            for m in result.get_asset_materialization_events()
            if m.asset_key == dg.AssetKey(["raw", "release_figures"])
        ]
        assert materialization.partition == "sbp-2023-08-18"
        assert materialization.materialization.metadata["status"].value == "loaded"
    conn = duckdb.connect(str(staging), read_only=True)
    validations = conn.execute(count).fetchone()[0]
    conn.close()
    assert validations == state.query(count)[0][0] + 1  # validated again, in the staging copy
    # published by the next transform (under `make ui`, transform_after_ingest starts it)
    done = state.build()
    assert done.returncode == 0, done.stderr[-3000:]
    assert state.query(count)[0][0] == validations


def test_kill_9_or_sigterm_at_any_phase_blocks_nothing_and_the_next_build_repairs(state, tmp_path):
    before = state.fingerprint()
    state.drop("sbp_august.csv", AUGUST)

    # kill -9 in the middle of the load
    log = tmp_path / "ingest.log"
    proc = state.start_build(log)
    wait_for(log, 'STEP_START - Started execution of step "raw_releases"', proc)
    time.sleep(3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state.fingerprint() == before  # the published warehouse is as it was
    assert not (state.reports / "ict_exports_brief_2026-08.md").exists()

    # a second build while one runs: it waits, then says who holds the warehouse
    log = tmp_path / "dbt.log"
    proc = state.start_build(log)
    deadline = time.monotonic() + 60
    lock = state.warehouse.parent / f".{state.warehouse.name}.lock"
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
    proc.send_signal(signal.SIGKILL)
    proc.wait()
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

    # exactly a clean build's state: the same files, built without interruption (by the first
    # test of this module, or here from nothing when this test runs alone)
    if "bundled + August" not in CLEAN_BUILDS:
        clean = State(tmp_path / "clean ü")
        shutil.copy(state.inbox / "sbp_august.csv", clean.inbox / "sbp_august.csv")
        assert clean.build().returncode == 0
        CLEAN_BUILDS["bundled + August"] = clean.fingerprint()
    assert repaired == CLEAN_BUILDS["bundled + August"]

    import dagster as dg

    os.environ["DAGSTER_HOME"], home = state.env["DAGSTER_HOME"], os.environ["DAGSTER_HOME"]
    try:
        unfinished = dg.DagsterInstance.get().get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
        )
        assert unfinished == []
    finally:
        os.environ["DAGSTER_HOME"] = home
    (state.inbox / "sbp_august.csv").unlink()
