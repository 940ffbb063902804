"""The committed errata name real figures of the record, and every flagged figure."""

import csv

from conftest import RECORD, REPO

ERRATA = REPO / "dbt_project" / "seeds" / "errata.csv"
FLAGS = ("LABEL_SWAP_SUSPECTED", "INCONSISTENT_IN_SOURCE", "INCONSISTENT_WITH_OTHER_SOURCES")
KEY = ("publisher", "source_url", "period", "series_code", "basis", "value_usd_thousand")


def load(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_erratum_names_exactly_one_figure_of_the_record():
    figures = load(RECORD)
    for erratum in load(ERRATA):
        matches = [f for f in figures if all(f[k] == erratum[k] for k in KEY)]
        assert len(matches) == 1, erratum["erratum_id"]


def test_every_figure_the_record_flags_as_a_press_error_has_an_erratum():
    named = {tuple(e[k] for k in KEY) for e in load(ERRATA)}
    flagged = [f for f in load(RECORD) if any(flag in (f["note"] or "") for flag in FLAGS)]
    assert flagged
    assert [f for f in flagged if tuple(f[k] for k in KEY) not in named] == []


def test_swaps_come_in_pairs_within_one_printing():
    swaps = [e for e in load(ERRATA) if e["action"] == "swap"]
    by_printing = {}
    for e in swaps:
        by_printing.setdefault((e["source_url"], e["period"], e["basis"]), []).append(e)
    for pair in by_printing.values():
        assert sorted((e["series_code"], e["corrected_series_code"]) for e in pair) == [
            ("hardware_consultancy", "software_consultancy"),
            ("software_consultancy", "hardware_consultancy"),
        ]


def test_every_erratum_says_why_and_what_to_do():
    for e in load(ERRATA):
        assert e["reason"].strip()
        assert e["action"] in ("exclude", "swap")
        assert (e["action"] == "swap") == bool(e["corrected_series_code"])
