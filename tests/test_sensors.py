"""The inbox sensor turns a new release file into a partition and a run, reports a bad file once
and never stalls on it; a removed file's partition goes; any finished ingest starts the transform."""

import json
import shutil
import uuid

import dagster as dg
import pytest
from conftest import REPO

from orchestration.defs.resources import ReleaseFilesResource
from orchestration.defs.sensors import release_inbox_sensor, transform_after_ingest
from orchestration.settings import get_settings

pytestmark = pytest.mark.dagster  # the code location's sensors, on Dagster test instances


def release_files() -> ReleaseFilesResource:
    return ReleaseFilesResource.from_settings(get_settings())  # the paths the environment names now


def tick(instance, cursor=None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"release_files": release_files()})
    result = release_inbox_sensor(context)
    return result, context.cursor


def apply_partition_requests(instance, result):
    for request in result.dynamic_partitions_requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def test_the_inbox_sensor_loads_new_files_reports_a_bad_one_once_and_goes_on(write_release, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    monkeypatch.setenv("ITX_INBOX", str(inbox))  # an inbox of its own, not the session's
    with dg.instance_for_test() as instance:
        first, cursor = tick(instance)
        bundled = {r.partition_key for r in first.run_requests}
        assert len(bundled) > 100  # every bundled release, on a fresh instance
        apply_partition_requests(instance, first)
        cursor = first.cursor

        quiet, _ = tick(instance, cursor)
        assert quiet.run_requests == [] and quiet.skip_reason

        workbook = inbox / "dt.xls"
        shutil.copy(REPO / "tests" / "fixtures" / "sbp" / "ebops_jul-may_fy26.xls", workbook)
        row = ["2026-10", "ict_total", "402000", "month", "SBP", "2026-11-18", "https://example.org/oct", "", "source"]
        path = write_release("sbp_nov.csv", [row], directory=inbox)
        (bad := inbox / "notes.csv").write_text("hello,world\n")
        try:
            result = release_inbox_sensor(
                context := dg.build_sensor_context(
                    instance=instance, cursor=cursor, resources={"release_files": release_files()}
                )
            )
            keys = sorted(r.partition_key for r in result.run_requests)
            assert keys[0] == "sbp-2026-11-18-sbp-nov" and keys[1].startswith("sbp-") and keys[1].endswith("-dt")
            assert len(keys) == 2  # the unreadable file blocks nothing
            added = [k for r in result.dynamic_partitions_requests for k in r.partition_keys]
            assert sorted(added) == keys
            assert bad.exists()  # reported, and left where it is
            assert "notes.csv" in json.loads(result.cursor)["errors"]
            apply_partition_requests(instance, result)

            # the next tick reports the bad file no more and requests nothing new
            again, _ = tick(instance, result.cursor)
            assert again.run_requests == []

            # the CSV goes: its partition is deleted and the transform removes its release
            path.unlink()
            gone, _ = tick(instance, again.cursor)
            deleted = [
                k
                for r in gone.dynamic_partitions_requests
                if isinstance(r, dg.DeleteDynamicPartitionsRequest)
                for k in r.partition_keys
            ]
            assert deleted == ["sbp-2026-11-18-sbp-nov"]
            assert [r.job_name for r in gone.run_requests] == ["transform_job"]
        finally:
            path.unlink(missing_ok=True)
            bad.unlink()
            workbook.unlink()
    del context


def test_any_finished_ingest_starts_the_transform():
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        assert isinstance(transform_after_ingest(context), dg.SkipReason)  # first tick: from now on
        cursor = context.cursor

        def finished(job_name, status, asset_selection=None, tags=None):
            instance.add_run(
                dg.DagsterRun(
                    job_name=job_name,
                    run_id=str(uuid.uuid4()),
                    status=status,
                    asset_selection=asset_selection,
                    tags=tags or {},
                )
            )

        finished("__ASSET_JOB", dg.DagsterRunStatus.FAILURE, {dg.AssetKey(["raw", "release_figures"])})
        request = transform_after_ingest(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert isinstance(request, dg.RunRequest)
        context = dg.build_sensor_context(instance=instance, cursor=cursor)
        transform_after_ingest(context)
        # a run of `itx build` runs its own transform; a fetch is no ingest
        finished("ingest_job", dg.DagsterRunStatus.SUCCESS, tags={"itx/build": "1"})
        finished("fetch_job", dg.DagsterRunStatus.SUCCESS)
        assert isinstance(
            transform_after_ingest(dg.build_sensor_context(instance=instance, cursor=context.cursor)), dg.SkipReason
        )
