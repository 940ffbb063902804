"""Releases in, releases out: from the files present to raw, with quarantine.

`scan_files` reads every release file once: the releases they hold, and one error per file that
cannot be read (which is quarantined, never a blockade). `ingest` brings raw in line with a
scan: releases whose file is gone are removed, new or changed releases are staged in bulk,
validated together by Great Expectations (one run per suite), and those that pass replace their
previous rows in one transaction. A release that fails is left out (its previous good version,
if it had one, stays) and is listed, with the file and the rules it broke, in raw.rejected_files
until its file changes or goes. No Dagster here: the asset wires it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from orchestration.lib import progress, record
from orchestration.lib.release import Release, ReleaseFileError, file_sha256
from orchestration.lib.warehouse import (
    PUBLICATION,
    RAW_FIGURES,
    RAW_REJECTED,
    LoadOutcome,
    ValidationOutcome,
    commit_staged,
    delete_release,
    ensure_raw_tables,
    loaded_releases,
    record_validations,
    replace_rejected,
    stage_releases,
    validated_rules,
    validation_row,
)


@dataclass
class FileScan:
    """What the release files present say: their releases, and the files that cannot be read."""

    releases: dict[str, Release] = field(default_factory=dict)  # by id, oldest first
    errors: list[ReleaseFileError] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # file name -> sha256, every file present

    @property
    def fingerprint(self) -> str:
        """One hash of every file present (name and content): equal fingerprints, equal inputs."""
        return files_fingerprint(self.files)

    @property
    def errors_by_file(self) -> dict[str, ReleaseFileError]:
        return {Path(e.path).name: e for e in self.errors}

    @property
    def unreadable_files(self) -> set[str]:
        return set(self.errors_by_file)


def files_fingerprint(files: dict[str, str]) -> str:
    """One hash of files by name -> sha256 (FileScan.fingerprint), computable without parsing them."""
    digest = hashlib.sha256()
    for name, sha in sorted(files.items()):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


def present_files_fingerprint(files: Iterable[tuple[Path, bool]]) -> str | None:
    """The fingerprint the scan of these files would have, from their bytes alone; None when one
    cannot be read (the scan will say why)."""
    try:
        return files_fingerprint({path.name: file_sha256(path) for path, _ in files})
    except OSError:
        return None


# The releases of the files read by the last scan of this process, by (path, sha256, bundled,
# limit): `itx build` plans from a scan and its in-process Dagster run scans again, and a file
# whose bytes are unchanged is not parsed twice. Only the last scan's files are kept.
_parsed: dict[tuple, list[Release]] = {}


def held_files(conn: duckdb.DuckDBPyConnection, rules: str) -> dict[str, tuple[str, list[Release]]]:
    """The files whose every release raw holds as loaded from them, validated under `rules`:
    {file name: (sha256, its releases read back from raw, without their figures)}.

    A file present with the same bytes need not be parsed again: a build with one new file reads
    that file, not the year of daily downloads beside it. A file with a release quarantined now
    (raw does not hold all of it) or validated under other rules is not listed: it is read.
    The caller vouches that the code that loaded raw is the code running (the publication's
    project fingerprint)."""
    ensure_raw_tables(conn)
    rows = conn.execute(
        f"""
        select source_file, release_id, any_value(source_file_sha256), count(distinct source_file_sha256),
            any_value(publisher), any_value(published_on_date), any_value(published_on_estimated),
            any_value(release_sha256), any_value(source_format), count(*)
        from {RAW_FIGURES}
        group by source_file, release_id
        """
    ).fetchall()
    validated = validated_rules(conn)
    quarantined = {r[0] for r in conn.execute(f"select distinct source_file from {RAW_REJECTED}").fetchall()}
    by_file: dict[str, list] = {}
    for row in rows:
        by_file.setdefault(row[0], []).append(row)
    held = {}
    for name, releases in by_file.items():
        shas = {r[2] for r in releases}
        if name in quarantined or len(shas) != 1 or any(r[3] != 1 or validated.get(r[1]) != rules for r in releases):
            continue
        stubs = []
        for _, rid, sha, _, publisher, published_on, estimated, release_sha, source_format, count in releases:
            stub = Release(
                rid,
                publisher,
                published_on,
                estimated,
                Path(name),
                sha,
                source_format=source_format,
                held_figures=count,
            )
            stub.__dict__["release_sha256"] = release_sha  # the cached property, as it was loaded
            stubs.append(stub)
        held[name] = (shas.pop(), stubs)
    return held


def scan_files(
    files: Iterable[tuple[Path, bool]],
    *,
    max_bytes: int | None = None,
    held: dict[str, tuple[str, list[Release]]] | None = None,
) -> FileScan:
    """Read each file on its own: a file that cannot be read is one error, and the others go on.
    A file `held` lists with the same bytes is not read: its releases are those raw holds."""
    global _parsed
    scan = FileScan()
    found: dict[str, Release] = {}
    parsed: dict[tuple, list[Release]] = {}
    files = list(files)
    progress.report("read", 0, total=len(files))
    for path, bundled in files:
        try:
            sha256 = scan.files[path.name] = file_sha256(path)
            key = (str(path.resolve()), sha256, bundled, max_bytes)
            releases = _parsed.get(key)
            if releases is None and held and held.get(path.name, ("",))[0] == sha256:
                releases = [
                    dataclasses.replace(stub, source_file=path, figures=[], bundled=bundled)
                    for stub in held[path.name][1]
                ]
                for stub, release in zip(held[path.name][1], releases, strict=True):
                    release.__dict__["release_sha256"] = stub.release_sha256
            if releases is None:
                releases = record.read_release_file(path, bundled=bundled, max_bytes=max_bytes)
            parsed[key] = releases
            clash = next((r for r in releases if r.release_id in found), None)
            if clash is not None:
                raise ReleaseFileError(
                    path,
                    None,
                    "release id",
                    f"release {clash.release_id} is also in {found[clash.release_id].source_file.name}; "
                    "rename one of the files",
                )
        except ReleaseFileError as exc:
            scan.errors.append(exc)
            progress.report("read")
            continue
        except OSError as exc:
            scan.errors.append(ReleaseFileError(path, None, "unreadable", str(exc.strerror or exc)))
            progress.report("read")
            continue
        for release in releases:
            found[release.release_id] = release
        progress.report("read")
    _parsed = parsed
    scan.releases = dict(sorted(found.items(), key=lambda kv: (kv[1].published_on, kv[0])))
    return scan


def releases_to_load(
    conn: duckdb.DuckDBPyConnection, scan: FileScan, rules: str, force: Iterable[str] = ()
) -> list[str]:
    """Releases that need validating: new, changed, validated under other rules, or forced."""
    ensure_raw_tables(conn)
    loaded = loaded_releases(conn)
    validated = validated_rules(conn)
    forced = set(force)
    return [
        rid
        for rid, release in scan.releases.items()
        if rid in forced or loaded.get(rid, (None,))[0] != release.release_sha256 or validated.get(rid) != rules
    ]


def removed_releases(conn: duckdb.DuckDBPyConnection, scan: FileScan) -> list[str]:
    """Releases in raw that no file holds any more. A file that cannot be read now keeps the
    releases it held when it last could (its previous good version stays)."""
    return sorted(
        rid
        for rid, (_, source_file) in loaded_releases(conn).items()
        if rid not in scan.releases and source_file not in scan.unreadable_files
    )


def remove_gone_releases(conn: duckdb.DuckDBPyConnection, scan: FileScan) -> list[LoadOutcome]:
    """Delete, in one transaction, the releases no file holds any more (see removed_releases)."""
    loaded = loaded_releases(conn)
    removed = removed_releases(conn, scan)
    if removed:
        conn.execute("begin transaction")
        for rid in removed:
            delete_release(conn, rid, keep_validations=False)
        conn.execute("commit")
    return [LoadOutcome(rid, loaded[rid][1], "removed", 0) for rid in removed]


@dataclass
class IngestReport:
    outcomes: list[LoadOutcome]
    file_errors: list[ReleaseFileError]
    frame_failures: list[dict] = field(default_factory=list)

    def by_status(self, status: str) -> list[LoadOutcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def changed(self) -> bool:
        return any(o.status in ("loaded", "removed") for o in self.outcomes)


Validator = Callable[[duckdb.DuckDBPyConnection], tuple[dict[str, ValidationOutcome], list[dict]]]


def ingest(
    conn: duckdb.DuckDBPyConnection,
    scan: FileScan,
    to_load: list[str],
    validate: Validator,
    *,
    loaded_at: datetime,
    run_id: str | None,
    rules: str,
    unchanged: Iterable[str] = (),
) -> IngestReport:
    """Bring raw in line with the scan for the releases `to_load` (and remove the gone ones)."""
    ensure_raw_tables(conn)
    outcomes: list[LoadOutcome] = remove_gone_releases(conn, scan)

    releases = [scan.releases[rid] for rid in to_load if rid in scan.releases]
    releases = _with_figures(releases)
    validations = []
    if releases:
        stage_releases(conn, releases, loaded_at)
        results, frame_failures = validate(conn)
        passed = [r.release_id for r in releases if results[r.release_id].success]
        commit_staged(conn, passed)
        for release in releases:
            outcome = results[release.release_id]
            status = "loaded" if outcome.success else "rejected"
            outcomes.append(
                LoadOutcome(release.release_id, release.source_file.name, status, release.figure_count, outcome)
            )
            validations.append(validation_row(release, outcome, loaded_at, run_id, rules))
        record_validations(conn, validations)
        conn.execute("drop table if exists staged_figures")
        conn.execute("drop table if exists staged_header_periods")
    else:
        frame_failures = []
    for rid in unchanged:
        if rid in scan.releases and rid not in to_load:
            release = scan.releases[rid]
            outcomes.append(LoadOutcome(rid, release.source_file.name, "unchanged", release.figure_count))

    _rewrite_quarantine(conn, scan, outcomes, loaded_at)
    return IngestReport(outcomes, list(scan.errors), frame_failures)


def _with_figures(releases: list[Release]) -> list[Release]:
    """The releases to load, each with its figures: a release whose figures are not in memory (read
    back from raw by held_files, or let go after a build) is read from its file again. A file that
    no longer holds the same release stops the ingest: the next build will see the change."""
    wanted = {(r.source_file, bool(r.bundled)) for r in releases if r.held_figures is not None}
    if not wanted:
        return releases
    fresh: dict[str, Release] = {}
    for path, bundled in wanted:
        for release in record.read_release_file(path, bundled=bundled, max_bytes=path.stat().st_size):
            fresh[release.release_id] = release
    complete = []
    for release in releases:
        if release.held_figures is None:
            complete.append(release)
            continue
        again = fresh.get(release.release_id)
        if again is None or again.release_sha256 != release.release_sha256:
            raise ReleaseFileError(
                release.source_file, None, "changed", f"release {release.release_id} changed while it was being built"
            )
        complete.append(again)
    return complete


def _rewrite_quarantine(conn, scan: FileScan, outcomes: list[LoadOutcome], at: datetime) -> None:
    """raw.rejected_files: the files that cannot be read now, and the releases rejected by this
    run or by an earlier one whose file has not changed since."""
    rows = [(Path(e.path).name, None, e.rule, str(e), at, None) for e in scan.errors]
    decided = {o.release_id for o in outcomes}
    for o in outcomes:
        if o.status == "rejected":
            release = scan.releases[o.release_id]
            rules = "; ".join(dict.fromkeys(f["rule"] or f["expectation"] for f in o.validation.failures))
            rows.append(
                (
                    o.source_file,
                    o.release_id,
                    rules,
                    o.validation.describe(o.release_id, o.source_file),
                    at,
                    release.release_sha256,
                )
            )
    for source_file, rid, rule, detail, when, sha in conn.execute(
        f"select source_file, release_id, rule, detail, rejected_at, release_sha256 from {RAW_REJECTED} "
        "where release_id is not null"
    ).fetchall():
        release = scan.releases.get(rid)
        if rid not in decided and release is not None and release.release_sha256 == sha:
            rows.append((source_file, rid, rule, detail, when, sha))
    replace_rejected(conn, rows)


def sync_with_files(conn: duckdb.DuckDBPyConnection, scan: FileScan, *, rules: str, project_fingerprint: str) -> str:
    """Before dbt: raw follows the files that are present, and the state notes which files it
    stands for. Releases whose file is gone are removed, unreadable files are listed in
    raw.rejected_files, and meta.publication records the files' fingerprint, or none when some
    release still waits for its ingest (so that `itx build` knows the published state is behind)."""
    ensure_raw_tables(conn)
    removed = remove_gone_releases(conn, scan)
    now = datetime.now()
    _rewrite_quarantine(conn, scan, removed, now)
    rejected = {
        (rid, sha)
        for rid, sha in conn.execute(
            f"select release_id, release_sha256 from {RAW_REJECTED} where release_id is not null"
        ).fetchall()
    }
    pending = [
        rid for rid in releases_to_load(conn, scan, rules) if (rid, scan.releases[rid].release_sha256) not in rejected
    ]
    releases, figures = conn.execute(f"select count(distinct release_id), count(*) from {RAW_FIGURES}").fetchone()
    conn.execute("begin transaction")
    conn.execute(f"delete from {PUBLICATION}")
    conn.execute(
        f"insert into {PUBLICATION} values (?, ?, ?, ?, ?)",
        [None if pending else scan.fingerprint, project_fingerprint, now, releases, figures],
    )
    conn.execute("commit")
    return (
        f"raw holds {releases} releases ({figures} figures); {len(removed)} removed with their files; "
        f"{len(scan.errors)} unreadable file(s)"
        + (f"; {len(pending)} release(s) not ingested yet: {', '.join(pending[:5])}" if pending else "")
    )


def published_state(conn: duckdb.DuckDBPyConnection) -> dict | None:
    """What a warehouse says it was built from (meta.publication), or None."""
    try:
        row = conn.execute(
            "select files_fingerprint, project_fingerprint, published_at, releases, figures from meta.publication"
        ).fetchone()
    except duckdb.CatalogException:
        return None
    if row is None:
        return None
    return dict(
        zip(("files_fingerprint", "project_fingerprint", "published_at", "releases", "figures"), row, strict=True)
    )
