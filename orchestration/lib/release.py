"""What a release is, and the constants every reader of release files shares.

A release is what one publisher put out on one day: the figures of one
(publisher, published_on). This module holds the types (Figure, Release, ReleaseFileError and
its RULES), the record layout (RECORD_COLUMNS), the formats a release file can be, the fetch
manifest that may lie beside a file, and the small helpers the parsers under sources/ share.
It imports nothing of this project: the parsers (sources/), the reading and format dispatch
(record.py), the fetcher, the warehouse and the tests all stand on it.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

logger = logging.getLogger(__name__)

# Formats a file can be recognised as (orchestration/lib/sources/detect.py).
RECORD_CSV = "record_csv"  # the layout of published_figures.csv
EASYDATA_CSV = "easydata_csv"
EASYDATA_JSON = "easydata_json"
EBOPS_WORKBOOK = "ebops_workbook"
BPM6_SUMMARY = "bpm6_summary"
FORMATS = (RECORD_CSV, EASYDATA_CSV, EASYDATA_JSON, EBOPS_WORKBOOK, BPM6_SUMMARY)

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
    # the file as a whole (record.read_release_file, sources/detect.py)
    "size": "the file is over the size limit (ITX_MAX_FILE_MB); it is not read",
    "empty": "the file has no content (0 bytes, or only blanks and a byte order mark)",
    "encoding": "a text file that is not UTF-8: the row, byte offset and value of the first bad byte",
    "delimiter": "a CSV header of a known layout, separated by something other than commas",
    "header": "a header with some of a layout's columns, but columns missing, unknown, repeated or out of order",
    "json": "JSON that does not parse, or EasyData columns without rows",
    "workbook": "an .xls/.xlsx that calamine cannot read (truncated or corrupt)",
    "sheet": "a workbook that opens but has no sheet 'EBOPS ' nor 'BPM6_Summary'",
    "format": "a file that resembles none of the formats this warehouse reads",
    # the rows of a file (the parsers under sources/: record_csv.py and SBP's)
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


def manifest_path(path: Path) -> Path:
    """Where the manifest of a stored file lies: `<file>.manifest.json` beside it."""
    return path.with_name(path.name + MANIFEST_SUFFIX)


def load_manifest(manifest: Path) -> dict | None:
    """A manifest file's content; None when it is missing, unreadable or not a JSON object."""
    try:
        content = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        # A broken sidecar must not stop fetching; it only costs a skipped shortcut.
        logger.warning("ignoring unreadable manifest %s: %s", manifest, exc)
        return None
    return content if isinstance(content, dict) else None


def read_manifest(path: Path) -> dict | None:
    """The sidecar manifest of a stored file (`<file>.manifest.json`), or None if it has none."""
    return load_manifest(manifest_path(Path(path)))
