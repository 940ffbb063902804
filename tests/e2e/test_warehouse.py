"""The whole warehouse, through Dagster, into a temporary warehouse: the marts against values
computed from the raw record, idempotence, a bad release, the brief and `itx sql`."""

import csv
import io
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd
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


def test_growth_is_consistent_with_the_marts_own_values(built):
    g = query("select * from marts.mart_ict_exports_growth_monthly").sort_values(["series_code", "month"])
    g["month"] = pd.to_datetime(g["month"])
    g["value_usd_mn"] = g["value_usd_mn"].astype(float)
    g["fytd_usd_mn"] = g["fytd_usd_mn"].astype(float)
    by_key = g.set_index(["series_code", "month"])
    checked = {"mom": 0, "yoy": 0, "fytd_sum": 0, "fytd_yoy": 0}

    def growth(current, base):
        return (current / base - 1) * 100 if pd.notna(current) and pd.notna(base) and base else None

    for row in g.itertuples():
        prev_month = by_key["value_usd_mn"].get((row.series_code, row.month - pd.DateOffset(months=1)))
        year_ago = row.month - pd.DateOffset(months=12)
        prev_year = by_key["value_usd_mn"].get((row.series_code, year_ago))
        for name, column, base in (("mom", "mom_pct", prev_month), ("yoy", "yoy_pct", prev_year)):
            expected = growth(row.value_usd_mn, base)
            if expected is None:
                assert pd.isna(getattr(row, column)), (row, column)
            else:
                assert getattr(row, column) == pytest.approx(expected, abs=1e-3)
                checked[name] += 1
        expected = growth(row.fytd_usd_mn, by_key["fytd_usd_mn"].get((row.series_code, year_ago)))
        if expected is None:
            assert pd.isna(row.fytd_yoy_pct)
        else:
            assert row.fytd_yoy_pct == pytest.approx(expected, abs=1e-3)
            checked["fytd_yoy"] += 1
        if row.fytd_source == "sum_of_months":
            fy = g[(g.series_code == row.series_code) & (g.fiscal_year == row.fiscal_year) & (g.month <= row.month)]
            assert fy.value_usd_mn.notna().sum() == row.fiscal_month
            assert row.fytd_usd_mn == pytest.approx(fy.value_usd_mn.sum(), abs=1e-6)
            checked["fytd_sum"] += 1
    assert min(checked.values()) > 20, checked


def test_fiscal_year_starts_in_july():
    months = query("select month, fiscal_year, fiscal_month from core.dim_month")
    for row in months.itertuples():
        month = pd.Timestamp(row.month)
        assert row.fiscal_month == (month.month - 7) % 12 + 1
        assert row.fiscal_year == month.year + (1 if month.month >= 7 else 0)


def test_dbt_unit_tests_pass(built):
    dbt = Path(sys.executable).with_name("dbt")
    result = subprocess.run(
        [
            str(dbt),
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(REPO / "dbt_project"),
            "--profiles-dir",
            str(REPO / "dbt_project"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "ERROR=0" in result.stdout and "PASS=0 " not in result.stdout


def test_the_brief_is_written(built, state_dir):
    growth = query(
        "select * from marts.mart_ict_exports_growth_monthly "
        "where series_code = 'ict_total' order by month desc limit 1"
    ).iloc[0]
    md = (state_dir / "reports" / "latest.md").read_text()
    html = (state_dir / "reports" / "latest.html").read_text()
    assert _fmt_mn(float(growth.value_usd_mn)) in md.splitlines()[2]  # press style: $417m
    assert f"{growth.yoy_pct:+.1f}% year on year" in md
    assert "data:image/png;base64," in html and "Data quality" in html and "Sources behind the headline" in html
    assert (state_dir / "reports" / "latest.png").stat().st_size > 5000


def test_running_again_changes_nothing(built):
    before = query("select count(*) as n, max(loaded_at) as loaded from raw.release_figures").iloc[0]
    validations = len(query("select * from raw.validation_results"))
    assert cli.main(["build"]) == 0
    after = query("select count(*) as n, max(loaded_at) as loaded from raw.release_figures").iloc[0]
    assert (after.n, after.loaded) == (before.n, before.loaded)
    assert len(query("select * from raw.validation_results")) == validations
    assert marts_fingerprint() == built


def test_a_bad_release_in_the_inbox_is_quarantined_and_the_rest_still_builds(built, write_release, capsys):
    inbox = Path(os.environ["ITX_INBOX"])
    growth = query("select * from marts.mart_ict_exports_growth_monthly order by all")
    latest = growth.month.max()
    period = (pd.Timestamp(latest) + pd.DateOffset(months=1)).strftime("%Y-%m")
    published = (pd.Timestamp(latest) + pd.DateOffset(months=2, days=17)).strftime("%Y-%m-%d")
    path = write_release(
        "sbp_bad_month.csv",
        [
            [period, "ict_total", "20000", "month", "SBP", published, "https://example.org/bad", "", "source"],
        ],
        directory=inbox,
    )
    try:
        assert cli.main(["build"]) == 1
        err = capsys.readouterr().err
        assert "sbp_bad_month.csv" in err and "plausible magnitude" in err and "row(s) 2" in err
        assert query("select * from marts.mart_ict_exports_growth_monthly order by all").equals(growth)
        assert path.exists()
        failed = query("select release_id, failures_json from raw.validation_results where not success")
        assert list(failed.release_id) == [f"sbp-{published}-sbp-bad-month"]
        assert query("select count(*) as n from raw.release_figures where release_id like '%bad-month'").iloc[0].n == 0
        quality = query("select files_rejected, releases_rejected, rejected_files from marts.mart_data_quality")
        assert (quality.files_rejected[0], quality.releases_rejected[0]) == (1, 1)
        assert "sbp_bad_month.csv" in quality.rejected_files[0]
    finally:
        path.unlink()
    assert cli.main(["build"]) == 0
    assert marts_fingerprint() == built


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


def test_itx_sql_is_read_only(built, capsys, tmp_path):
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
