"""A July printed only as a cumulative: SBP's EBOPS workbook of Jul-Aug FY27 prints July 2026 only
as "Jul, FY27" (fytd_Jul, which is the July month itself) and August 2026 only as
"Jul-Aug, FY27" (tests/fixtures/make_sbp_workbooks.py). The build must pass and derive August
once, as the difference of the two cumulatives, line by line.

The workbook is dropped into a copy of the built warehouse and built once per session, by an
`itx build` process (`built_with_workbook`, tests/conftest.py): the suite's one workbook built all
the way to the facts and the marts (every file format is loaded and validated at the ingest:
test_sbp_files.py)."""

import pytest
from conftest import WORKBOOK, WORKBOOK_DATE
from e2e_helpers import query

pytestmark = pytest.mark.e2e


@pytest.fixture
def workbook_built(built_with_workbook, monkeypatch):
    """The built warehouse with the workbook dropped into its inbox and built (tests/conftest.py):
    the queries below read it."""
    built_with_workbook.state.use(monkeypatch)
    return WORKBOOK.name


def test_august_is_derived_once_from_the_july_and_jul_aug_cumulatives(workbook_built):
    (release_id,) = query(
        "select distinct release_id from raw.release_figures where source_file = ?", [workbook_built]
    ).release_id
    printed = query(
        "select series_code, basis, value_number from raw.release_figures where release_id = ?", [release_id]
    )
    assert set(printed.basis) == {"fytd_Jul", "fytd_Jul-Aug"}  # no month block at all
    cumulative = printed.pivot(index="series_code", columns="basis", values="value_number").dropna()
    expected_august = (cumulative["fytd_Jul-Aug"] - cumulative["fytd_Jul"]).to_dict()
    assert expected_august["ict_total"] == 431_000

    monthly = query(
        "select series_code, strftime(month, '%Y-%m') as month, value_usd_thousand, value_origin, release_id, "
        "base_figure_id from core.fct_ict_exports_monthly where month in ('2026-07-01', '2026-08-01')"
    )
    august = monthly[monthly.month == "2026-08"]
    # one row per series, every one derived from this release's two cumulatives
    assert sorted(august.series_code) == sorted(expected_august)
    assert (august.value_origin == "derived").all() and (august.release_id == release_id).all()
    assert august.base_figure_id.notna().all()
    assert {r.series_code: float(r.value_usd_thousand) for r in august.itertuples()} == expected_august

    july = monthly[(monthly.month == "2026-07") & (monthly.series_code == "ict_total")]
    assert len(july) == 1
    assert (july.iloc[0].value_usd_thousand, july.iloc[0].value_origin) == (417_000, "reported")

    growth = query(
        "select value_usd_mn, fytd_usd_mn, fytd_source from marts.mart_ict_exports_growth_monthly "
        "where series_code = 'ict_total' and month = '2026-08-01'"
    )
    assert len(growth) == 1
    assert (float(growth.iloc[0].value_usd_mn), float(growth.iloc[0].fytd_usd_mn)) == (431.0, 848.0)
    assert growth.iloc[0].fytd_source == "published"

    # the as-of path: as known on the workbook's day, August once and derived
    as_of = query(
        "select value_usd_mn, value_origin from marts.growth_as_of(?::date) "
        "where series_code = 'ict_total' and month = '2026-08-01'",
        [WORKBOOK_DATE.date()],
    )
    assert len(as_of) == 1 and float(as_of.iloc[0].value_usd_mn) == 431.0 and as_of.iloc[0].value_origin == "derived"
    derived_facts = query(
        "select count(*) as n from core.fct_ict_export_figures "
        "where series_code = 'ict_total' and period_month = '2026-08-01' and value_origin = 'derived'"
    )
    assert derived_facts.iloc[0].n == 1
