"""One home per fact: where a rule is applied both by the warehouse (dbt) and by Python, the two
give the same answer on the built warehouse, row for row.

- the fiscal year: core.dim_month (dbt var fiscal_year_start_month) and orchestration/lib/fiscal.py;
- the errata match: intermediate.int_figures__corrected and orchestration/lib/errata.py;
- agreeing within rounding: the macro agree_within_rounding (as marts.mart_ict_exports_release_changes
  applied it) and orchestration.lib.figures.agree_within_rounding (same dbt var for the allowance).
"""

import pytest
from conftest import REPO
from e2e_helpers import query

from orchestration.lib.errata import ERRATUM_KEY, errata_csv, load_errata, match_errata
from orchestration.lib.figures import agree_within_rounding
from orchestration.lib.fiscal import fiscal_calendar, fiscal_month, fiscal_year, fiscal_year_label

pytestmark = pytest.mark.e2e


def test_python_fiscal_year_is_dim_month_for_every_month(built):
    months = query(
        "select month, fiscal_year, fiscal_month, fiscal_year_label, month_abbr from core.dim_month order by month"
    )
    assert len(months) >= 12 * 10  # the record's ten fiscal years and more
    for row in months.itertuples():
        month = row.month.date()
        assert (fiscal_year(month), fiscal_month(month), fiscal_year_label(fiscal_year(month))) == (
            row.fiscal_year,
            row.fiscal_month,
            row.fiscal_year_label,
        ), month
    # the brief's month names in fiscal order are dim_month's, fiscal month 1 to 12
    by_fiscal_month = dict(zip(months.fiscal_month, months.month_abbr, strict=True))
    assert fiscal_calendar().month_abbrs() == tuple(by_fiscal_month[m] for m in range(1, 13))


def test_python_errata_match_is_the_warehouse_s_for_every_figure(built):
    figures = query(
        f"""select r.release_id, r.source_row, {", ".join(f"r.{c}" for c in ERRATUM_KEY)},
               c.erratum_id, c.corrected_series_code
        from raw.release_figures r
        join intermediate.int_figures__corrected c
          on c.release_id = r.release_id and c.source_row = r.source_row
         and strftime(c.period_month, '%Y-%m') = r.period and c.basis = r.basis
        order by all"""
    )
    assert len(figures) == query("select count(*) as n from raw.release_figures").n[0]
    errata = load_errata(errata_csv(REPO / "dbt_project" / "seeds"))
    rows = figures.to_dict("records")
    matched = match_errata(rows, errata)
    assert [e.erratum_id if e else None for e in matched] == [r["erratum_id"] for r in rows]
    swapped = [e.corrected_series_code if e and e.action == "swap" else None for e in matched]
    assert [s or r["series_code"] for r, s in zip(rows, swapped, strict=True)] == [
        r["corrected_series_code"] for r in rows
    ]
    assert sum(e is not None for e in matched) == len(errata)


def test_python_rounding_rule_is_the_macro_s_for_every_reprinting(built):
    """Each printing of a value already known: confirmed by the macro exactly when the Python
    function says the two agree within rounding."""
    changes = query(
        """select distinct ch.change_kind, f.value_usd_thousand, f.precision_usd_thousand,
               k.value_usd_thousand as known_usd_thousand, k.precision_usd_thousand as known_precision
        from marts.mart_ict_exports_release_changes ch
        join core.fct_ict_export_figures f
          on f.release_id = ch.release_id and f.series_code = ch.series_code and f.period_month = ch.period_month
         and f.basis = ch.basis and f.source_url = ch.source_url and f.value_origin = 'reported'
         and cast(f.value_usd_thousand / 1000 as decimal(18, 4)) = ch.value_usd_mn
        join intermediate.int_figures__selection_intervals k
          on k.scope = 'all' and k.release_id = ch.previous_release_id and k.series_code = ch.series_code
         and k.period_month = ch.period_month and k.basis = ch.basis and k.published_on = ch.previous_published_on
         and cast(k.value_usd_thousand / 1000 as decimal(18, 4)) = ch.previous_usd_mn
        where ch.change_kind <> 'new'"""
    )
    assert {"confirmed", "revised"} <= set(changes.change_kind)
    for row in changes.itertuples():
        agree = agree_within_rounding(
            row.value_usd_thousand, row.known_usd_thousand, row.precision_usd_thousand, row.known_precision
        )
        assert agree == (row.change_kind == "confirmed"), row
