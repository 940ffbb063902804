"""The fiscal year in Python (orchestration/lib/fiscal.py): read from the dbt var dim_month reads,
with dim_month's formulas. The check against a built dim_month, month by month, is in
tests/e2e/test_one_home.py; here the same formulas run as dim_month's SQL, on DuckDB, without dbt."""

import re
from datetime import date

import duckdb
import pytest
import yaml
from conftest import REPO

from orchestration.lib import fiscal
from orchestration.lib.dbt_vars import dbt_var
from orchestration.lib.fiscal import FiscalCalendar, fiscal_calendar, fiscal_month, fiscal_year, fiscal_year_label
from orchestration.lib.sources.ebops_workbook import fiscal_month_period
from orchestration.settings import DBT_PROJECT_YML

DIM_MONTH = REPO / "dbt_project" / "models" / "core" / "dim_month.sql"
MONTHS = [date(y, m, 1) for y in range(2014, 2031) for m in range(1, 13)]


def test_the_start_month_is_the_dbt_var_dim_month_reads():
    assert "var('fiscal_year_start_month')" in DIM_MONTH.read_text()
    declared = yaml.safe_load(DBT_PROJECT_YML.read_text())["vars"]["fiscal_year_start_month"]
    assert fiscal_calendar().start_month == declared == dbt_var(fiscal.START_MONTH_VAR) == 7


def test_pakistan_fiscal_year_runs_july_to_june():
    assert fiscal_year(date(2023, 6, 1)) == 2023 and fiscal_year(date(2023, 7, 1)) == 2024
    assert fiscal_month(date(2023, 7, 1)) == 1 and fiscal_month(date(2024, 6, 1)) == 12
    assert fiscal_month(date(2024, 1, 1)) == 7
    assert fiscal_year_label(2024) == "FY24" and fiscal_year_label(2009) == "FY09"
    assert fiscal_calendar().span() == "July to June"
    assert fiscal_calendar().month_abbrs() == (
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
    )


def _dim_month_sql_columns(start_month: int) -> dict[date, tuple[int, int, str]]:
    """dim_month's own expressions (copied out of the model, the var substituted), run by DuckDB
    over every month of MONTHS: month -> (fiscal_year, fiscal_month, fiscal_year_label)."""
    sql = DIM_MONTH.read_text()
    fiscal_year_sql = re.search(r"\n\s*(year\(month\) \+ case .*? end) as fiscal_year,", sql).group(1)
    fiscal_month_sql = re.search(r"\n\s*(\(month\(month\) - .*? \+ 1) as fiscal_month\n", sql).group(1)
    label_sql = re.search(r"\n\s*('FY' \|\| .*?) as fiscal_year_label,", sql).group(1)
    start = "{{ fy_start }}"
    assert start in fiscal_year_sql and start in fiscal_month_sql
    conn = duckdb.connect()
    rows = conn.execute(
        f"""with m as (select unnest(?::date[]) as month),
        c as (select month, {fiscal_year_sql.replace(start, str(start_month))} as fiscal_year,
                     {fiscal_month_sql.replace(start, str(start_month))} as fiscal_month from m)
        select month, fiscal_year, fiscal_month, {label_sql} from c""",
        [MONTHS],
    ).fetchall()
    return {month: (fy, fm, label) for month, fy, fm, label in rows}


@pytest.mark.parametrize("start_month", [7, 1, 4, 10])
def test_python_and_dim_month_sql_agree_on_every_month(start_month):
    calendar = FiscalCalendar(start_month)
    expected = _dim_month_sql_columns(start_month)
    got = {
        m: (calendar.fiscal_year(m), calendar.fiscal_month(m), calendar.fiscal_year_label(calendar.fiscal_year(m)))
        for m in MONTHS
    }
    assert got == expected


@pytest.mark.parametrize("start_month", [7, 1, 4, 10])
def test_month_of_inverts_fiscal_year_and_month(start_month):
    calendar = FiscalCalendar(start_month)
    for m in MONTHS:
        assert calendar.month_of(calendar.fiscal_year(m), m.month) == m
        assert calendar.months_to(m.month) == calendar.fiscal_month(m)


def test_fiscal_year_to_date_bases_are_named_from_the_start_month():
    july = FiscalCalendar(7)
    assert july.fytd_basis(7) == "fytd_Jul" and july.fytd_basis(5) == "fytd_Jul-May"
    assert [july.fytd_end_month(b) for b in ("fytd_Jul", "fytd_Jul-May", "fytd_Jul-Jun")] == [7, 5, 6]
    for bad in ("fytd_Jul-Jul", "fytd_Aug-May", "fytd_jul-May", "fytd_Jul-Xyz", "month", "fytd_Jul-"):
        assert july.fytd_end_month(bad) is None, bad
    assert all(july.fytd_end_month(july.fytd_basis(m)) == m for m in range(1, 13))
    april = FiscalCalendar(4)
    assert april.fytd_basis(4) == "fytd_Apr" and april.fytd_basis(3) == "fytd_Apr-Mar"
    assert april.fytd_end_month("fytd_Apr-Mar") == 3 and april.fytd_end_month("fytd_Jul-Mar") is None
    assert july.fytd_label(date(2026, 5, 1), "fytd_Jul-May") == "Jul-May FY26"
    assert july.fytd_label(date(2025, 7, 1), "fytd_Jul") == "Jul FY26"


def test_the_parsers_place_a_month_of_a_printed_fiscal_year():
    assert fiscal_month_period(5, 2026) == "2026-05"
    assert fiscal_month_period(7, 2026) == "2025-07"
    assert fiscal_month_period(6, 2026) == "2026-06"


@pytest.mark.parametrize("start_month", [0, 13, "7", True, None])
def test_a_start_month_that_is_no_month_is_refused(start_month):
    with pytest.raises(ValueError, match="fiscal_year_start_month"):
        FiscalCalendar(start_month)


def test_the_var_is_read_from_the_project_file_handed_in(tmp_path):
    project = tmp_path / "dbt_project.yml"
    project.write_text("name: x\nvars:\n  fiscal_year_start_month: 4\n  rounding_allowance_usd_thousand: 1.0e-6\n")
    assert fiscal_calendar(project) == FiscalCalendar(4)
    assert fiscal_calendar() == FiscalCalendar(7)
    with pytest.raises(KeyError, match="no var 'missing'"):
        dbt_var("missing", project)
