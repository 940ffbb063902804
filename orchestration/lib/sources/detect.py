"""Which release format a file is, judged by its content, never by its name.

Files reach the inbox renamed, re-saved and with the wrong extension (an .xls that is a CSV,
a workbook saved as .csv), so the name is no evidence.

`identify_format` returns the format or raises ReleaseFileError saying, in words a person
understands, why the file is none of them (rules "empty", "encoding", "delimiter", "header",
"json", "workbook", "sheet", "format": release.RULES). `detect_format` is the
same judgement that never raises: an unreadable, empty or unknown file is None.

Workbooks are opened with calamine in a child process. Calamine is Rust: on a corrupt or
truncated .xls it panics (an exception that is not an Exception) or even aborts the whole
process when it tries to allocate what a broken header claims (seen when fuzzing). The child
lists the sheets and reads every sheet the parsers would read, under a memory cap; a file it
cannot read is rule "workbook", so the workbook parsers, which run in-process, only ever see
workbooks calamine has read once already.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from orchestration.lib.release import (
    BPM6_SUMMARY,
    EASYDATA_CSV,
    EASYDATA_JSON,
    EBOPS_WORKBOOK,
    RECORD_COLUMNS,
    RECORD_CSV,
    UTF8_BOM,
    ReleaseFileError,
    columns_difference,
    decode_utf8,
)
from orchestration.lib.sources.base import normalise_label
from orchestration.lib.sources.easydata import COLUMNS as EASYDATA_COLUMNS
from orchestration.lib.sources.easydata import is_easydata_columns

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old-style .xls (and every other OLE2 document)
ZIP_MAGIC = b"PK\x03\x04"  # .xlsx, but also .docx, .ods, any zip
XLSX_PART = "xl/workbook.xml"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
BLANKS = b" \t\r\n"

TEXT_SNIFF_BYTES = 64 * 1024  # enough for any header line; only JSON is read whole
WORKBOOK_TIMEOUT_SECONDS = 60
WORKBOOK_MEMORY_BYTES = 2 * 1024**3  # a child asking for more is reading a broken header

# A header "looks like" a layout when it has at least this many of the layout's columns
# (compared without case): 3 of the record's 9, 3 of EasyData's 10. Two could be chance
# (a "period" and a "note" column); three of these names together are not.
RESEMBLANCE = 3
OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}

KNOWN_FORMATS = "the public-record CSV layout, an SBP EasyData CSV or API JSON, the EBOPS workbook or the BPM6 summary"
FORMAT_DETAIL = f"not a release file this warehouse reads ({KNOWN_FORMATS})"

# Sheet names, compared after normalise_label and case folding: SBP's sheet is "EBOPS ".
_SHEET_FORMATS = {"ebops": EBOPS_WORKBOOK, "bpm6_summary": BPM6_SUMMARY}
EXPECTED_SHEETS = "'EBOPS ' (SBP's Trade in Services workbook) or 'BPM6_Summary' (the summary balance of payments)"
MAX_LISTED_SHEETS = 20
MAX_REASON_CHARS = 200

# Run by the child: under a memory cap, list the sheets and read every sheet whose name (as
# base.normalise_label folds it, repeated here: the child imports nothing of this project) is
# one of sys.argv[3]; print {"sheets": [...]} or {"error": "..."}. Whatever calamine raises,
# panics included, is caught; an abort ends the child, and the parent reports the signal.
_WORKBOOK_SCRIPT = """
import json, re, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
except (ImportError, ValueError, OSError):
    pass
wanted = set(json.loads(sys.argv[3]))
try:
    from python_calamine import CalamineWorkbook
    book = CalamineWorkbook.from_path(sys.argv[1])
    names = [str(n) for n in book.sheet_names]
    for name in names:
        if re.sub(r"\\s+", " ", name.replace("\\u00a0", " ")).strip().casefold() in wanted:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    print(json.dumps({"sheets": names}))
except BaseException as exc:
    print(json.dumps({"error": (str(exc).strip() or type(exc).__name__)}))
"""


def detect_format(path: Path) -> str | None:
    """One of release.FORMATS, or None for a file of no known format (or no readable file)."""
    try:
        return identify_format(path)
    except (ReleaseFileError, OSError, ValueError, RecursionError, csv.Error):
        return None


def identify_format(path: Path) -> str:
    """One of release.FORMATS; raises ReleaseFileError with the rule (release.RULES) that says why the
    file is none of them, and OSError when the file cannot be read at all."""
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(TEXT_SNIFF_BYTES)
    if head.startswith(OLE2_MAGIC):
        return _workbook_format(path)
    if head.startswith(ZIP_MAGIC):
        _check_xlsx(path)
        return _workbook_format(path)
    text_start = head.removeprefix(UTF8_BOM).lstrip(BLANKS)
    if not text_start and len(head) < TEXT_SNIFF_BYTES:
        raise ReleaseFileError(path, None, "empty", "the file is empty")
    if text_start.startswith(b"{"):
        return _json_format(path, path.read_bytes())
    return _csv_format(path, head)


# --- workbooks ----------------------------------------------------------------------------


def _check_xlsx(path: Path) -> None:
    """A zip is an .xlsx only with its workbook part (.docx and .ods are zips too)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except Exception as exc:  # a broken zip raises BadZipFile, NotImplementedError, EOFError, ...
        reason = _short(str(exc) or type(exc).__name__)
        raise ReleaseFileError(
            path, None, "workbook", f"truncated or corrupt workbook: not a complete zip archive ({reason})"
        ) from exc
    if XLSX_PART not in names:
        raise ReleaseFileError(
            path, None, "format", f"{FORMAT_DETAIL}: a zip archive, but not an .xlsx workbook (it has no {XLSX_PART})"
        )


def _workbook_format(path: Path) -> str:
    """An SBP workbook is known by a sheet name."""
    names = _sheet_names(path)
    for name in names:
        found = _SHEET_FORMATS.get(normalise_label(name).casefold())
        if found:
            return found
    listed = ", ".join(repr(n) for n in names[:MAX_LISTED_SHEETS])
    if len(names) > MAX_LISTED_SHEETS:
        listed += f" and {len(names) - MAX_LISTED_SHEETS} more"
    raise ReleaseFileError(
        path, None, "sheet", f"the workbook has no sheet named {EXPECTED_SHEETS}; its sheets: {listed or 'none'}"
    )


def _sheet_names(path: Path) -> list[str]:
    """The sheet names calamine reads (.xls and .xlsx alike), read in a child process; raises
    rule "workbook" with calamine's reason when it cannot read the file."""
    command = [
        sys.executable,
        "-c",
        _WORKBOOK_SCRIPT,
        str(path),
        str(WORKBOOK_MEMORY_BYTES),
        json.dumps(sorted(_SHEET_FORMATS)),
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=WORKBOOK_TIMEOUT_SECONDS,
            env={**os.environ, "RUST_BACKTRACE": "0"},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise _corrupt(path, f"reading it took over {WORKBOOK_TIMEOUT_SECONDS} s") from exc
    try:
        answer = json.loads(done.stdout) if done.returncode == 0 else None
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("sheets"), list):
        return [str(n) for n in answer["sheets"]]
    if isinstance(answer, dict) and answer.get("error"):
        raise _corrupt(path, str(answer["error"]))
    raise _corrupt(path, _crash_reason(done))


def _crash_reason(done: subprocess.CompletedProcess) -> str:
    """Why the child stopped without an answer: the last line it printed (Rust prints
    'memory allocation of N bytes failed' before aborting), and the signal."""
    lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
    if done.returncode < 0:
        try:
            stopped = f"the reader crashed ({signal.Signals(-done.returncode).name})"
        except ValueError:
            stopped = f"the reader crashed (signal {-done.returncode})"
    else:
        stopped = f"the reader stopped with exit status {done.returncode}"
    return f"{stopped}: {lines[-1]}" if lines else stopped


def _corrupt(path: Path, reason: str) -> ReleaseFileError:
    return ReleaseFileError(path, None, "workbook", f"truncated or corrupt workbook: {_short(reason)}")


def _short(text: str) -> str:
    """The first line of a reason, at most MAX_REASON_CHARS characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= MAX_REASON_CHARS else first[: MAX_REASON_CHARS - 3] + "..."


# --- text ---------------------------------------------------------------------------------


def _csv_format(path: Path, head: bytes) -> str:
    """A CSV is known by its header line: the record's, or EasyData's."""
    end = head.find(b"\n")
    if end < 0 and len(head) == TEXT_SNIFF_BYTES:
        raise ReleaseFileError(path, None, "format", f"{FORMAT_DETAIL}: no line break in the first 64 KiB")
    first_line = head[: end if end >= 0 else len(head)]
    hint = "it looks like UTF-16 text (Excel's 'Unicode text')" if first_line.startswith(UTF16_BOMS) else ""
    line = decode_utf8(path, first_line, hint=hint).rstrip("\r")
    header = _split(line, ",")
    if tuple(header) == RECORD_COLUMNS:
        return RECORD_CSV
    if header and is_easydata_columns(header):
        return EASYDATA_CSV
    _check_resemblance(path, 1, header)
    for delimiter, name in OTHER_DELIMITERS.items():
        cells = _split(line, delimiter)
        layout = _resembled(cells) if len(cells) > 1 else None
        if layout:
            raise ReleaseFileError(
                path,
                1,
                "delimiter",
                f"the header is separated by {name} ({delimiter!r}), but {layout} is comma-separated: "
                "save the file as comma-separated CSV",
            )
    raise ReleaseFileError(path, None, "format", f"{FORMAT_DETAIL}; its first line reads {_excerpt(line)}")


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter), [])]
    except csv.Error:
        return []


def _matches(header: Sequence[object], columns: Sequence[str]) -> int:
    folded = {str(c).strip().lstrip("\ufeff").casefold() for c in header}
    return sum(c.casefold() in folded for c in columns)


def _resembled(header: Sequence[object]) -> str | None:
    """The layout a header has at least RESEMBLANCE columns of (the closer one), or None."""
    record, easydata = _matches(header, RECORD_COLUMNS), _matches(header, EASYDATA_COLUMNS)
    if max(record, easydata) < RESEMBLANCE:
        return None
    return "the record layout" if record >= easydata else "SBP's EasyData CSV"


def _check_resemblance(path: Path, row: int | None, header: Sequence[object]) -> None:
    """Rule "header" for a header that looks like a layout but is not quite it."""
    layout = _resembled(header)
    if layout == "the record layout":
        detail = columns_difference([str(h) for h in header], RECORD_COLUMNS)
        raise ReleaseFileError(path, row, "header", f"{detail} (the record layout: {','.join(RECORD_COLUMNS)})")
    if layout:
        names = [str(h).strip().lstrip("\ufeff") for h in header]
        detail = columns_difference(names, EASYDATA_COLUMNS, order=False)
        raise ReleaseFileError(path, row, "header", f"{detail} (SBP's EasyData columns: {', '.join(EASYDATA_COLUMNS)})")


def _excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _json_format(path: Path, raw: bytes) -> str:
    """The EasyData API's body: {"columns": [the ten CSV names], "rows": [...]}."""
    text = decode_utf8(path, raw)
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReleaseFileError(
            path, None, "json", f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise ReleaseFileError(path, None, "json", "JSON nested too deeply to read") from exc
    columns = body.get("columns") if isinstance(body, dict) else None
    if isinstance(columns, list) and is_easydata_columns(columns):
        if isinstance(body.get("rows"), list):
            return EASYDATA_JSON
        raise ReleaseFileError(path, None, "json", 'EasyData columns, but no "rows" list')
    if isinstance(columns, list):
        _check_resemblance(path, None, columns)
    raise ReleaseFileError(path, None, "format", f"{FORMAT_DETAIL}: JSON, but not the EasyData API's")
