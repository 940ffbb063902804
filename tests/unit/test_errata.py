"""The committed errata name real figures of the record, and every flagged figure; matched by the
one Python matcher, orchestration/lib/errata.py (the warehouse's is int_figures__corrected: both
are compared on a built warehouse in tests/e2e/test_one_home.py)."""

import csv
from collections import Counter

import pytest
from conftest import RECORD, REPO

from orchestration.lib.errata import ERRATUM_KEY, Erratum, errata_csv, erratum_key, load_errata, match_errata

ERRATA = errata_csv(REPO / "dbt_project" / "seeds")
FLAGS = ("LABEL_SWAP_SUSPECTED", "INCONSISTENT_IN_SOURCE", "INCONSISTENT_WITH_OTHER_SOURCES")


def load(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_each_erratum_names_exactly_one_figure_of_the_record():
    errata = load_errata(ERRATA)
    matched = Counter(e.erratum_id for e in match_errata(load(RECORD), errata) if e is not None)
    assert {e.erratum_id: matched[e.erratum_id] for e in errata.values()} == {e.erratum_id: 1 for e in errata.values()}


def test_every_figure_the_record_flags_as_a_press_error_has_an_erratum():
    flagged = [f for f in load(RECORD) if any(flag in (f["note"] or "") for flag in FLAGS)]
    assert flagged
    assert [f for f, e in zip(flagged, match_errata(flagged, load_errata(ERRATA)), strict=True) if e is None] == []


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


def test_the_match_is_on_the_text_as_printed():
    erratum = next(iter(load_errata(ERRATA).values()))
    figure = dict(zip(ERRATUM_KEY, erratum.key, strict=True))
    errata = {erratum.key: erratum}
    assert match_errata([figure], errata) == [erratum]
    # the same number spelled otherwise, another period spelling, another page: no erratum
    for column, other in (
        ("value_usd_thousand", figure["value_usd_thousand"] + ".0"),
        ("period", "2017-12-01"),
        ("source_url", figure["source_url"] + "/"),
        ("basis", "fytd_Jul"),
    ):
        assert match_errata([{**figure, column: other}], errata) == [None], column


def test_an_erratum_books_its_figure_under_the_corrected_series():
    swap = Erratum("E1", ("",) * len(ERRATUM_KEY), "swap", "software_consultancy", "swapped labels")
    exclude = Erratum("E2", ("",) * len(ERRATUM_KEY), "exclude", None, "misprint")
    assert swap.corrected_series("hardware_consultancy") == "software_consultancy"
    assert exclude.corrected_series("ict_total") is None


def test_two_errata_naming_one_figure_are_refused(tmp_path):
    rows = load(ERRATA)
    path = tmp_path / "errata.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([rows[0], {**rows[0], "erratum_id": "E999"}])
    with pytest.raises(ValueError, match="E999"):
        load_errata(path)


def test_a_figure_object_is_keyed_by_its_attributes():
    class Figure:
        publisher, source_url, period, series_code, basis, value_usd_thousand = "SBP", "u", "2024-01", "s", "month", 5

    assert erratum_key(Figure()) == ("SBP", "u", "2024-01", "s", "month", "5")
