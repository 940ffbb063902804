"""As of the day a publisher printed a growth statement, `marts.growth_as_of` reproduces it within the
precision of the figures behind it (tests/data/published_growth_statements.csv: a sample of
statements from the record's sources, each with its page)."""

import csv
import io
from contextlib import redirect_stdout

import pytest
from conftest import REPO
from e2e_helpers import query

from orchestration import cli
from orchestration.lib.figures import printed_precision

pytestmark = pytest.mark.e2e
STATEMENTS = list(csv.DictReader((REPO / "tests" / "data" / "published_growth_statements.csv").open()))


def as_of(day, publisher, series="ict_total"):
    rows = query("select * from marts.growth_as_of(cast(? as date), ?) where series_code = ?", [day, publisher, series])
    return {r.month.strftime("%Y-%m"): r for r in rows.itertuples()}


def relative_rounding(value_usd_mn) -> float:
    """Half the rounding unit of a value as printed, relative to it (from how it was printed)."""
    thousands = round(float(value_usd_mn) * 1000, 1)
    text = str(int(thousands)) if thousands == int(thousands) else str(thousands)
    return printed_precision(text) / 2 / abs(thousands)


def previous(rows, month, months_back):
    year, mon = map(int, month.split("-"))
    index = year * 12 + mon - 1 - months_back
    return rows.get(f"{index // 12:04d}-{index % 12 + 1:02d}")


def computed_and_tolerance(statement):
    rows = as_of(statement["published_on"], statement["publisher"], statement["series_code"])
    row = rows[statement["month"]]
    measure = statement["measure"]
    if measure in ("value_usd_mn", "fytd_usd_mn"):
        value = float(getattr(row, measure))
        return value, float(statement["printed_precision"]) / 2 + value * relative_rounding(value)
    if measure == "mom_change_usd_mn":
        base = previous(rows, statement["month"], 1)
        change = float(row.value_usd_mn) - float(base.value_usd_mn)
        spread = float(row.value_usd_mn) * relative_rounding(row.value_usd_mn) + float(
            base.value_usd_mn
        ) * relative_rounding(base.value_usd_mn)
        return change, float(statement["printed_precision"]) / 2 + spread
    column, back, level = {
        "yoy_pct": ("value_usd_mn", 12, "value_usd_mn"),
        "mom_pct": ("value_usd_mn", 1, "value_usd_mn"),
        "fytd_yoy_pct": ("fytd_usd_mn", 12, "fytd_usd_mn"),
    }[measure]
    growth = float(getattr(row, measure))
    base = previous(rows, statement["month"], back)
    spread = relative_rounding(getattr(row, level)) + relative_rounding(getattr(base, level))
    return growth, float(statement["printed_precision"]) / 2 + (100 + growth) * spread


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda s: f"{s['publisher']}-{s['published_on']}-{s['measure']}")
def test_the_as_of_marts_reproduce_what_was_printed(statement, built):
    computed, tolerance = computed_and_tolerance(statement)
    assert abs(computed - float(statement["printed"])) <= tolerance + 1e-9, (computed, tolerance, statement)


def test_july_2023_as_pbs_printed_it_and_as_known_a_year_later(built):
    printed = as_of("2023-09-20", "PBS")["2023-07"]
    assert (float(printed.value_usd_mn), printed.yoy_pct, printed.release_id) == (214.0, 7.5107, "pbs-2023-09-20")
    assert float(previous(as_of("2023-09-20", "PBS"), "2023-07", 12).value_usd_mn) == 199.05
    later = as_of("2024-08-20", "PBS")["2023-07"]
    assert float(later.value_usd_mn) == 224.95


def test_as_of_today_is_the_latest_marts(built):
    """One code path: the table macro at today's date gives the growth mart, row for row."""
    a = query(
        "select * exclude (vintage, value_origin, release_id, published_on, source_url) "
        "from marts.growth_as_of(current_date) order by series_code, month"
    )
    b = query("select * from marts.mart_ict_exports_growth_monthly order by series_code, month")
    assert len(b) and a.equals(b)


def test_nothing_is_known_before_the_first_release(built):
    first = query("select min(known_from) as d from intermediate.int_figures__selection_intervals").iloc[0].d
    assert query("select count(*) as n from marts.growth_as_of(cast(? as date) - 1)", [first]).iloc[0].n == 0
    assert query("select count(*) as n from marts.growth_as_of(cast(? as date))", [first]).iloc[0].n > 0


def test_revisions_record_first_and_latest_print(built):
    fy23 = query(
        "select * from marts.mart_ict_exports_revisions "
        "where series_code = 'ict_total' and period_month = '2023-06-01' and basis = 'fytd_Jul-Jun'"
    ).iloc[0]
    first = query(
        "select value_usd_thousand / 1000 as v, vintage as published_on from core.fct_ict_export_figures "
        "where series_code = 'ict_total' and period_month = '2023-06-01' and basis = 'fytd_Jul-Jun' "
        "order by vintage, figure_id limit 1"
    ).iloc[0]
    assert float(fy23.first_usd_mn) == pytest.approx(first.v) and fy23.first_published_on == first.published_on
    assert fy23.revisions >= 3 and fy23.latest_release_id


def test_itx_asof_and_revisions_print_tables(built):
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["asof", "2023-09-20", "--publisher", "PBS"]) == 0
        assert cli.main(["revisions", "--release", "sbp-2023-08-18"]) == 0
    text = out.getvalue()
    assert "| 2023-07-01 |" in text and "7.5107" in text and "revised" in text
    assert cli.main(["asof", "20-09-2023"]) == 2
