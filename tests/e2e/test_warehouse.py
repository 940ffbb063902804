"""The whole warehouse, through Dagster, into a temporary warehouse: the marts against values
read from the raw record, idempotence, dbt's unit tests, the brief and `itx sql`. (A bad
release quarantined: tests/e2e/test_lifecycle.py; growth and the fiscal calendar: dbt's unit
tests, run here.)"""

import csv
import io
from contextlib import redirect_stdout

import pytest
from conftest import RECORD, REPO
from e2e_helpers import marts_fingerprint, query

from orchestration import cli
from orchestration.lib.figures import parse_basis
from orchestration.lib.report import _fmt_mn

pytestmark = pytest.mark.e2e


def load_csv(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def corrected_monthly_figures():
    """The record's monthly figures with the errata applied, computed here from the CSVs."""
    errata = {
        (e["publisher"], e["source_url"], e["period"], e["series_code"], e["basis"], e["value_usd_thousand"]): e
        for e in load_csv(REPO / "dbt_project" / "seeds" / "errata.csv")
    }
    out = []
    for f in load_csv(RECORD):
        key = (f["publisher"], f["source_url"], f["period"], f["series_code"], f["basis"], f["value_usd_thousand"])
        erratum = errata.get(key)
        if erratum and erratum["action"] == "exclude":
            continue
        series = erratum["corrected_series_code"] if erratum else f["series_code"]
        if parse_basis(f["basis"]).months == 1:
            out.append((series, f["period"], float(f["value_usd_thousand"])))
    return out


def test_build_fills_the_marts(built):
    quality = query("select * from marts.mart_data_quality").iloc[0]
    assert quality.figures_loaded == len(load_csv(RECORD))
    assert quality.errata_defined == len(load_csv(REPO / "dbt_project" / "seeds" / "errata.csv"))
    assert quality.figures_touched_by_errata == quality.errata_defined
    assert quality.releases_failing_validation == 0
    assert len(query("select * from marts.mart_ict_exports_growth_monthly")) > 100


def test_a_month_printed_once_is_that_figure(built):
    printed = {}
    for series, period, value in corrected_monthly_figures():
        printed.setdefault((series, period), set()).add(value)
    single = {k: v.pop() for k, v in printed.items() if len(v) == 1}
    mart = query(
        "select series_code, strftime(month, '%Y-%m') as period, value_usd_mn "
        "from marts.mart_ict_exports_growth_monthly"
    )
    values = {(r.series_code, r.period): float(r.value_usd_mn) for r in mart.itertuples()}
    assert len(single) > 50
    for key, value in single.items():
        assert values[key] == pytest.approx(value / 1000), key


def test_every_reported_value_is_the_raw_figure_it_names(built):
    df = query("""
        select f.series_code, f.value_usd_thousand, r.value_number, r.series_code as printed_series, f.erratum_id
        from core.fct_ict_exports_monthly f
        join raw.release_figures r on r.release_id = f.release_id
            and md5(concat_ws('|', r.release_id, cast(r.source_row as varchar), r.period, r.basis)) = f.figure_id
        where f.value_origin = 'reported'""")
    assert len(df) == len(query("select * from core.fct_ict_exports_monthly where value_origin = 'reported'"))
    assert (df.value_usd_thousand.astype(float) == df.value_number).all()
    swapped = df[df.series_code != df.printed_series]
    assert swapped.erratum_id.notna().all()


def test_dbt_unit_tests_pass(dbt_unit_tests):
    """dbt's unit tests check the models' SQL (a build skips them): run once per session, on a copy
    of the built warehouse (tests/conftest.py)."""
    result = dbt_unit_tests
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ERROR=0" in result.stdout and "PASS=0 " not in result.stdout


def test_the_brief_is_written(built):
    growth = query(
        "select * from marts.mart_ict_exports_growth_monthly "
        "where series_code = 'ict_total' order by month desc limit 1"
    ).iloc[0]
    md = (built.reports / "latest.md").read_text()
    html = (built.reports / "latest.html").read_text()
    assert _fmt_mn(float(growth.value_usd_mn)) in md.splitlines()[2]  # press style: $417m
    assert f"{growth.yoy_pct:+.1f}% year on year" in md
    assert "data:image/png;base64," in html and "Data quality" in html and "Sources behind the headline" in html
    assert (built.reports / "latest.png").stat().st_size > 5000


def test_running_again_changes_nothing(built_copy):
    before = query("select count(*) as n, max(loaded_at) as loaded from raw.release_figures").iloc[0]
    validations = len(query("select * from raw.validation_results"))
    assert cli.main(["build"]) == 0
    after = query("select count(*) as n, max(loaded_at) as loaded from raw.release_figures").iloc[0]
    assert (after.n, after.loaded) == (before.n, before.loaded)
    assert len(query("select * from raw.validation_results")) == validations
    assert marts_fingerprint() == built_copy.fingerprint


def test_itx_sql_prints_a_table_and_csv(built):
    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            cli.main(
                [
                    "sql",
                    "select series_code, month, value_usd_mn from marts.mart_ict_exports_growth_monthly "
                    "where series_code = 'ict_total' order by month desc limit 3",
                ]
            )
            == 0
        )
    assert "| series_code" in out.getvalue() and "(3 rows)" in out.getvalue()
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["sql", "select count(*) as n from core.dim_series", "--csv"]) == 0
    assert out.getvalue().splitlines()[0] == "n"


def test_itx_sql_is_read_only(built_copy, capsys, tmp_path):
    record = RECORD.read_bytes()
    target = tmp_path / "out.csv"
    for statement in (
        "create table marts.x as select 1",
        f"copy (select 'x' as period) to '{RECORD}' (header false)",
        f"copy (select 1) to '{target}'",
        f"export database '{tmp_path / 'dump'}'",
        f"attach '{tmp_path / 'other.duckdb'}' as other",
        "install httpfs",
        "set enable_external_access = true",
    ):
        assert cli.main(["sql", statement]) == 2, statement
        assert "only queries are run here" in capsys.readouterr().err
    # a query that reaches for another file is refused by DuckDB itself
    assert cli.main(["sql", f"select * from read_csv('{RECORD}')"]) == 1
    assert "file system operations are disabled" in capsys.readouterr().err
    assert RECORD.read_bytes() == record and not target.exists() and not (tmp_path / "dump").exists()
    assert cli.main(["sql", ""]) == 2
    assert cli.main(["sql", "show tables"]) == 0
