import pytest

from orchestration.lib.figures import Basis, parse_basis, parse_value, printed_precision


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("month", Basis("month", 1, None)),
        ("fytd_Jul", Basis("fytd", 1, 7)),
        ("fytd_Jul-Aug", Basis("fytd", 2, 8)),
        ("fytd_Jul-Dec", Basis("fytd", 6, 12)),
        ("fytd_Jul-Mar", Basis("fytd", 9, 3)),
        ("fytd_Jul-Jun", Basis("fytd", 12, 6)),
        ("quarter_Oct-Dec", Basis("quarter", 3, 12)),
        ("quarter_Jan-Mar", Basis("quarter", 3, 3)),
    ],
)
def test_bases_parse(text, expected):
    assert parse_basis(text) == expected


@pytest.mark.parametrize(
    "text", ["", "Month", "fytd_Jul-Jul", "fytd_jul-Mar", "fytd_Aug-Sep", "quarter_Feb-Apr", "ytd"]
)
def test_bad_bases_do_not_parse(text):
    assert parse_basis(text) is None


def test_every_basis_in_the_record_parses():
    import csv

    from conftest import RECORD

    with RECORD.open(newline="") as fh:
        assert all(parse_basis(row["basis"]) for row in csv.DictReader(fh))


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("892972", 1),
        ("303000", 1000),
        ("300000", 1000),
        ("2600000", 100000),
        ("3810000", 10000),
        ("186601.5", 0.1),
        ("12.25", 0.01),
        ("0", 1),
    ],
)
def test_precision_is_read_from_how_a_figure_was_printed(text, precision):
    assert printed_precision(text) == pytest.approx(precision)


@pytest.mark.parametrize(("text", "value"), [("214000", 214000.0), ("186601.5", 186601.5), ("-5", -5.0)])
def test_values_parse(text, value):
    assert parse_value(text) == value


@pytest.mark.parametrize("text", ["", "20mn", "1,200", "nan", "inf"])
def test_non_numbers_do_not_parse(text):
    assert parse_value(text) is None
