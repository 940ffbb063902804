"""What every parser of an SBP file returns, and the text helpers the parsers share.

A parser reads one file and returns a ParsedSource: the figures it holds (ICT export
credits, thousand US$, as text), whether the file states its own release date, and which
(period, basis) pairs its header says it covers. Parsers map EBOPS codes and labels through
the Hierarchy they are handed (orchestration/lib/hierarchy.py). Turning a ParsedSource into
releases (release id, release date, provenance) is the caller's job (orchestration/lib/record.py).
Pure Python: no Dagster, no DuckDB, no settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


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
    format: str  # one of release.FORMATS
    figures: list[SourceFigure]
    stated_published_on: date | None = None  # when the file itself states its release date
    header_periods: list[tuple[str, str]] = field(default_factory=list)  # (period, basis) the header says it covers
    description: str = ""  # e.g. 'EBOPS workbook, Jul-May FY26' for messages


def normalise_label(text: str) -> str:
    """Collapse SBP's spacing: non-breaking, doubled and trailing spaces."""
    return re.sub(r"\s+", " ", str(text).replace("\u00a0", " ")).strip()


def millions_to_thousands(text: str) -> str:
    """'5,851' (US$ million) -> '5851000', exactly, with no float rounding."""
    value = Decimal(str(text).replace(",", "").strip()) * 1000
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
