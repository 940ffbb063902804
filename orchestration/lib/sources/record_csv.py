"""The public record's own layout (published_figures.csv): one CSV, many releases.

The peer of the SBP parsers in this folder, for the record's layout (release.RECORD_COLUMNS):
each row is one printed figure with its publisher and publication date, so one file holds the
releases of many (publisher, day). Detection (detect.py) has already recognised the header;
the rows are checked only as far as a release's identity needs (a known publisher, a date or a
way to estimate one). Pure Python.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from orchestration.lib.release import (
    PUBLICATION_LAG_DAYS,
    RECORD_COLUMNS,
    Figure,
    Release,
    ReleaseFileError,
    columns_difference,
    decode_utf8,
    estimate_published_on,
    release_id_for,
)


def read_record_csv(path: Path, raw: bytes, sha256: str, *, bundled: bool) -> list[Release]:
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
