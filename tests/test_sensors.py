"""The inbox sensor turns a new release file into a partition and a run, and reports bad files."""

import json
import os
import shutil
from pathlib import Path

import dagster as dg
from conftest import REPO

from orchestration.defs.release_discovery import scan_releases
from orchestration.defs.sensors import release_inbox_sensor


def test_a_file_dropped_in_the_inbox_becomes_a_release_run(write_release):
    inbox = Path(os.environ["ITX_INBOX"])
    with dg.instance_for_test() as instance:
        first = release_inbox_sensor(dg.build_sensor_context(instance=instance))
        bundled = {r.partition_key for r in first}
        assert len(bundled) > 100  # every bundled release, on a fresh instance
        cursor = json.dumps({r.partition_key: r.run_key.split(":", 1)[1] for r in first})

        quiet = release_inbox_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
        assert isinstance(quiet, dg.SkipReason)

        workbook = inbox / "dt.xls"
        shutil.copy(REPO / "tests" / "fixtures" / "sbp" / "ebops_jul-may_fy26.xls", workbook)
        path = write_release(
            "sbp_nov.csv",
            [
                [
                    "2026-10",
                    "ict_total",
                    "402000",
                    "month",
                    "SBP",
                    "2026-11-18",
                    "https://example.org/oct",
                    "",
                    "source",
                ],
            ],
            directory=inbox,
        )
        (bad := inbox / "notes.csv").write_text("hello,world\n")
        try:
            context = dg.build_sensor_context(instance=instance, cursor=cursor)
            requests = release_inbox_sensor(context)
            keys = sorted(r.partition_key for r in requests)
            assert keys[0] == "sbp-2026-11-18-sbp-nov" and keys[1].startswith("sbp-") and keys[1].endswith("-dt")
            assert len(keys) == 2
            assert set(keys) <= set(instance.get_dynamic_partitions("release"))
            _, errors = scan_releases()
            assert len(errors) == 1 and "notes.csv: format: not a release file" in errors[0]
            assert bad.exists()  # reported, and left where it is
        finally:
            path.unlink()
            bad.unlink()
            workbook.unlink()
