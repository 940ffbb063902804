import re

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


def test_agreeing_within_rounding_is_half_the_rounding_units_plus_the_var_allowance():
    import yaml
    from conftest import REPO

    from orchestration.lib.figures import agree_within_rounding, rounding_allowance

    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    assert rounding_allowance() == float(project["vars"]["rounding_allowance_usd_thousand"]) == 1e-6
    # $214m (to a million) and $214.4m (to a hundred thousand): 400 <= (1000 + 100) / 2
    assert agree_within_rounding(214_000, 214_400, 1000, 100)
    assert not agree_within_rounding(214_000, 214_600, 1000, 100)
    # exactly half the units apart agrees, whatever the float noise; a thousand dollars more does not
    assert agree_within_rounding(186_601.5, 186_601.6, 0.1, 0.1)
    # ($10bn to a hundred dollars: the doubles differ by 0.10000000149, which an allowance of 1e-9 fails)
    assert agree_within_rounding(10_000_000.2, 10_000_000.3, 0.1, 0.1)
    assert not agree_within_rounding(186_601.5, 186_601.601, 0.1, 0.1)
    # b taken as exact (precision_b 0): $1.5bn printed for a precise $1,523m is that figure rounded
    assert agree_within_rounding(1_500_000, 1_523_000, 100_000)
    assert not agree_within_rounding(1_500_000, 1_551_000, 100_000)


def test_the_sql_and_the_python_rule_read_the_same_var():
    from conftest import REPO

    macro = (REPO / "dbt_project" / "macros" / "agree_within_rounding.sql").read_text()
    assert "var('rounding_allowance_usd_thousand')" in macro
    # every comparison within rounding in the models, tests and macros goes through the macro
    paths = [p for folder in ("models", "macros", "tests") for p in (REPO / "dbt_project" / folder).rglob("*.sql")]
    assert len(paths) > 20
    for path in paths:
        if path.name != "agree_within_rounding.sql":
            text = path.read_text()
            assert not re.search(r"precision_usd_thousand\s*\)?\s*/\s*2", text), path
            assert not re.search(r"\b1e-\d", text), path
