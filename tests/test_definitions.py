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


def test_raw_releases_are_partitioned_by_release_and_checked_by_gx(defs):
    graph = defs.resolve_asset_graph()
    raw = graph.get(dg.AssetKey(["raw", "release_figures"]))
    assert raw.partitions_def == dg.DynamicPartitionsDefinition(name="release")
    check_keys = {k.name for k in graph.asset_check_keys if k.asset_key == raw.key}
    assert "gx_raw_release_figures" in check_keys
    spec = next(s for s in defs.resolve_assets_def(raw.key).check_specs if s.name == "gx_raw_release_figures")
    assert spec.blocking


def test_dbt_tests_are_asset_checks(defs):
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert any(name.startswith("unique_fct_ict_exports_monthly") for name in checks)
    assert "assert_fytd_equals_sum_of_fiscal_months" in checks


def test_the_marts_depend_on_the_raw_releases(defs):
    graph = defs.resolve_asset_graph()
    upstream = graph.get(dg.AssetKey(["staging", "stg_release_figures"])).parent_keys
    assert dg.AssetKey(["raw", "release_figures"]) in upstream
    assert (
        dg.AssetKey(["marts", "mart_ict_exports_growth_monthly"])
        in graph.get(dg.AssetKey(["reports", "monthly_brief"])).parent_keys
    )


def test_every_warehouse_writer_is_in_one_pool(defs):
    for key in ("raw/release_figures", "marts/mart_ict_exports_growth_monthly", "reports/monthly_brief"):
        assets_def = defs.resolve_assets_def(dg.AssetKey.from_user_string(key))
        assert assets_def.op.pool == "duckdb_warehouse", key


def test_jobs_schedule_and_sensors(defs):
    assert defs.resolve_job_def("ingest_job").partitions_def.name == "release"
    assert defs.resolve_job_def("transform_job")
    assert defs.resolve_job_def("fetch_job")
    schedule = defs.resolve_schedule_def("sbp_fetch_schedule")
    assert schedule.execution_timezone == "Asia/Karachi"
    assert schedule.job_name == "fetch_job"
    assert defs.resolve_sensor_def("release_inbox_sensor").job_name == "ingest_job"
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
    assert config["concurrency"]["pools"]["default_limit"] == 1
