"""The errata (dbt_project/seeds/errata.csv) matched to printed figures, in Python.

An erratum names one printed figure by ERRATUM_KEY: its publisher, page (source_url), period
('YYYY-MM'), series as printed, basis and value as printed (the text, thousand US$), each equal
as text. In the warehouse the match is made once, by the model int_figures__corrected (every
model and test reads erratum_id, erratum_action and corrected_series_code from it); in Python by
`match_errata` here, with the same key (tests/e2e/test_one_home.py checks they agree on every
figure of a built warehouse).

Pure Python: it imports nothing of this project.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ERRATA_CSV = "errata.csv"  # the seed's file name in dbt_project/seeds
# The columns an erratum names its figure by, as the record (and raw.release_figures) spell them.
ERRATUM_KEY = ("publisher", "source_url", "period", "series_code", "basis", "value_usd_thousand")
ACTIONS = ("exclude", "swap")


@dataclass(frozen=True)
class Erratum:
    erratum_id: str
    key: tuple[str, ...]  # the figure's ERRATUM_KEY values
    action: str  # 'exclude' | 'swap'
    corrected_series_code: str | None  # for a swap: the series the figure belongs to
    reason: str

    def corrected_series(self, printed_series_code: str) -> str | None:
        """The series the figure counts under: the corrected one for a swap, none when excluded."""
        if self.action == "exclude":
            return None
        return self.corrected_series_code if self.action == "swap" else printed_series_code


def errata_csv(seeds_dir: Path) -> Path:
    return Path(seeds_dir) / ERRATA_CSV


def erratum_key(figure: Mapping[str, Any] | Any) -> tuple[str, ...]:
    """A figure's ERRATUM_KEY values, from a mapping (a CSV row) or an object with those
    attributes; None counts as ''."""
    get = figure.get if isinstance(figure, Mapping) else lambda name: getattr(figure, name)
    return tuple("" if get(name) is None else str(get(name)) for name in ERRATUM_KEY)


def load_errata(path: Path) -> dict[tuple[str, ...], Erratum]:
    """The errata by the key of the figure each names. ValueError if two name the same figure."""
    errata: dict[tuple[str, ...], Erratum] = {}
    with Path(path).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            erratum = Erratum(
                erratum_id=row["erratum_id"],
                key=erratum_key(row),
                action=row["action"],
                corrected_series_code=row["corrected_series_code"] or None,
                reason=row["reason"],
            )
            if erratum.key in errata:
                raise ValueError(
                    f"{path}: errata {errata[erratum.key].erratum_id} and {erratum.erratum_id} name the same figure"
                )
            errata[erratum.key] = erratum
    return errata


def match_errata(
    figures: Iterable[Mapping[str, Any] | Any], errata: Mapping[tuple[str, ...], Erratum]
) -> list[Erratum | None]:
    """The erratum naming each figure (None for most), in the figures' order."""
    return [errata.get(erratum_key(figure)) for figure in figures]
