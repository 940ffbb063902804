"""The series hierarchy seed, loaded by orchestration/lib/hierarchy.py, and its one label matcher."""

import csv

from conftest import REPO

from orchestration.lib.hierarchy import hierarchy_csv, label_words, load_hierarchy

SEED = REPO / "dbt_project" / "seeds" / "series_hierarchy.csv"


def test_every_row_of_the_seed_is_a_line_in_order():
    with SEED.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    hierarchy = load_hierarchy(SEED)
    assert hierarchy.series_codes == [r["series_code"] for r in rows]
    ict = hierarchy.by_series["ict_total"]
    assert (ict.ebops_code, ict.parent_series_code, ict.level) == ("9", None, 1)
    assert hierarchy.by_series["software_consultancy"].parent_series_code == "computer_services"
    assert hierarchy.label("call_centres") == "Call centres"


def test_loaded_once_per_path_from_the_path_it_is_handed():
    assert load_hierarchy(hierarchy_csv(REPO / "dbt_project" / "seeds")) is load_hierarchy(SEED)


def test_ebops_codes_map_to_series_with_sbp_s_trailing_dots_and_spaces():
    hierarchy = load_hierarchy(SEED)
    assert hierarchy.series_for_ebops_code("9.2.2") == "software_consultancy"
    assert hierarchy.series_for_ebops_code(" 9.2.2. ") == "software_consultancy"
    assert hierarchy.series_for_ebops_code("S") == "services_total"
    assert hierarchy.series_for_ebops_code("10.1") is None


def test_children_are_in_sort_order():
    children = load_hierarchy(SEED).children()
    assert children["ict_total"] == ["telecom_services", "computer_services", "information_services"]
    assert children["telecom_services"] == ["call_centres", "other_telecom"]


def test_one_matcher_for_every_printed_label():
    hierarchy = load_hierarchy(SEED)
    # the workbooks' rule: the same words as the line's label
    assert hierarchy.reads_as("Telecommunications,  Computer, and Information Services", "ict_total")
    assert hierarchy.reads_as("Call centers", "call_centres")
    assert not hierarchy.reads_as("Other Computer services", "computer_services")
    # EasyData's rule: the label fits its own line at least as well as any other
    assert hierarchy.similarity("Software consultancy", "software_consultancy") == 2 / 3
    assert hierarchy.closest_other("Software consultancy services", "hardware_consultancy") == (
        "software_consultancy",
        1.0,
    )
    assert hierarchy.closest_other("Live animals", "ict_total") == (None, 0.0)
    # filler words, '&', plural s and spacing never count; 'ss' is not a plural
    assert label_words("Maintenance & repairs of the computer") == label_words("maintenance and repair computers")
    assert label_words("Services for business") == {"service", "business"}
