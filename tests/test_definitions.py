"""The Dagster code location loads with the expected assets, checks, jobs, schedule and sensors;
the sensors, the schedule and the fetch take their paths from the same resources as the assets;
importing the definitions resolves and writes nothing."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pytest
from conftest import REPO

from orchestration.defs.resources import FetchResource, FetchTargetConfig, ReleaseFilesResource

# the definitions need dbt's manifest (`itx manifest` runs dbt parse when the project changed),
# a test runs the fetch job, another imports the code location in a process of its own
pytestmark = pytest.mark.dagster


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from orchestration.definitions import build_defs

    return build_defs()


def release_files_in(root: Path, defaults: ReleaseFilesResource) -> ReleaseFilesResource:
    """The default resource with a releases folder and an inbox of its own (both empty) under root."""
    (root / "releases").mkdir()
    (root / "inbox").mkdir()
    return ReleaseFilesResource(
        releases_dir=str(root / "releases"),
        inbox=str(root / "inbox"),
        seeds_dir=defaults.seeds_dir,
        expectations_dir=defaults.expectations_dir,
        gx_dir=defaults.gx_dir,
        reports_dir=defaults.reports_dir,
        max_file_bytes=defaults.max_file_bytes,
    )


def moved_defs(**resources) -> dg.Definitions:
    from orchestration.definitions import build_defs

    return build_defs(resources=resources)


def code_location_resources(definitions: dg.Definitions) -> dict:
    """The resources the daemon gives a sensor or a schedule: the code location's top-level ones."""
    return dict(definitions.get_repository_def().get_top_level_resources())


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


def test_the_schedule_fetches_in_the_release_window_and_skips_after_a_download(defs, tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    moved = moved_defs(release_files=release_files_in(tmp_path, defs.resources["release_files"]))
    karachi = ZoneInfo("Asia/Karachi")

    def tick(day, definitions=moved):
        schedule = definitions.resolve_schedule_def("sbp_fetch_schedule")
        context = dg.build_schedule_context(
            scheduled_execution_time=datetime(2026, 9, day, 15, tzinfo=karachi),
            resources=code_location_resources(definitions),
        )
        return schedule.evaluate_tick(context)

    assert [r.run_key for r in tick(17).run_requests] == ["fetch-2026-09-17"]
    assert len(tick(25).run_requests) == 1  # nothing downloaded since the 16th: keep trying
    (tmp_path / "inbox" / "20260918-dt.xls.manifest.json").write_text('{"fetched_at": "2026-09-18T10:00:00+00:00"}')
    assert tick(25).run_requests == [] and "downloaded on 2026-09-18" in tick(25).skip_message
    assert len(tick(20).run_requests) == 1  # within the window: always
    # the download is in the resource's inbox, not in the default one
    assert len(tick(25, definitions=defs).run_requests) == 1


def test_overriding_release_files_moves_the_inbox_sensor(defs, tmp_path, write_release):
    """The sensor scans the resource the assets get: a file dropped in the overridden inbox starts
    a run, one dropped in the default inbox is not seen."""
    moved_files = release_files_in(tmp_path, defs.resources["release_files"])
    moved = moved_defs(release_files=moved_files)
    row = ["2026-10", "ict_total", "402000", "month", "SBP", "2026-11-18", "https://example.org/oct", "", "source"]
    write_release("sbp_moved.csv", [row], directory=Path(moved_files.inbox))
    default_inbox = Path(defs.resources["release_files"].inbox)
    default_inbox.mkdir(parents=True, exist_ok=True)
    elsewhere = write_release("sbp_elsewhere.csv", [row], directory=default_inbox)
    try:
        with dg.instance_for_test() as instance:
            sensor = moved.resolve_sensor_def("release_inbox_sensor")
            context = dg.build_sensor_context(instance=instance, resources=code_location_resources(moved))
            result = sensor(context)
    finally:
        elsewhere.unlink()
    assert [r.partition_key for r in result.run_requests] == ["sbp-2026-11-18-sbp-moved"]
    assert json.loads(result.cursor)["files"].keys() == {"sbp_moved.csv"}


class _Files(BaseHTTPRequestHandler):
    """Serves two release files on 127.0.0.1 and records every request's path and query."""

    bodies = {
        "/ecodata/dt.xls": (bytes.fromhex("d0cf11e0a1b11ae1") + b"EBOPS", "application/vnd.ms-excel"),
        "/api/series.csv": (b'"Dataset Name","Observation Date"\r\n', "text/csv"),
    }
    seen: list[tuple[str, dict]] = []

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        parts = urlsplit(self.path)
        self.seen.append((parts.path, parse_qs(parts.query)))
        body, content_type = self.bodies.get(parts.path, (b"not found", "text/plain"))
        self.send_response(200 if parts.path in self.bodies else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def file_server(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _Files.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_the_fetch_downloads_the_fetch_resources_targets_into_the_release_files_inbox(
    defs, tmp_path, file_server, monkeypatch
):
    monkeypatch.setenv("ITX_TEST_EASYDATA_KEY", "s3cr3t")
    moved_files = release_files_in(tmp_path, defs.resources["release_files"])
    fetch = FetchResource(
        targets=[
            FetchTargetConfig(name="ebops_workbook", url=f"{file_server}/ecodata/dt.xls"),
            FetchTargetConfig(name="easydata_trdser", url=f"{file_server}/api/series.csv", needs_api_key=True),
        ],
        easydata_api_key=dg.EnvVar("ITX_TEST_EASYDATA_KEY"),  # resolved when the run starts
    )
    moved = moved_defs(release_files=moved_files, fetch=fetch)
    default_inbox = Path(defs.resources["release_files"].inbox)
    before = set(default_inbox.iterdir()) if default_inbox.exists() else set()
    with dg.instance_for_test() as instance:
        result = moved.resolve_job_def("fetch_job").execute_in_process(instance=instance)
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.materialization.metadata["downloaded"].value == 2
    inbox = Path(moved_files.inbox)
    stored = sorted(p.name for p in inbox.iterdir() if not p.name.endswith(".manifest.json"))
    assert len(stored) == 2 and any(name.endswith("dt.xls") for name in stored)
    assert (set(default_inbox.iterdir()) if default_inbox.exists() else set()) == before
    # the key went to the target that needs it, and only there
    queries = dict(_Files.seen)
    assert queries["/api/series.csv"]["api_key"] == ["s3cr3t"] and "api_key" not in queries["/ecodata/dt.xls"]


def test_the_default_fetch_resource_names_the_key_never_holds_it(monkeypatch):
    from orchestration.settings import get_settings

    monkeypatch.setenv("ITX_EASYDATA_API_KEY", "s3cr3t")
    monkeypatch.setenv("ITX_FETCH_EASYDATA_URL", "https://easydata.example/api/series.csv")
    resource = FetchResource.from_settings(get_settings())
    assert "easydata_trdser" in [t.name for t in resource.targets]
    assert isinstance(resource.easydata_api_key, dg.EnvVar) and "s3cr3t" not in repr(resource)
    monkeypatch.delenv("ITX_EASYDATA_API_KEY")
    assert FetchResource.from_settings(get_settings()).easydata_api_key is None


IMPORT_PROBE = """
import importlib, json, os, pkgutil
before = dict(os.environ)
import dagster_dbt
made = []
new = dagster_dbt.DbtProject.__new__
def counted(cls, *args, **kwargs):
    made.append(repr((args, kwargs)))
    return new(cls, *args, **kwargs)
dagster_dbt.DbtProject.__new__ = counted
import orchestration.defs
names = [f"orchestration.defs.{m.name}" for m in pkgutil.iter_modules(orchestration.defs.__path__)]
for name in names + ["orchestration.definitions"]:
    importlib.import_module(name)
changed = sorted(k for k in before.keys() | os.environ.keys() if before.get(k) != os.environ.get(k))
print(json.dumps({"modules": names, "changed": changed, "dbt_projects": made}))
"""


def test_importing_the_definitions_resolves_and_writes_nothing(dbt_manifest):
    """orchestration.defs.resources and every module of the code location import without writing
    an environment variable, making a DbtProject or touching dbt's manifest (in a clean environment,
    under `dagster dev`, where a DbtProject made at import would parse the project)."""
    manifest = REPO / "dbt_project" / "target" / "manifest.json"
    stamp = manifest.stat().st_mtime_ns if manifest.exists() else None
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DAGSTER_IS_DEV_CLI": "1"}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert "orchestration.defs.resources" in probe["modules"]
    assert probe["changed"] == [] and probe["dbt_projects"] == []
    assert (manifest.stat().st_mtime_ns if manifest.exists() else None) == stamp


def test_the_instance_has_telemetry_off_and_one_run_at_a_time():
    import yaml

    config = yaml.safe_load((REPO / "dagster_home" / "dagster.yaml").read_text())
    assert config["telemetry"]["enabled"] is False
    assert config["concurrency"]["runs"]["max_concurrent_runs"] == 1
