"""How the warehouse changes without a reader ever seeing a half-built state.

Readers (`itx sql`, notebooks, BI tools, the brief) open the *published* warehouse file
read-only. Writers never touch it: every write goes to a private copy, the *staging*
warehouse, in a hidden folder beside it (`.warehouse.duckdb.build/warehouse.duckdb`: the same
file name, because DuckDB names the database after the file and dbt's views refer to it by that
name). When the ingest, dbt and the brief have all succeeded on the staging copy, it replaces
the published file with one `os.replace` (atomic on POSIX), and the brief's files follow.

- A failed or killed build leaves the published warehouse as it was; the staging copy is either
  reused by the next writer (it is still based on the published file) or thrown away.
- A reader holding the published file open keeps reading the old file until it reconnects;
  it never blocks a build, since no writer opens the published file.
- One writer at a time: an exclusive `flock` on a lock file beside the warehouse. The OS frees
  it when the holder dies (kill -9 included), so a dead build never blocks the next one. The
  holder writes its PID into the lock file, for the message the next writer prints.

Pure Python and DuckDB: no Dagster.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

LOCK_WAIT_SECONDS = 10.0
_STATE = "state.json"


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse."""


@dataclass(frozen=True)
class WarehousePaths:
    """Every file of one warehouse, derived from the published path (its one home)."""

    published: Path

    @property
    def build_dir(self) -> Path:
        return self.published.parent / f".{self.published.name}.build"

    @property
    def staging(self) -> Path:
        return self.build_dir / self.published.name

    @property
    def staging_reports(self) -> Path:
        return self.build_dir / "reports"

    @property
    def lock_file(self) -> Path:
        return self.published.parent / f".{self.published.name}.lock"

    @property
    def state_file(self) -> Path:
        return self.build_dir / _STATE


# ---------------------------------------------------------------------------------------------
# The writer lock


class _Held:
    """Locks this process holds, by lock file; re-entrant so that `itx build` can hold the lock
    for the whole build while the Dagster steps it runs in-process take it again."""

    def __init__(self):
        self.lock = threading.Lock()
        self.files: dict[str, tuple[object, int]] = {}


_held = _Held()


def lock_holder(paths: WarehousePaths) -> str:
    """Who holds the lock, as its holder wrote it (PID, command, since when); '' if unknown."""
    try:
        info = json.loads(paths.lock_file.read_text() or "{}")
    except (OSError, ValueError):
        return ""
    if not info:
        return ""
    return f"PID {info.get('pid')} on {info.get('host')} ({info.get('command')}, since {info.get('since')})"


@contextmanager
def writer_lock(paths: WarehousePaths, wait_seconds: float = LOCK_WAIT_SECONDS, purpose: str = ""):
    """Hold the warehouse's writer lock, waiting up to `wait_seconds` for another writer."""
    key = str(paths.lock_file)
    with _held.lock:
        if key in _held.files:
            fh, depth = _held.files[key]
            _held.files[key] = (fh, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held.lock:
                fh, depth = _held.files[key]
                _held.files[key] = (fh, depth - 1)
        return

    paths.lock_file.parent.mkdir(parents=True, exist_ok=True)
    fh = open(paths.lock_file, "a+")  # noqa: SIM115 -- held across the yield
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.close()
                holder = lock_holder(paths) or "another process"
                raise WarehouseBusy(
                    f"the warehouse {paths.published} is being written by {holder}; waited {wait_seconds:.0f} s. "
                    "Wait for that build to finish (or stop it), then run again."
                ) from None
            time.sleep(0.2)
    fh.seek(0)
    fh.truncate()
    fh.write(
        json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "command": purpose or " ".join(os.path.basename(a) for a in sys.argv[:2]),
                "since": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
    )
    fh.flush()
    with _held.lock:
        _held.files[key] = (fh, 1)
    try:
        yield
    finally:
        with _held.lock:
            _, depth = _held.files[key]
            if depth <= 1:
                del _held.files[key]
                release = True
            else:
                _held.files[key] = (fh, depth - 1)
                release = False
        if release:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()


def holds_lock(paths: WarehousePaths) -> bool:
    with _held.lock:
        return str(paths.lock_file) in _held.files


# ---------------------------------------------------------------------------------------------
# Staging and publishing


def _identity(path: Path) -> list | None:
    """What tells one published file from another: inode, size and modification time."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def _read_state(paths: WarehousePaths) -> dict:
    try:
        return json.loads(paths.state_file.read_text())
    except (OSError, ValueError):
        return {}


def prepare_staging(paths: WarehousePaths) -> Path:
    """The staging warehouse, ready to write (call with the writer lock held).

    Reused when it was copied from the file that is published now (a previous writer's work not
    yet published, e.g. an ingest waiting for dbt); otherwise made afresh from the published
    file (or empty when nothing is published yet). The copy goes to a temporary name first, so a
    kill in the middle of copying never leaves a truncated staging file behind.
    """
    assert holds_lock(paths), "prepare_staging needs the writer lock"
    base = _identity(paths.published)
    state = _read_state(paths)
    if paths.staging.exists() and state.get("base") == base and not _locked_by_another_process(paths.staging):
        return paths.staging
    if paths.build_dir.exists():
        shutil.rmtree(paths.build_dir)
    paths.build_dir.mkdir(parents=True)
    if base is not None:
        partial = paths.build_dir / f"{paths.published.name}.partial"
        shutil.copyfile(paths.published, partial)
        os.replace(partial, paths.staging)
    paths.state_file.write_text(json.dumps({"base": base, "prepared_at": datetime.now(UTC).isoformat()}))
    return paths.staging


def _locked_by_another_process(path: Path) -> bool:
    """Whether another process has the file open in DuckDB (which holds a POSIX lock on it): a
    `dbt build` left running after its `itx build` was killed, say. Its copy is then abandoned to
    it and a fresh one made. Called before this process opens the file itself: closing the probe
    drops this process's own POSIX locks on the file."""
    try:
        with open(path, "r+b") as fh:
            try:
                fcntl.lockf(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.lockf(fh.fileno(), fcntl.LOCK_UN)
    except OSError:
        return True
    return False


def discard_staging(paths: WarehousePaths) -> None:
    if paths.build_dir.exists():
        shutil.rmtree(paths.build_dir, ignore_errors=True)


def has_unpublished_work(paths: WarehousePaths) -> bool:
    """A staging copy exists that is based on the published file (work not yet published)."""
    return paths.staging.exists() and _read_state(paths).get("base") == _identity(paths.published)


def publish(paths: WarehousePaths, reports_dir: Path | None) -> None:
    """Make the staging warehouse (and the brief written beside it) the published one.

    The caller has closed every connection to the staging file (DuckDB checkpoints on close, so
    the file holds everything). The brief's files go first, then the warehouse is replaced in one
    rename; briefs of months the new warehouse no longer has are removed.
    """
    assert holds_lock(paths), "publish needs the writer lock"
    if Path(f"{paths.staging}.wal").exists():
        import duckdb

        conn = duckdb.connect(str(paths.staging))
        conn.execute("checkpoint")
        conn.close()
    with open(paths.staging, "rb") as fh:
        os.fsync(fh.fileno())
    # The brief first: a kill between the two leaves the old warehouse published, which the next
    # build sees as out of date and rebuilds (the other order could leave a stale brief behind).
    if reports_dir is not None and paths.staging_reports.is_dir():
        publish_reports(paths.staging_reports, reports_dir)
    paths.published.parent.mkdir(parents=True, exist_ok=True)
    os.replace(paths.staging, paths.published)
    discard_staging(paths)


def publish_reports(staged: Path, reports_dir: Path) -> None:
    """Move the freshly written brief into the reports folder, file by file (each os.replace is
    atomic), then remove the briefs of months later than the new brief's (their month no longer
    exists in the warehouse)."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    newest = None
    for path in sorted(staged.iterdir()):
        if path.name.startswith("ict_exports_brief_"):
            newest = max(newest or "", path.name.split("_")[-1].split(".")[0])
        os.replace(path, reports_dir / path.name)
    if newest:
        for old in reports_dir.glob("ict_exports_brief_*"):
            if old.name.split("_")[-1].split(".")[0] > newest:
                old.unlink()
