"""What every parser of an SBP file returns, and the EBOPS 9 hierarchy they map through.

A parser reads one file and returns a ParsedSource: the figures it holds (ICT export
credits, thousand US$, as text), whether the file states its own release date, and which
(period, basis) pairs its header says it covers. Turning a ParsedSource into releases
(release id, release date, provenance) is the caller's job (orchestration/lib/record.py).
Pure Python: no Dagster, no DuckDB.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from orchestration.settings import get_settings

# Formats a file can be recognised as (orchestration/lib/sources/detect.py).
RECORD_CSV = "record_csv"  # the layout of published_figures.csv
EASYDATA_CSV = "easydata_csv"
EASYDATA_JSON = "easydata_json"
EBOPS_WORKBOOK = "ebops_workbook"
BPM6_SUMMARY = "bpm6_summary"
FORMATS = (RECORD_CSV, EASYDATA_CSV, EASYDATA_JSON, EBOPS_WORKBOOK, BPM6_SUMMARY)


@dataclass(frozen=True)
class SourceFigure:
    period: str  # 'YYYY-MM': the last month of the reference period
    series_code: str  # a series_code of dbt_project/seeds/series_hierarchy.csv
    value_usd_thousand: str  # the number in thousand US$, as text (millions are scaled exactly)
    basis: str  # 'month' | 'fytd_Jul' | 'fytd_Jul-<Mon>' | 'quarter_<Mon>-<Mon>'
    note: str  # marks kept from the file: 'provisional', 'revised', EasyData status; '' if none
    source_row: int  # where in the file: spreadsheet row number (1-based) or CSV line number


@dataclass(frozen=True)
class ParsedSource:
    format: str  # one of FORMATS
    figures: list[SourceFigure]
    stated_published_on: date | None = None  # when the file itself states its release date
    header_periods: list[tuple[str, str]] = field(default_factory=list)  # (period, basis) the header says it covers
    description: str = ""  # e.g. 'EBOPS workbook, Jul-May FY26' for messages


def normalise_label(text: str) -> str:
    """Collapse SBP's spacing: non-breaking, doubled and trailing spaces."""
    return re.sub(r"\s+", " ", str(text).replace("\u00a0", " ")).strip()


@cache
def _hierarchy(seeds_dir: str) -> tuple[dict[str, str], dict[str, str]]:
    with (Path(seeds_dir) / "series_hierarchy.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_code = {r["ebops_code"]: r["series_code"] for r in rows}
    labels = {r["series_code"]: r["label"] for r in rows}
    return by_code, labels


def series_for_ebops_code(code: str, seeds_dir: Path | None = None) -> str | None:
    """'9.2.2' -> 'software_consultancy'; None for a code outside the hierarchy."""
    by_code, _ = _hierarchy(str(seeds_dir or get_settings().seeds_dir))
    return by_code.get(code.strip().rstrip("."))


def series_label(series_code: str, seeds_dir: Path | None = None) -> str:
    _, labels = _hierarchy(str(seeds_dir or get_settings().seeds_dir))
    return labels[series_code]


def millions_to_thousands(text: str) -> str:
    """'5,851' (US$ million) -> '5851000', exactly, with no float rounding."""
    value = Decimal(str(text).replace(",", "").strip()) * 1000
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
