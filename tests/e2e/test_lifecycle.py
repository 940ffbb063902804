"""Releases in, releases out, through real `itx build` processes, in a warehouse whose paths have
spaces, hyphens and non-ASCII letters: a new release reaches the marts and the brief, a bad file
is quarantined and never blocks the others, a removed file's release leaves raw, the marts and
the brief in the same build, a reader never blocks a build, one release re-run from the UI is
validated again and published by the next build, a second build waits and then says who holds
the warehouse, and a build killed (kill -9 or SIGTERM) in the middle of the load or of dbt leaves
the published warehouse as it was, blocks nothing, and the next build repairs to exactly a clean
build's state.

No test builds from an empty warehouse: the processes start from copies of the session's built
one, and the states they leave are made once per session, in the background (tests/states.py:
build_workbook, quarantine, kill_and_repair); the tests here check what they left."""

import re
from types import SimpleNamespace

import duckdb
import pytest
from conftest import RERUN, WORKBOOK

pytestmark = pytest.mark.e2e


def workbook_release(state) -> str | None:
    rows = state.rows(f"select distinct release_id from raw.release_figures where source_file = '{WORKBOOK.name}'")
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def with_workbook(built_with_workbook):
    """The built warehouse with a release re-run from the UI and SBP's Jul-Aug FY27 workbook
    dropped into the inbox, and one `itx build` process: its output, the workbook's release, and
    what it publishes (the clean build a repaired one must equal)."""
    state = built_with_workbook.state
    return SimpleNamespace(
        state=state, build=built_with_workbook.build, release=workbook_release(state), published=state.published()
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
    assert state.rows(as_of)[0][0]


def test_re_running_one_release_from_the_ui_validates_and_reloads_it(built_with_workbook):
    """What Materialize on one partition of raw/release_figures does: the release is validated
    and reloaded even though unchanged, its own partition shows the result, and the next build
    (under `make ui`, transform_after_ingest) publishes it."""
    rerun = built_with_workbook.rerun
    assert rerun["success"]
    (evaluation,) = rerun["evaluations"]
    assert evaluation["partition"] == RERUN and evaluation["passed"]
    assert "expectations, all passed" in evaluation["description"]
    (materialization,) = [m for m in rerun["materializations"] if m["asset"] == "raw/release_figures"]
    assert (materialization["partition"], materialization["status"]) == (RERUN, "loaded")
    validations = built_with_workbook.validations
    assert validations.staged == validations.published + 1  # validated again, in the staging copy
    state = built_with_workbook.state
    published = state.rows(f"select count(*) from raw.validation_results where release_id = '{RERUN}'")[0][0]
    assert published == validations.staged


@pytest.fixture(scope="module")
def quarantined(built_quarantined, with_workbook):
    """From a copy of `with_workbook`, with a notebook open on the warehouse all along: the
    workbook goes, a bad release and an unreadable file arrive, `itx build` runs, then runs again
    with nothing new (states.quarantine)."""
    return SimpleNamespace(**vars(built_quarantined), removed=with_workbook.release)


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
    releases = {r[0] for r in state.rows("select distinct release_id from raw.release_figures")}
    assert quarantined.removed not in releases and "sbp-2026-11-18-sbp-october" not in releases
    failed = state.rows("select release_id from raw.validation_results where not success")
    assert failed == [("sbp-2026-11-18-sbp-october",)]
    assert state.latest_month() == "2026-07-01"
    quality = state.rows(
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


def test_the_incremental_intervals_equal_a_rebuild_from_scratch(intervals_rebuilt):
    """After the builds of `quarantined` (releases added, quarantined, removed), the selection
    intervals dbt kept up to date key by key are exactly those a full refresh computes from the
    same raw (states.rebuild_intervals)."""
    done = intervals_rebuilt.done
    assert done.returncode == 0, done.stdout[-3000:]
    conn = duckdb.connect(str(intervals_rebuilt.rebuilt), read_only=True)
    try:
        conn.execute(f"attach '{intervals_rebuilt.kept}' as kept (read_only)")
        rebuilt = f'"{intervals_rebuilt.rebuilt.stem}".intermediate.int_figures__selection_intervals'
        kept = "kept.intermediate.int_figures__selection_intervals"
        assert conn.execute(f"select count(*) from {kept}").fetchone()[0] > 0
        for a, b in ((rebuilt, kept), (kept, rebuilt)):
            assert conn.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0] == 0
    finally:
        conn.close()


def test_dagster_tells_the_truth_per_release(quarantined):
    import dagster as dg

    with dg.DagsterInstance.from_config(str(quarantined.state.dagster_home)) as instance:
        key = dg.AssetKey(["raw", "release_figures"])
        partitions = set(instance.get_dynamic_partitions("release"))
        assert quarantined.removed not in partitions  # its file was deleted
        assert "sbp-2026-11-18-sbp-october" in partitions
        materialized = instance.get_materialized_partitions(key)
        assert "sbp-2026-11-18-sbp-october" not in materialized
        assert "sbp-2023-08-18" in materialized
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(key, "gx_raw_release_figures"), limit=500
        )
    by_partition = {}
    for record in reversed(history):
        evaluation = record.event.dagster_event.event_specific_data
        by_partition[evaluation.partition] = evaluation
    assert by_partition["sbp-2026-11-18-sbp-october"].passed is False
    assert by_partition["sbp-2023-08-18"].passed is True
    assert all(e.partition for e in by_partition.values())  # every result on its own release
    assert not any("0 of 0" in (e.description or "") for e in by_partition.values())


def test_kill_9_or_sigterm_at_any_phase_blocks_nothing_and_the_next_build_repairs(killed_and_repaired, with_workbook):
    """From the built warehouse with the workbook dropped in (states.kill_and_repair)."""
    seen = killed_and_repaired
    # kill -9 in the middle of the load: the published warehouse is as it was
    assert seen.after_kill_in_load == seen.before
    assert not seen.brief_after_kill_in_load
    # a second build while one runs: it waits, then says who holds the warehouse
    refused = seen.refused
    assert refused.returncode == 3 and f"PID {seen.holder_pid}" in refused.stderr, refused.stderr[-2000:]
    assert seen.waited < 30  # ~10 s of waiting plus the start of a Python process
    # kill -9 in the middle of dbt; SIGTERM in the middle of dbt: a clean stop; nothing published
    assert seen.after_kill_in_dbt == seen.before
    assert seen.sigterm_exit == 130 and "stopped" in seen.sigterm_log and seen.after_sigterm == seen.before
    # the next build finds the dead runs, takes the lock at once and repairs
    repair = seen.repair
    assert repair.returncode == 0, repair.stderr[-3000:]
    # the runs of the killed builds were marked failed by the next build that started
    assert "marked failed" in seen.sigterm_log + repair.stdout
    assert seen.state.latest_month() == "2026-08-01"
    # exactly a clean build's state: the same releases built without interruption (with_workbook)
    assert seen.state.published() == with_workbook.published

    import dagster as dg

    with dg.DagsterInstance.from_config(str(seen.state.dagster_home)) as instance:
        unfinished = instance.get_runs(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
        )
    assert unfinished == []
