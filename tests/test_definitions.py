"""The Dagster code location loads with the expected assets, checks, jobs, schedule and sensors."""

import dagster as dg
import pytest
from conftest import REPO

from orchestration import cli


@pytest.fixture(scope="module")
def defs():
    assert cli.main(["manifest"]) == 0
    from orchestration.definitions import defs

    return defs


def test_assets(defs):
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    expected = {
        "raw/release_figures",
        "raw/validation_results",
        "raw/release_header_periods",
        "reference/series_hierarchy",
        "reference/errata",
        "staging/stg_release_figures",
        "intermediate/int_figures__selected",
        "core/dim_month",
        "core/dim_series",
        "core/fct_ict_exports_monthly",
        "marts/mart_ict_exports_growth_monthly",
        "marts/mart_ict_exports_fiscal_year",
        "marts/mart_data_quality",
        "reports/monthly_brief",
    }
    assert expected <= keys


def test_raw_releases_are_partitioned_by_release_and_checked_by_gx_per_release(defs):
    graph = defs.resolve_asset_graph()
    release = dg.DynamicPartitionsDefinition(name="release")
    assert graph.get(dg.AssetKey(["raw", "release_figures"])).partitions_def == release
    # tables every release writes to: one event per run, not one per release
    for key in ("raw/validation_results", "raw/release_header_periods"):
        assert graph.get(dg.AssetKey.from_user_string(key)).partitions_def is None, key
    raw = graph.get(dg.AssetKey(["raw", "release_figures"]))
    spec = next(s for s in defs.resolve_assets_def(raw.key).check_specs if s.name == "gx_raw_release_figures")
    assert spec.partitions_def == release  # each release's validation on its own partition
    # one step materializes the three raw tables
    assert defs.resolve_assets_def(raw.key).keys == {
        dg.AssetKey.from_user_string(k)
        for k in ("raw/release_figures", "raw/validation_results", "raw/release_header_periods")
    }


def test_dbt_tests_are_asset_checks(defs):
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert any(name.startswith("unique_fct_ict_exports_monthly") for name in checks)
    assert "assert_fytd_equals_sum_of_fiscal_months" in checks


def test_the_marts_depend_on_the_raw_releases_and_the_brief_on_every_table_it_reads(defs):
    import re

    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey(["staging", "stg_release_figures"])).parent_keys
    assert dg.AssetKey(["raw", "release_figures"]) in upstream
    assert (
        dg.AssetKey(["raw", "validation_results"])
        in graph.get(dg.AssetKey(["staging", "stg_validation_results"])).parent_keys
    )
    brief_parents = graph.get(dg.AssetKey(["reports", "monthly_brief"])).parent_keys
    read = set(re.findall(r"\b(marts|core|staging)\.([a-z_]+)\b", (REPO / "orchestration/lib/report.py").read_text()))
    assert read
    for schema, table in read:
        assert dg.AssetKey([schema, table]) in brief_parents, (schema, table)


def test_jobs_run_in_one_process_and_no_pool_can_be_left_taken(defs):
    """Writers are serialized by an OS file lock that dies with its holder, not by a pool slot
    that a killed process would keep."""
    import yaml

    for job in ("ingest_job", "transform_job"):
        assert defs.resolve_job_def(job).executor_def.name == "in_process"
    for key in ("raw/release_figures", "marts/mart_ict_exports_growth_monthly", "reports/monthly_brief"):
        assert defs.resolve_assets_def(dg.AssetKey.from_user_string(key)).op.pool is None, key
    config = yaml.safe_load((REPO / "dagster_home" / "dagster.yaml").read_text())
    assert "pools" not in config.get("concurrency", {})
    assert config["run_monitoring"]["enabled"] is True


def test_jobs_schedule_and_sensors(defs):
    assert defs.resolve_job_def("ingest_job").partitions_def.name == "release"
    assert defs.resolve_job_def("transform_job")
    assert defs.resolve_job_def("fetch_job")
    schedule = defs.resolve_schedule_def("sbp_fetch_schedule")
    assert schedule.execution_timezone == "Asia/Karachi"
    assert schedule.job_name == "fetch_job"
    targets = {t.job_def.name for t in defs.resolve_sensor_def("release_inbox_sensor").targets}
    assert targets == {"ingest_job", "transform_job"}
    assert defs.resolve_sensor_def("transform_after_ingest")


def test_the_schedule_fetches_in_the_release_window_and_skips_after_a_download(defs, tmp_path, monkeypatch):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    monkeypatch.setenv("ITX_INBOX", str(tmp_path))
    schedule = defs.resolve_schedule_def("sbp_fetch_schedule")
    karachi = ZoneInfo("Asia/Karachi")

    def tick(day):
        context = dg.build_schedule_context(scheduled_execution_time=datetime(2026, 9, day, 15, tzinfo=karachi))
        return schedule.evaluate_tick(context)

    assert [r.run_key for r in tick(17).run_requests] == ["fetch-2026-09-17"]
    assert len(tick(25).run_requests) == 1  # nothing downloaded since the 16th: keep trying
    (tmp_path / "20260918-dt.xls.manifest.json").write_text('{"fetched_at": "2026-09-18T10:00:00+00:00"}')
    assert tick(25).run_requests == [] and "downloaded on 2026-09-18" in tick(25).skip_message
    assert len(tick(20).run_requests) == 1  # within the window: always


def test_the_instance_has_telemetry_off_and_one_run_at_a_time():
    import yaml

    config = yaml.safe_load((REPO / "dagster_home" / "dagster.yaml").read_text())
    assert config["telemetry"]["enabled"] is False
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1
