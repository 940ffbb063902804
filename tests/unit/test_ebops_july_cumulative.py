"""The Jul-Aug FY27 EBOPS workbook fixture (tests/fixtures/make_sbp_workbooks.py): July 2026 only as
"Jul, FY27" (fytd_Jul) and August 2026 only as "Jul-Aug, FY27 (P)", so the warehouse has to derive
August from the two cumulatives (tests/e2e/test_july_cumulative.py builds it)."""

import csv
import importlib.util
import sys
from collections import defaultdict
from decimal import Decimal

import pytest
from conftest import RECORD, REPO

from orchestration.lib.hierarchy import load_hierarchy
from orchestration.lib.sources.ebops_workbook import parse_ebops_workbook, parse_period_header

FIXTURE = REPO / "tests" / "fixtures" / "sbp" / "ebops_jul-aug_fy27.xlsx"
HIERARCHY = load_hierarchy(REPO / "dbt_project" / "seeds" / "series_hierarchy.csv")


def generator():
    """tests/fixtures/make_sbp_workbooks.py as a module (registered: its dataclasses need it)."""
    if "make_sbp_workbooks" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "make_sbp_workbooks", REPO / "tests" / "fixtures" / "make_sbp_workbooks.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["make_sbp_workbooks"]


@pytest.fixture(scope="module")
def values():
    """{series: {basis: Decimal}} of the fixture's credit figures."""
    parsed = parse_ebops_workbook(FIXTURE, HIERARCHY)
    assert parsed.header_periods == [("2026-07", "fytd_Jul"), ("2026-08", "fytd_Jul-Aug")]
    assert parsed.description == "EBOPS workbook, Jul-Aug FY27"
    out = defaultdict(dict)
    for f in parsed.figures:
        out[f.series_code][f.basis] = Decimal(f.value_usd_thousand)
    return out


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("Jul, FY27", ("2026-07", "fytd_Jul", "")), ("Jul-Aug, FY27 (P)", ("2026-08", "fytd_Jul-Aug", "provisional"))],
)
def test_the_headers_are_a_july_cumulative_and_a_jul_aug_cumulative(cell, expected):
    assert parse_period_header(cell) == expected


def test_july_is_the_records_and_august_the_invented_total(values):
    with RECORD.open(newline="") as fh:
        july = {
            Decimal(r["value_usd_thousand"])
            for r in csv.DictReader(fh)
            if (r["period"], r["series_code"], r["publisher"]) == ("2026-07", "ict_total", "SBP")
        }
    assert july == {values["ict_total"]["fytd_Jul"]}
    august = values["ict_total"]["fytd_Jul-Aug"] - values["ict_total"]["fytd_Jul"]
    assert august == generator().INVENTED_ICT_TOTAL["2026-08"]
    # services: the record prints July's, nobody prints August's
    assert set(values["services_total"]) == {"fytd_Jul"}


def test_every_line_of_august_is_a_non_negative_difference_and_families_add_up(values):
    children = defaultdict(list)
    for line in HIERARCHY.lines:
        if line.parent_series_code and line.series_code in values:
            children[line.parent_series_code].append(line.series_code)
    ebops = [s for s in values if s != "services_total"]
    assert all(set(values[s]) == {"fytd_Jul", "fytd_Jul-Aug"} for s in ebops)
    august = {s: values[s]["fytd_Jul-Aug"] - values[s]["fytd_Jul"] for s in ebops}
    assert min(august.values()) >= 0
    for parent, kids in children.items():
        if parent in august:
            for basis in ("fytd_Jul", "fytd_Jul-Aug"):
                assert values[parent][basis] == sum(values[k][basis] for k in kids), (parent, basis)
            assert august[parent] == sum(august[k] for k in kids), parent


def test_the_fixture_is_what_the_generator_writes(tmp_path):
    module = generator()
    cells = module.ebops_cells(module.JUL_AUG_FY27, module.sbp_printings(), *module.hierarchy())
    module.write_xlsx({"EBOPS ": cells}, tmp_path / FIXTURE.name, date_header_sheet="EBOPS ")
    assert (tmp_path / FIXTURE.name).read_bytes() == FIXTURE.read_bytes()
