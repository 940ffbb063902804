"""The series hierarchy (dbt_project/seeds/series_hierarchy.csv), loaded in one place.

The seed names every line the warehouse keeps: all services (code S) and the EBOPS 9 lines,
with their EBOPS code, SBP's label, parent, order and plausible monthly bounds. Every Python
reader of the seed calls `load_hierarchy` with the path it was handed (the parsers get the
loaded Hierarchy from record.read_release_file, whose caller knows the seeds folder); dbt reads
the seed as a seed, and DuckDB reads it in the validation frame's SQL.

Printed labels are compared with the seed's through one matcher, `label_words`: SBP's spelling
varies ("Telecommunication services" and "Telecommunications  services", "&" and "and"), so
two labels are the same line when they have the same words once case, spacing, punctuation,
filler words, plural 's' and 'center'/'centre' no longer count.

Pure Python: it imports nothing of this project.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path

HIERARCHY_CSV = "series_hierarchy.csv"  # the seed's file name in dbt_project/seeds

# Words that say nothing about which line a label names.
_FILLER_WORDS = {"and", "of", "the", "for"}
_SPELLINGS = {"center": "centre"}


@dataclass(frozen=True)
class Line:
    """One row of the seed."""

    series_code: str
    ebops_code: str  # '9.2.2'; 'S' for all services
    label: str
    parent_series_code: str | None
    level: int
    sort_order: int
    plausible_min_monthly_usd_mn: float
    plausible_max_monthly_usd_mn: float


@dataclass(frozen=True)
class Hierarchy:
    path: Path
    lines: tuple[Line, ...]  # in the seed's order

    @functools.cached_property
    def by_series(self) -> dict[str, Line]:
        return {line.series_code: line for line in self.lines}

    @functools.cached_property
    def _by_ebops_code(self) -> dict[str, str]:
        return {line.ebops_code: line.series_code for line in self.lines}

    @functools.cached_property
    def _words(self) -> dict[str, frozenset[str]]:
        return {line.series_code: label_words(line.label) for line in self.lines}

    @property
    def series_codes(self) -> list[str]:
        return [line.series_code for line in self.lines]

    def children(self) -> dict[str, list[str]]:
        """parent series -> its child series, in sort order."""
        found: dict[str, list[str]] = {}
        for line in sorted(self.lines, key=lambda line: line.sort_order):
            if line.parent_series_code:
                found.setdefault(line.parent_series_code, []).append(line.series_code)
        return found

    def series_for_ebops_code(self, code: str) -> str | None:
        """'9.2.2' -> 'software_consultancy'; None for a code outside the hierarchy."""
        return self._by_ebops_code.get(code.strip().rstrip("."))

    def label(self, series_code: str) -> str:
        return self.by_series[series_code].label

    def reads_as(self, printed: str, series_code: str) -> bool:
        """Whether a printed label has the words of the line's label (label_words)."""
        return label_words(printed) == self._words[series_code]

    def similarity(self, printed: str, series_code: str) -> float:
        """How much of a printed label's words are the line's: 1.0 for the same words, 0 for none
        in common (shared words over all the words of both)."""
        return _jaccard(label_words(printed), self._words[series_code])

    def closest_other(self, printed: str, series_code: str) -> tuple[str | None, float]:
        """The line other than series_code whose label is the most similar to a printed label
        (the first in the seed's order on a tie), and its similarity; (None, 0.0) if none shares a word."""
        words = label_words(printed)
        best, best_score = None, 0.0
        for other, other_words in self._words.items():
            if other == series_code:
                continue
            score = _jaccard(words, other_words)
            if score > best_score:
                best, best_score = other, score
        return best, best_score


def hierarchy_csv(seeds_dir: Path) -> Path:
    """The seed's path in a seeds folder."""
    return Path(seeds_dir) / HIERARCHY_CSV


def load_hierarchy(path: Path) -> Hierarchy:
    """The hierarchy in the seed at `path` (read once per path and process)."""
    return _load(str(Path(path)))


@functools.cache
def _load(path: str) -> Hierarchy:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lines = tuple(
        Line(
            r["series_code"],
            r["ebops_code"],
            r["label"],
            r["parent_series_code"] or None,
            int(r["level"]),
            int(r["sort_order"]),
            float(r["plausible_min_monthly_usd_mn"]),
            float(r["plausible_max_monthly_usd_mn"]),
        )
        for r in rows
    )
    return Hierarchy(Path(path), lines)


def label_words(text: object) -> frozenset[str]:
    """The words of a label, for comparing SBP's wordings with the hierarchy's: case, spacing,
    punctuation, '&'/'and', filler words, plural 's' and 'center'/'centre' do not count, so
    'Telecommunication services' matches 'Telecommunications services' but
    'Hardware consultancy services' does not match 'Software consultancy services'."""
    words = re.sub(r"[^a-z0-9]+", " ", str(text).casefold().replace("&", " and ")).split()
    tokens = set()
    for word in words:
        if word in _FILLER_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        tokens.add(_SPELLINGS.get(word, word))
    return frozenset(tokens)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0
