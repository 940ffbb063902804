"""Which release format a file is, judged by its content, never by its name.

Files reach the inbox renamed, re-saved and with the wrong extension (an .xls that is a CSV,
a workbook saved as .csv), so the name is no evidence. detect_format never raises for a bad
file: an unreadable, empty or unknown file is None, and the caller reports it.

Workbooks are opened with calamine in a child process. Calamine is Rust: on a corrupt or
truncated .xls it panics (an exception that is not an Exception) or even aborts the whole
process when it tries to allocate what a broken header claims (seen when fuzzing). A file
calamine cannot open in the child is None, so the workbook parsers, which run in-process,
only ever see workbooks calamine has opened once already.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from orchestration.lib.record import RECORD_COLUMNS
from orchestration.lib.sources.base import (
    BPM6_SUMMARY,
    EASYDATA_CSV,
    EASYDATA_JSON,
    EBOPS_WORKBOOK,
    RECORD_CSV,
    normalise_label,
)
from orchestration.lib.sources.easydata import is_easydata_columns

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old-style .xls (and every other OLE2 document)
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, but also .docx, .ods, any zip
XLSX_PART = "xl/workbook.xml"

TEXT_SNIFF_BYTES = 64 * 1024  # enough for any header line; only JSON is read whole
WORKBOOK_TIMEOUT_SECONDS = 60
WORKBOOK_MEMORY_BYTES = 2 * 1024**3  # a child asking for more is reading a broken header

# Run by the child: print the workbook's sheet names as JSON, under a memory cap.
_SHEET_NAMES_SCRIPT = """
import json, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
except (ImportError, ValueError, OSError):
    pass
from python_calamine import CalamineWorkbook
print(json.dumps(CalamineWorkbook.from_path(sys.argv[1]).sheet_names))
"""

# Sheet names, compared after normalise_label and case folding: SBP's sheet is "EBOPS ".
_SHEET_FORMATS = {"ebops": EBOPS_WORKBOOK, "bpm6_summary": BPM6_SUMMARY}


def detect_format(path: Path) -> str | None:
    """One of base.FORMATS, or None for a file of no known format (or no readable file)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(TEXT_SNIFF_BYTES)
        if head.startswith(OLE2_MAGIC):
            return _workbook_format(path)
        if head.startswith(ZIP_MAGIC):
            return _workbook_format(path) if _is_xlsx(path) else None
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            return _json_format(path.read_bytes())
        return _csv_format(head)
    except (OSError, ValueError, RecursionError, csv.Error):  # unreadable, or not the text it seems
        return None


def _is_xlsx(path: Path) -> bool:
    """A zip is an .xlsx only with its workbook part (.docx and .ods are zips too)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return XLSX_PART in archive.namelist()
    except Exception:  # a broken zip raises BadZipFile, NotImplementedError, EOFError, ...
        return False


def _workbook_format(path: Path) -> str | None:
    """An SBP workbook is known by a sheet name."""
    for name in _sheet_names(path) or []:
        found = _SHEET_FORMATS.get(normalise_label(name).casefold())
        if found:
            return found
    return None


def _sheet_names(path: Path) -> list[str] | None:
    """The sheet names calamine reads (.xls and .xlsx alike), or None if it cannot open the file."""
    command = [sys.executable, "-c", _SHEET_NAMES_SCRIPT, str(path), str(WORKBOOK_MEMORY_BYTES)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=WORKBOOK_TIMEOUT_SECONDS,
            env={**os.environ, "RUST_BACKTRACE": "0"},
            check=False,
        )
        names = json.loads(done.stdout) if done.returncode == 0 else None
    except (subprocess.TimeoutExpired, OSError, ValueError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _csv_format(head: bytes) -> str | None:
    """A CSV is known by its header line: the record's, or EasyData's."""
    end = head.find(b"\n")
    if end < 0 and len(head) == TEXT_SNIFF_BYTES:
        return None  # no header line is this long
    first_line = head[: end if end >= 0 else len(head)].decode("utf-8-sig").rstrip("\r")
    header = [cell.strip() for cell in next(csv.reader([first_line]), [])]
    if tuple(header) == RECORD_COLUMNS:
        return RECORD_CSV
    if header and is_easydata_columns(header):
        return EASYDATA_CSV
    return None


def _json_format(raw: bytes) -> str | None:
    """The EasyData API's body: {"columns": [the ten CSV names], "rows": [...]}."""
    body = json.loads(raw.decode("utf-8-sig"))  # errors are ValueError or RecursionError: None
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
        return None
    columns = body.get("columns")
    return EASYDATA_JSON if isinstance(columns, list) and is_easydata_columns(columns) else None
