"""Runs of processes that died (kill -9, a crash, a power cut) are found and marked failed, so
that they hold nothing: no run-queue place and no pool slot. `itx build` tags its in-process
runs with its PID and host; the daemon's own runs are watched by Dagster's run monitoring
(dagster_home/dagster.yaml)."""

import os
import socket

import dagster as dg

PID_TAG = "itx/pid"
HOST_TAG = "itx/host"


def process_tags() -> dict[str, str]:
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs whose process (on this host) is gone; returns their ids."""
    unfinished = [
        dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED,
        dg.DagsterRunStatus.CANCELING,
    ]
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=unfinished)):
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if not pid or host != socket.gethostname() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"process {pid} ended without finishing the run (killed?)")
        free = getattr(instance.event_log_storage, "free_concurrency_slots_for_run", None)
        if free is not None:
            try:
                free(run.run_id)
            except Exception:  # noqa: BLE001 -- storage without pools
                pass
        failed.append(run.run_id)
    return failed
