"""The `itx` commands a user reads the warehouse with: what they print, and how they refuse."""

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import duckdb
import pytest
from e2e_helpers import query

from orchestration import cli

pytestmark = pytest.mark.e2e


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_releases_lists_every_release_and_takes_the_publisher_in_any_case(built):
    code, out, _ = run("releases", "--csv")
    assert code == 0
    loaded = query("select release_id from marts.mart_releases")
    assert len(out.strip().splitlines()) == len(loaded) + 1  # header
    code, out, _ = run("releases", "--publisher", "pbs", "--csv")
    ids = [line.split(",")[0] for line in out.strip().splitlines()[1:]]
    assert code == 0 and ids and all(i.startswith("pbs-") for i in ids)
    assert len(ids) == len(query("select * from marts.mart_releases where publisher = 'PBS'"))
    code, _, err = run("releases", "--publisher", "ministry")
    assert code == 2 and "unknown publisher 'ministry'" in err and "SBP" in err


def test_an_unknown_series_or_release_is_refused_listing_the_known_ones(built):
    code, out, err = run("asof", "2024-01-01", "--series", "nope")
    assert code == 2 and not out and "unknown series 'nope'" in err and "ict_total" in err
    code, _, err = run("revisions", "--series", "computer_servics")
    assert code == 2 and "Did you mean computer_services" in err
    code, _, err = run("revisions", "--release", "sbp-2023-08-19")
    assert code == 2 and "unknown release 'sbp-2023-08-19'" in err and "sbp-2023-08-18" in err


def test_a_day_before_the_first_release_is_refused_with_the_first_date(built):
    first = query("select cast(min(known_from) as varchar) as d from intermediate.int_figures__selection_intervals")
    first = first.iloc[0].d
    code, out, err = run("asof", "2010-01-01")
    assert code == 2 and not out and f"published on {first}" in err
    code, out, _ = run("asof", "2023-09-20", "--publisher", "pbs")  # any case
    assert code == 0 and "| 2023-07-01 |" in out


def test_no_rows_is_said_out_loud_and_empty_sql_is_refused(built):
    code, out, _ = run("sql", "select * from marts.mart_ict_exports_growth_monthly where false")
    assert code == 0 and out.strip() == "no rows"
    code, out, _ = run("sql", "show tables")
    assert code == 0 and "show all tables" in out
    code, _, err = run("sql", "  ")
    assert code == 2 and "no SQL given" in err


def test_export_writes_every_mart_as_parquet_or_csv(built, tmp_path):
    import pandas as pd

    marts = {
        n
        for (n,) in query("select table_name from information_schema.tables where table_schema = 'marts'").itertuples(
            index=False
        )
    }
    code, out, _ = run("export", "--out", str(tmp_path / "parquet"))
    assert code == 0 and f"{len(marts)} marts written" in out
    assert {p.stem for p in (tmp_path / "parquet").glob("*.parquet")} == marts
    growth = query("select count(*) as n from marts.mart_ict_exports_growth_monthly").iloc[0].n
    conn = duckdb.connect()
    assert (
        conn.execute(
            f"select count(*) from '{tmp_path / 'parquet' / 'mart_ict_exports_growth_monthly.parquet'}'"
        ).fetchone()[0]
        == growth
    )
    code, _, _ = run("export", "--format", "CSV", "--out", str(tmp_path / "csv"))
    assert code == 0
    assert len(pd.read_csv(tmp_path / "csv" / "mart_ict_exports_growth_monthly.csv")) == growth


def test_fetch_with_every_download_off_says_so(monkeypatch):
    for name in ("ITX_FETCH_EBOPS_URL", "ITX_FETCH_BPM6_URL", "ITX_FETCH_EASYDATA_URL"):
        monkeypatch.setenv(name, "")
    code, out, _ = run("fetch")
    assert code == 0 and "nothing to fetch" in out


@pytest.fixture
def sbp_site():
    """SBP's workbook served on 127.0.0.1, as the fetch would find it on sbp.org.pk."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    root = Path(__file__).resolve().parents[1] / "fixtures" / "sbp"
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port_url() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/ecodata/Balancepayment_BPM6.xls"


def test_fetch_stores_the_files_and_a_refused_connection_is_one_clear_line(sbp_site, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    monkeypatch.setenv("ITX_INBOX", str(inbox))
    monkeypatch.setenv("ITX_FETCH_ATTEMPTS", "1")
    monkeypatch.setenv("ITX_FETCH_EBOPS_URL", f"{sbp_site}/ebops_jul-may_fy26.xls")
    monkeypatch.setenv("ITX_FETCH_BPM6_URL", "")
    monkeypatch.setenv("ITX_FETCH_EASYDATA_URL", "")
    code, out, err = run("fetch")
    assert code == 0, err
    assert "downloaded 1" in out and str(inbox) in out
    served = (Path(__file__).resolve().parents[1] / "fixtures" / "sbp" / "ebops_jul-may_fy26.xls").read_bytes()
    (stored,) = [p for p in inbox.iterdir() if not p.name.endswith(".json")]
    assert stored.name.endswith("ebops_jul-may_fy26.xls") and stored.read_bytes() == served

    refused = closed_port_url()
    monkeypatch.setenv("ITX_FETCH_BPM6_URL", refused)
    code, out, err = run("fetch")
    assert code == 1
    lines = err.strip().splitlines()
    assert "Traceback" not in out + err and len(lines) <= 3, err
    assert "1 of 2 release downloads failed (nothing new was stored)" in err  # the workbook is unchanged
    assert any("bpm6_summary" in line and refused in line and "network error" in line for line in lines), err
    assert [p for p in inbox.iterdir() if not p.name.endswith(".json")] == [stored]


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_every_command_has_a_description_and_an_example(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    description, examples = cli.COMMANDS[command]
    assert description.split(". ")[0] in " ".join(text.split()) and "examples:" in text
    assert examples.splitlines()[0] in text


def test_docs_builds_dbts_site_from_a_copy_of_the_warehouse(docs_site):
    """`itx docs` on the built state, in a process of its own (tests/states.py: build_docs)."""
    done = docs_site.done
    assert done.returncode == 0, done.stderr[-3000:]
    page = docs_site.page
    assert str(page) in done.stdout and "mart_ict_exports_growth_monthly" in page.read_text()
    assert docs_site.untouched  # the published warehouse was never opened for writing
