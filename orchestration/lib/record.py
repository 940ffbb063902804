"""Reading release files of any format into releases: the format dispatch above the parsers.

A release is what one publisher put out on one day (release.Release). A file's format is
recognised from its content (sources/detect.py) and the file handed to its parser: the
record's own layout (sources/record_csv.py) or one of SBP's (sources/easydata.py,
ebops_workbook.py, bpm6_summary.py), which map EBOPS lines through the series hierarchy. Pure
Python, no Dagster: the asset, the sensor, the CLI and the tests all group files into releases
through `read_release_file`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

from orchestration.lib.hierarchy import Hierarchy, hierarchy_csv, load_hierarchy
from orchestration.lib.release import (
    BPM6_SUMMARY,
    EASYDATA_CSV,
    EASYDATA_JSON,
    EBOPS_WORKBOOK,
    MANIFEST_SUFFIX,
    RECORD_CSV,
    Figure,
    Release,
    ReleaseFileError,
    read_manifest,
    release_id_for,
)
from orchestration.lib.sources.base import ParsedSource
from orchestration.lib.sources.detect import identify_format
from orchestration.lib.sources.easydata import parse_easydata_csv, parse_easydata_json
from orchestration.lib.sources.record_csv import read_record_csv
from orchestration.settings import get_settings

# A file over this size is refused before it is read; settings pass ITX_MAX_FILE_MB instead.
MAX_RELEASE_FILE_BYTES = 20 * 1024 * 1024
MAX_FILE_MB_VARIABLE = "ITX_MAX_FILE_MB"
_MB = 1024 * 1024


def read_release_file(
    path: Path, *, bundled: bool, max_bytes: int | None = None, hierarchy: Hierarchy | None = None
) -> list[Release]:
    """The releases in one file of any supported format, recognised from its content.

    Only what a release's identity needs is enforced here (a recognised layout, a known
    publisher, a date or a way to estimate one); every other rule is a Great Expectations
    expectation run on the loaded release, so it is reported with the release it belongs to.
    A file over max_bytes (default MAX_RELEASE_FILE_BYTES) is refused before it is read.
    SBP's files are mapped through `hierarchy`, by default the seed of the project's dbt seeds
    folder (settings), read only when an SBP file is.
    Raises ReleaseFileError naming the rule (release.RULES) and, where there is one, the row.
    """
    limit = MAX_RELEASE_FILE_BYTES if max_bytes is None else max_bytes
    _check_size(path, path.stat().st_size, limit)
    with path.open("rb") as fh:
        raw = fh.read(limit + 1)  # the file may have grown since stat
    _check_size(path, len(raw), limit)
    sha256 = hashlib.sha256(raw).hexdigest()
    file_format = identify_format(path)
    if file_format == RECORD_CSV:
        releases = read_record_csv(path, raw, sha256, bundled=bundled)
    else:
        if hierarchy is None:
            hierarchy = load_hierarchy(hierarchy_csv(get_settings().seeds_dir))
        releases = _read_sbp_file(path, file_format, sha256, hierarchy)
    for release in releases:
        release.bundled = bundled
    return releases


def _check_size(path: Path, size: int, limit: int) -> None:
    """Rule "size": '25.3 MB is over the limit of 20 MB (ITX_MAX_FILE_MB)'; in bytes as well
    when the two round to the same tenth of a MB."""
    if size <= limit:
        return
    size_text, limit_text = f"{size / _MB:.1f}", f"{limit / _MB:.1f}"
    detail = f"{size_text} MB is over the limit of {limit_text.removesuffix('.0')} MB"
    if float(size_text) <= float(limit_text):
        detail = f"{size_text} MB ({size:,} bytes) is over the limit of {limit_text} MB, {limit:,} bytes"
    raise ReleaseFileError(path, None, "size", f"{detail} ({MAX_FILE_MB_VARIABLE})")


def _read_sbp_file(path: Path, file_format: str, sha256: str, hierarchy: Hierarchy) -> list[Release]:
    """One SBP file (EasyData, EBOPS workbook, BPM6 summary) is one SBP release.

    Its date is the one the file states; else the day it was fetched (its manifest);
    else the day the file was written, marked estimated.
    """
    parsed = _parse_sbp_file(path, file_format, hierarchy)
    if not parsed.figures:
        raise ReleaseFileError(path, None, "content", f"{parsed.description or file_format}: no ICT export figures")
    manifest = read_manifest(path) or {}
    if parsed.stated_published_on:
        published_on, estimated, date_source = parsed.stated_published_on, False, "source"
    elif manifest.get("fetched_at"):
        published_on, estimated, date_source = date.fromisoformat(manifest["fetched_at"][:10]), False, "fetched"
    else:
        published_on = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()
        estimated, date_source = True, "file_date"
    source_url = manifest.get("url") or f"file:{quote(path.name)}"
    release = Release(
        release_id_for("SBP", published_on, estimated, path.stem),
        "SBP",
        published_on,
        estimated,
        path,
        sha256,
        source_format=file_format,
        header_periods=list(parsed.header_periods),
    )
    for f in parsed.figures:
        release.figures.append(
            Figure(
                f.source_row,
                f.period,
                f.series_code,
                f.value_usd_thousand,
                f.basis,
                "SBP",
                "" if estimated else published_on.isoformat(),
                source_url,
                "; ".join(x for x in (parsed.description, f.note) if x),
                date_source,
            )
        )
    return [release]


def _parse_sbp_file(path: Path, file_format: str, hierarchy: Hierarchy) -> ParsedSource:
    if file_format == EASYDATA_CSV:
        return parse_easydata_csv(path, hierarchy)
    if file_format == EASYDATA_JSON:
        return parse_easydata_json(path, hierarchy)
    # the workbook parsers pull in calamine: imported only when a workbook is read
    if file_format == EBOPS_WORKBOOK:
        from orchestration.lib.sources.ebops_workbook import parse_ebops_workbook

        return parse_ebops_workbook(path, hierarchy)
    if file_format == BPM6_SUMMARY:
        from orchestration.lib.sources.bpm6_summary import parse_bpm6_summary

        return parse_bpm6_summary(path, hierarchy)
    raise KeyError(file_format)


def is_release_candidate(path: Path) -> bool:
    """Files in the inbox worth reading: not hidden, not a fetch manifest, not a placeholder."""
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith(MANIFEST_SUFFIX)


def release_files(releases_dir: Path, inbox: Path) -> list[tuple[Path, bool]]:
    """The files to build from: the bundled releases, then the inbox, each in name order."""
    files = [(p, True) for p in sorted(releases_dir.glob("*.csv"))]
    if inbox.is_dir():
        files += [(p, False) for p in sorted(inbox.iterdir()) if is_release_candidate(p)]
    return files


def discover_releases(files: Iterable[tuple[Path, bool]], *, hierarchy: Hierarchy | None = None) -> dict[str, Release]:
    """Every release in the given files, by release id, oldest first."""
    found: dict[str, Release] = {}
    for path, bundled in files:
        for release in read_release_file(path, bundled=bundled, hierarchy=hierarchy):
            if release.release_id in found:
                other = found[release.release_id].source_file
                raise ReleaseFileError(path, None, "release id", f"release {release.release_id} is also in {other}")
            found[release.release_id] = release
    return dict(sorted(found.items(), key=lambda kv: (kv[1].published_on, kv[0])))
