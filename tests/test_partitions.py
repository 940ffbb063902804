"""Registering release partitions is safe when several processes do it at once (two `itx build`s,
the sensor), and the partitions of releases no file holds any more are deleted."""

import multiprocessing
import shutil

import dagster as dg
import pytest
from conftest import REPO

pytestmark = pytest.mark.dagster  # Dagster instances, in this process and in three others
IDS = [f"sbp-2026-{m:02d}-18" for m in range(1, 13)]


def _register(home, start):
    import os

    os.environ["DAGSTER_HOME"] = home
    from orchestration.defs.partitions import register_releases

    start.wait()
    register_releases(dg.DagsterInstance.get(), IDS)


def test_concurrent_registration_never_fails(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)):
        pass  # the instance's storage is made once, as the first build makes it
    ctx = multiprocessing.get_context("spawn")
    for _ in range(1):
        start = ctx.Event()
        procs = [ctx.Process(target=_register, args=(str(home), start)) for _ in range(3)]
        for p in procs:
            p.start()
        start.set()
        for p in procs:
            p.join(120)
        assert [p.exitcode for p in procs] == [0, 0, 0]
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert sorted(instance.get_dynamic_partitions("release")) == IDS
            for rid in IDS:
                instance.delete_dynamic_partition("release", rid)


def test_partitions_of_removed_files_are_deleted():
    from orchestration.defs.partitions import register_releases, retire_releases

    with dg.instance_for_test() as instance:
        assert register_releases(instance, IDS) == IDS
        assert register_releases(instance, IDS) == []
        assert retire_releases(instance, keep=IDS[:3]) == IDS[3:]
        assert instance.get_dynamic_partitions("release") == IDS[:3]
