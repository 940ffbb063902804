"""Reading files in the layout of the public record (published_figures.csv) into releases.

A release is what one publisher put out on one day: the figures of one
(publisher, published_on). Pure Python, no Dagster: the asset, the sensor, the CLI and the
tests all group files into releases through `read_release_file`.
"""

from __future__ import annotations

import calendar
import csv
import functools
import hashlib
import importlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from orchestration.lib.sources.base import (
    BPM6_SUMMARY,
    EASYDATA_CSV,
    EASYDATA_JSON,
    EBOPS_WORKBOOK,
    RECORD_CSV,
)

# A file over this size is refused before it is read; settings pass ITX_MAX_FILE_MB instead.
MAX_RELEASE_FILE_BYTES = 20 * 1024 * 1024
MAX_FILE_MB_VARIABLE = "ITX_MAX_FILE_MB"
_MB = 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"

# A fetched file's manifest lies beside it in the inbox as `<file>.manifest.json`.
MANIFEST_SUFFIX = ".manifest.json"

RECORD_COLUMNS = (
    "period",
    "series_code",
    "value_usd_thousand",
    "basis",
    "publisher",
    "published_on",
    "source_url",
    "note",
    "published_on_source",
)

# Usual days from the end of the reference period to publication, seen over FY23-FY26
# (FORMATS.md): SBP prints its monthly ICT figure 16-22 days after the month, PBS 3-8 weeks.
PUBLICATION_LAG_DAYS = {"SBP": 20, "PBS": 50}

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_SLUG = re.compile(r"[^a-z0-9]+")


# Every rule a ReleaseFileError can name, and what it means. The message is
# "<path>[, row N]: <rule>: <detail>"; the detail says what was found.
RULES = {
    # the file as a whole (read_release_file, sources/detect.py)
    "size": "the file is over the size limit (ITX_MAX_FILE_MB); it is not read",
    "empty": "the file has no content (0 bytes, or only blanks and a byte order mark)",
    "encoding": "a text file that is not UTF-8: the row, byte offset and value of the first bad byte",
    "delimiter": "a CSV header of a known layout, separated by something other than commas",
    "header": "a header with some of a layout's columns, but columns missing, unknown, repeated or out of order",
    "json": "JSON that does not parse, or EasyData columns without rows",
    "workbook": "an .xls/.xlsx that calamine cannot read (truncated or corrupt)",
    "sheet": "a workbook that opens but has no sheet 'EBOPS ' nor 'BPM6_Summary'",
    "format": "a file that resembles none of the formats this warehouse reads",
    # the rows of a file (here and in the parsers under sources/)
    "row shape": "a row with another number of fields than the header",
    "publisher": "a publisher other than SBP or PBS",
    "published_on": "a date that is not YYYY-MM-DD, or no date and no period to estimate one from",
    "content": "a file of a known format that holds no figures",
    "changed": "a file that changed while its releases were being built (build again)",
    "value": "a workbook or EasyData cell that should hold a number but holds text (shown as printed)",
    "unit": "values in a unit other than the layout's",
    "label": "an EBOPS code printed with the label of another line",
    "duplicate": "a series (and month) printed twice",
    "dataset": "an EasyData series of another dataset",
    "observation date": "an EasyData date that is not a month end (DD-Mon-YYYY)",
    "release id": "the same release in two files",
    "unreadable": "the file cannot be opened at all (the operating system's reason)",
}


class ReleaseFileError(ValueError):
    """A release file that cannot be read; the message names the file, row and rule (RULES)."""

    def __init__(self, path: Path | str, row: int | None, rule: str, detail: str):
        where = f"{path}" if row is None else f"{path}, row {row}"
        super().__init__(f"{where}: {rule}: {detail}")
        self.path, self.row, self.rule, self.detail = str(path), row, rule, detail


@dataclass(frozen=True, slots=True)
class Figure:
    """One printed figure, every field as printed, plus where it was read from."""

    source_row: int  # line number in the file (the header is line 1)
    period: str
    series_code: str
    value_usd_thousand: str
    basis: str
    publisher: str
    published_on: str  # as printed; may be empty
    source_url: str
    note: str
    published_on_source: str


@dataclass
class Release:
    release_id: str
    publisher: str
    published_on: date
    published_on_estimated: bool
    source_file: Path
    source_file_sha256: str
    figures: list[Figure] = field(default_factory=list)
    source_format: str = RECORD_CSV
    # (period, basis) pairs the file's header says it covers; empty for the record layout
    header_periods: list[tuple[str, str]] = field(default_factory=list)
    # set for a release read back from the warehouse instead of its file (its figures are not
    # in memory; see ingest.held_files): how many it has
    held_figures: int | None = None
    bundled: bool | None = None  # read from the bundled releases (ids without the file's name)

    @property
    def figure_count(self) -> int:
        return len(self.figures) if self.held_figures is None else self.held_figures

    @functools.cached_property
    def release_sha256(self) -> str:
        """Hash of this release's content, so an unchanged release is not reloaded (computed once:
        a release is complete when its file has been read)."""
        digest = hashlib.sha256()
        digest.update(f"{self.release_id}|{self.published_on}|{self.source_file.name}|{self.source_format}".encode())
        digest.update(repr(sorted(self.header_periods)).encode())
        for f in self.figures:
            digest.update("\x1f".join((str(f.source_row), *(getattr(f, c) for c in RECORD_COLUMNS))).encode())
            digest.update(b"\x1e")
        return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read in chunks (a release file's identity)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def period_end(period: str) -> date:
    """Last day of a `YYYY-MM` period."""
    match = _PERIOD.match(period)
    if not match:
        raise ValueError(f"period {period!r} is not YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"period {period!r} has no month {month}")
    return date(year, month, calendar.monthrange(year, month)[1])


def estimate_published_on(publisher: str, period: str) -> date:
    """The publisher's usual publication date for a period, for figures printed undated."""
    return period_end(period) + timedelta(days=PUBLICATION_LAG_DAYS[publisher])


def release_id_for(publisher: str, published_on: date, estimated: bool, file_tag: str | None) -> str:
    """`sbp-2023-08-18`; `-est` when the date is estimated; `-<file>` for a file from the inbox."""
    parts = [publisher.lower(), published_on.isoformat()]
    if estimated:
        parts.append("est")
    if file_tag:
        parts.append(_SLUG.sub("-", file_tag.lower()).strip("-"))
    return "-".join(parts)


def read_release_file(path: Path, *, bundled: bool, max_bytes: int | None = None) -> list[Release]:
    """The releases in one file of any supported format, recognised from its content.

    Only what a release's identity needs is enforced here (a recognised layout, a known
    publisher, a date or a way to estimate one); every other rule is a Great Expectations
    expectation run on the loaded release, so it is reported with the release it belongs to.
    A file over max_bytes (default MAX_RELEASE_FILE_BYTES) is refused before it is read.
    Raises ReleaseFileError naming the rule (RULES) and, where there is one, the row.
    """
    from orchestration.lib.sources.detect import identify_format

    limit = MAX_RELEASE_FILE_BYTES if max_bytes is None else max_bytes
    _check_size(path, path.stat().st_size, limit)
    with path.open("rb") as fh:
        raw = fh.read(limit + 1)  # the file may have grown since stat
    _check_size(path, len(raw), limit)
    sha256 = hashlib.sha256(raw).hexdigest()
    file_format = identify_format(path)
    if file_format == RECORD_CSV:
        releases = _read_record_csv(path, raw, sha256, bundled=bundled)
    else:
        releases = _read_sbp_file(path, file_format, sha256)
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


def decode_utf8(path: Path | str, raw: bytes, *, hint: str = "") -> str:
    """The bytes as UTF-8 text (a byte order mark dropped); rule "encoding" names the row
    (line), the byte offset within the file and the value of the first byte that is not UTF-8."""
    bom = len(UTF8_BOM) if raw.startswith(UTF8_BOM) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        row = raw.count(b"\n", 0, offset) + 1
        column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
        advice = f"{hint}: save it as UTF-8" if hint else "save the file as UTF-8 (e.g. Excel's 'CSV UTF-8')"
        raise ReleaseFileError(
            path,
            row,
            "encoding",
            f"not UTF-8 text: byte 0x{raw[offset]:02X} at byte offset {offset} of the file "
            f"(byte {column} of the row) cannot be read ({exc.reason}); {advice}",
        ) from exc


def columns_difference(found: Sequence[str], expected: Sequence[str], *, order: bool = True) -> str:
    """How a header differs from a layout's columns: 'missing: note; unknown: comment'.
    With order, the same columns in another order are a difference too."""
    named = [name or f"(unnamed column {number})" for number, name in enumerate(found, start=1)]
    missing = [c for c in expected if c not in found]
    unknown = [n for n, c in zip(named, found, strict=True) if c not in expected]
    repeated = [c for c in expected if list(found).count(c) > 1]
    parts = [
        f"{label}: {', '.join(names)}"
        for label, names in (("missing", missing), ("unknown", unknown), ("repeated", repeated))
        if names
    ]
    if not parts and order and tuple(found) != tuple(expected):
        parts.append(f"the columns are in another order: {','.join(found)}")
    return "; ".join(parts) or "the columns are the layout's"


def _read_record_csv(path: Path, raw: bytes, sha256: str, *, bundled: bool) -> list[Release]:
    """Group the rows of one record-layout CSV into releases, one per (publisher, day).

    Every field is kept as printed (whitespace trimmed): a value that is not a number stays
    text here and is reported, as printed, by Great Expectations."""
    text = decode_utf8(path, raw)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ReleaseFileError(path, None, "empty", "the file is empty")
    header = [h.strip() for h in header]
    if tuple(header) != RECORD_COLUMNS:
        raise ReleaseFileError(
            path,
            1,
            "header",
            f"{columns_difference(header, RECORD_COLUMNS)} (the record layout: {','.join(RECORD_COLUMNS)})",
        )
    file_tag = None if bundled else path.stem
    releases: dict[str, Release] = {}
    same = {}.setdefault
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(RECORD_COLUMNS):
            raise ReleaseFileError(
                path, line_no, "row shape", f"expected {len(RECORD_COLUMNS)} fields, found {len(cells)}"
            )
        # one string object per distinct text: snapshots re-print the same periods, series,
        # pages and values over and over (a million figures hold a few thousand distinct texts)
        figure = Figure(line_no, *(same(cell, cell) for cell in (c.strip() for c in cells)))
        if figure.publisher not in PUBLICATION_LAG_DAYS:
            raise ReleaseFileError(
                path, line_no, "publisher", f"{figure.publisher!r} is not one of {sorted(PUBLICATION_LAG_DAYS)}"
            )
        if figure.published_on:
            try:
                published_on, estimated = date.fromisoformat(figure.published_on), False
            except ValueError as exc:
                raise ReleaseFileError(
                    path, line_no, "published_on", f"{figure.published_on!r} is not a YYYY-MM-DD date"
                ) from exc
        else:
            try:
                published_on, estimated = estimate_published_on(figure.publisher, figure.period), True
            except ValueError as exc:
                raise ReleaseFileError(
                    path, line_no, "published_on", f"no date, and none can be estimated: {exc}"
                ) from exc
        release_id = release_id_for(figure.publisher, published_on, estimated, file_tag)
        release = releases.get(release_id)
        if release is None:
            release = releases[release_id] = Release(
                release_id, figure.publisher, published_on, estimated, path, sha256
            )
        release.figures.append(figure)
    if not releases:
        raise ReleaseFileError(path, None, "content", "the file holds no figures")
    return sorted(releases.values(), key=lambda r: (r.published_on, r.release_id))


def _read_sbp_file(path: Path, file_format: str, sha256: str) -> list[Release]:
    """One SBP file (EasyData, EBOPS workbook, BPM6 summary) is one SBP release.

    Its date is the one the file states; else the day it was fetched (its manifest);
    else the day the file was written, marked estimated.
    """
    from orchestration.lib.fetch import read_manifest

    parsed = _sbp_parser(file_format)(path)
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


# format -> (module under orchestration.lib.sources, parser); imported only when a file of
# that format is read, since the workbook parsers pull in calamine
_SBP_PARSERS = {
    EASYDATA_CSV: ("easydata", "parse_easydata_csv"),
    EASYDATA_JSON: ("easydata", "parse_easydata_json"),
    EBOPS_WORKBOOK: ("ebops_workbook", "parse_ebops_workbook"),
    BPM6_SUMMARY: ("bpm6_summary", "parse_bpm6_summary"),
}


def _sbp_parser(file_format: str):
    module, name = _SBP_PARSERS[file_format]
    return getattr(importlib.import_module(f"orchestration.lib.sources.{module}"), name)


def is_release_candidate(path: Path) -> bool:
    """Files in the inbox worth reading: not hidden, not a fetch manifest, not a placeholder."""
    return path.is_file() and not path.name.startswith(".") and not path.name.endswith(MANIFEST_SUFFIX)


def release_files(releases_dir: Path, inbox: Path) -> list[tuple[Path, bool]]:
    """The files to build from: the bundled releases, then the inbox, each in name order."""
    files = [(p, True) for p in sorted(releases_dir.glob("*.csv"))]
    if inbox.is_dir():
        files += [(p, False) for p in sorted(inbox.iterdir()) if is_release_candidate(p)]
    return files


def discover_releases(files: Iterable[tuple[Path, bool]]) -> dict[str, Release]:
    """Every release in the given files, by release id, oldest first."""
    found: dict[str, Release] = {}
    for path, bundled in files:
        for release in read_release_file(path, bundled=bundled):
            if release.release_id in found:
                other = found[release.release_id].source_file
                raise ReleaseFileError(path, None, "release id", f"release {release.release_id} is also in {other}")
            found[release.release_id] = release
    return dict(sorted(found.items(), key=lambda kv: (kv[1].published_on, kv[0])))
