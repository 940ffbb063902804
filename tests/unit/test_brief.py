"""The monthly brief (orchestration/lib/report.py): one breakdown month, press-style numbers,
ranked provenance, three charts, phone-friendly HTML and clean Markdown. Built from a tiny
in-memory warehouse, and from the warehouse the session builds from the bundled releases (e2e)."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pandas as pd
import pytest
from gfm_markdown import markdown_problems, render_markdown

from orchestration.lib import report
from orchestration.lib.fiscal import fiscal_month, fiscal_year, fiscal_year_label
from orchestration.lib.report import (
    _fmt_mn,
    _fmt_pct,
    chart_captions,
    gather_brief,
    md_escape,
    order_publishers,
    rank_sources,
    short_source,
    source_caption,
    source_rank,
    write_brief,
)

SBP = "https://easydata.sbp.org.pk/dataset/TS_GP_BOP_TRDSER_M/download?format=csv&as_of=2026-06-20"
PBS = "https://www.pbs.gov.pk/sites/default/files/external_trade/2026/may.pdf"
MINISTRY = "https://moitt.gov.pk/NewsDetail/it-exports-may-2026"
PRESS = "https://www.dawn.com/news/1999999/it-exports-rise-to-417m-in-may"
GITHUB = "https://github.com/someone/pakistaneconomydashboard/blob/abc123/public/data/services.json"
RAW = "https://raw.githubusercontent.com/someone/pakistaneconomydashboard/abc123/public/data/services.json"

HEADLINE = date(2026, 5, 1)
BREAKDOWN = date(2026, 3, 1)  # the children of ict_total were last printed for March
SERIES = [
    # series_code, ebops, label, parent, level, sort_order, last month printed
    ("ict_total", "9", "Telecommunications, Computer and information services", None, 1, 10, HEADLINE),
    ("telecom_services", "9.1", "Telecommunications services", "ict_total", 2, 20, BREAKDOWN),
    ("computer_services", "9.2", "Computer services", "ict_total", 2, 30, BREAKDOWN),
    ("software_consultancy", "9.2.2", "Software consultancy services", "computer_services", 3, 32, BREAKDOWN),
    ("computer_freelance", "9.2.5", "Freelance of Computer services", "computer_services", 3, 35, date(2026, 2, 1)),
    ("legacy_line", "9.2.9", "Legacy computer line", "computer_services", 3, 39, date(2023, 10, 1)),
    ("information_services", "9.3", "Information services", "ict_total", 2, 40, BREAKDOWN),
]
SHARES = {
    "ict_total": 1.0,
    "telecom_services": 0.15,
    "computer_services": 0.8,
    "software_consultancy": 0.3,
    "computer_freelance": 0.2,
    "legacy_line": 0.05,
    "information_services": 0.05,
}


def _months(start: date, end: date) -> list[date]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


def _fiscal_year(m: date) -> int:
    return fiscal_year(m)  # dim_month's rule (orchestration/lib/fiscal.py)


def _year_ago(m: date) -> date:
    return date(m.year - 1, m.month, 1)


def _sbp(code: str, month: date) -> str | None:
    return "SBP"


def _none(code: str, month: date) -> str | None:
    return None


def _warehouse(publisher=_sbp, cumulative_publisher=_none) -> duckdb.DuckDBPyConnection:
    """The tables and columns the brief reads, with a headline month (May 2026) later than the
    last printed breakdown (March 2026), a line last printed in Oct 2023 and a null YoY.
    publisher(series_code, month): who printed each monthly value (SBP unless told);
    cumulative_publisher(series_code, month): who printed the fiscal year to date the mart
    takes (None: the sum of the months)."""
    conn = duckdb.connect(":memory:")
    for schema in ("marts", "core", "staging"):
        conn.execute(f"create schema {schema}")
    months = _months(date(2022, 7, 1), HEADLINE)
    conn.register(
        "dim_month_df",
        pd.DataFrame(
            {
                "month": months,
                "month_label": [m.strftime("%b %Y") for m in months],
                "fiscal_year": [_fiscal_year(m) for m in months],
                "fiscal_year_label": [fiscal_year_label(_fiscal_year(m)) for m in months],
                "fiscal_month": [fiscal_month(m) for m in months],
            }
        ),
    )
    conn.execute("create table core.dim_month as select * from dim_month_df")
    conn.register(
        "dim_series_df",
        pd.DataFrame(
            [s[:6] + (True,) for s in SERIES],
            columns=["series_code", "ebops_code", "label", "parent_series_code", "level", "sort_order", "is_ict"],
        ),
    )
    conn.execute("create table core.dim_series as select * from dim_series_df")

    rows, selected = [], []
    for code, *_, last in SERIES:
        values = {m: (300 + 4 * i) * SHARES[code] for i, m in enumerate(months) if m <= last}
        for m in months:
            if m not in values:
                continue
            v, fy = values[m], _fiscal_year(m)
            prev = values.get(_year_ago(m))
            fytd = sum(x for k, x in values.items() if _fiscal_year(k) == fy and k <= m)
            if cumulative_publisher(code, m):
                selected.append((code, m, "fytd", fiscal_month(m), fytd * 1000, cumulative_publisher(code, m)))
            fytd_prev = sum(x for k, x in values.items() if _fiscal_year(k) == fy - 1 and k <= _year_ago(m))
            rows.append(
                {
                    "series_code": code,
                    "month": m,
                    "fiscal_year": fy,
                    "fiscal_month": fiscal_month(m),
                    "value_usd_mn": v,
                    "mom_pct": 1.3,
                    # the mart lost computer services' YoY at the breakdown month
                    "yoy_pct": None
                    if (code == "computer_services" and m == BREAKDOWN) or prev is None
                    else (v / prev - 1) * 100,
                    "fytd_usd_mn": fytd,
                    "fytd_yoy_pct": (fytd / fytd_prev - 1) * 100 if fytd_prev else None,
                    "r12_usd_mn": v * 12,
                    "r12_yoy_pct": -2.94,
                    "share_of_ict_pct": 999.0,  # wrong on purpose: the brief computes the share itself
                    "fytd_source": "published" if cumulative_publisher(code, m) else "sum_of_months",
                    "publisher": publisher(code, m),
                }
            )
    conn.register("growth_df", pd.DataFrame(rows))
    conn.execute(
        "create table marts.mart_ict_exports_growth_monthly as select series_code, month, fiscal_year, "
        "fiscal_month, value_usd_mn::decimal(18,4) as value_usd_mn, mom_pct, yoy_pct::double as yoy_pct, "
        "fytd_usd_mn::decimal(38,4) as fytd_usd_mn, fytd_yoy_pct::double as fytd_yoy_pct, "
        "r12_usd_mn::decimal(38,4) as r12_usd_mn, r12_yoy_pct, share_of_ict_pct, fytd_source from growth_df"
    )
    conn.execute(
        """create table core.fct_ict_exports_monthly as
        select series_code, month, value_usd_mn::decimal(18,4) as value_usd_mn, 'reported' as value_origin,
               lower(publisher) || '-2026-06-20' as release_id, publisher, date '2026-06-20' as published_on,
               false as published_on_estimated, ? as source_url
        from growth_df""",
        [RAW],
    )
    conn.execute("create schema intermediate")
    conn.register(
        "selected_df",
        pd.DataFrame(
            selected,
            columns=["series_code", "period_month", "basis_kind", "basis_months", "value_usd_thousand", "publisher"],
        ).astype({"period_month": "datetime64[s]", "basis_months": "int32", "value_usd_thousand": "float64"}),
    )
    conn.execute(
        "create table intermediate.int_figures__selected as select series_code, period_month::date as period_month, "
        "basis_kind, basis_months, value_usd_thousand, publisher from selected_df"
    )
    headline_value = float(
        conn.execute(
            "select value_usd_mn from marts.mart_ict_exports_growth_monthly "
            "where series_code = 'ict_total' and month = ?",
            [HEADLINE],
        ).fetchall()[0][0]
    )
    changes = [
        ("sbp-2026-06-20", "SBP", date(2026, 6, 20), "ict_total", HEADLINE, "month", headline_value, SBP),
        ("press-2026-06-19", "SBP", date(2026, 6, 19), "ict_total", HEADLINE, "month", round(headline_value), PRESS),
        ("moitt-2026-06-19", "SBP", date(2026, 6, 19), "ict_total", HEADLINE, "month", headline_value, MINISTRY),
        ("gh-2026-06-20", "SBP", date(2026, 6, 20), "ict_total", HEADLINE, "month", headline_value, GITHUB),
        ("other-2026-06-20", "SBP", date(2026, 6, 20), "ict_total", HEADLINE, "month", headline_value + 9, PBS),
    ]
    conn.register(
        "changes_df",
        pd.DataFrame(
            changes,
            columns=[
                "release_id",
                "publisher",
                "published_on",
                "series_code",
                "period_month",
                "basis",
                "value_usd_mn",
                "source_url",
            ],
        ),
    )
    conn.execute(
        """create table marts.mart_ict_exports_release_changes as
        select release_id, publisher, published_on, series_code, period_month, basis,
               value_usd_mn::decimal(18,4) as value_usd_mn, null::decimal(18,4) as previous_usd_mn,
               null::varchar as previous_release_id, null::decimal(18,4) as change_usd_mn,
               null::double as change_pct, 'new' as change_kind, source_url
        from changes_df
        union all
        select 'sbp-2026-06-20', 'SBP', date '2026-06-20', 'computer_services', date '2025-07-01', 'month',
               240.0, 250.0, 'sbp-2025-08-20', -10.0, -4.0, 'revised', ?""",
        [SBP],
    )
    # the same printings as facts, with their rounding units: the press prints whole millions
    conn.execute(
        """create table core.fct_ict_export_figures as
        select release_id, publisher, published_on as vintage, series_code, period_month, basis,
               'reported' as value_origin, value_usd_mn * 1000 as value_usd_thousand,
               case when source_url = ? then 1000 else 1 end::double as precision_usd_thousand, source_url
        from changes_df""",
        [PRESS],
    )
    conn.execute("create table marts.mart_reconciliation_issues as select 'sbp_vs_pbs' as check_name")
    conn.execute(
        """create table marts.mart_data_quality as select 5 as releases_loaded, 120 as figures_loaded,
        date '2026-06-20' as latest_publication, 5 as releases_passing_validation, 0 as releases_failing_validation,
        1 as figures_touched_by_errata, 0 as figures_excluded_by_errata, 1 as figures_relabelled_by_errata,
        1 as errata_defined, 0 as figures_with_estimated_date"""
    )
    conn.execute(
        "create table staging.stg_rejected_files as select 'bad.csv' as source_file, null as release_id, "
        "'no header' as rule"
    )
    conn.execute("create table staging.stg_validation_results (release_id varchar, success boolean)")
    return conn


@pytest.fixture(scope="module", params=["fixture", pytest.param("built", marks=pytest.mark.e2e)])
def conn(request):
    if request.param == "built":
        # the session's warehouse, built from the bundled releases (tests/conftest.py)
        connection = duckdb.connect(str(request.getfixturevalue("built").warehouse), read_only=True)
    else:
        connection = _warehouse()
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def written(conn, tmp_path_factory):
    brief = gather_brief(conn)
    paths = write_brief(brief, tmp_path_factory.mktemp("reports"))
    return brief, paths, paths["html"].read_text(), paths["markdown"].read_text()


# --- pure functions ---------------------------------------------------------------------------


def test_provenance_ranks_the_publisher_then_a_ministry_then_the_press_then_aggregators():
    assert rank_sources([RAW, PRESS, GITHUB, MINISTRY, SBP]) == [SBP, MINISTRY, PRESS, RAW, GITHUB]
    assert [source_rank(u) for u in (SBP, PBS, MINISTRY, "https://finance.gov.pk/x", PRESS, GITHUB, RAW)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        3,
    ]
    assert source_rank(None) == 4 and rank_sources([SBP, SBP, None]) == [SBP]


def test_a_link_is_named_by_its_domain_and_a_short_title():
    for url in (SBP, PBS, MINISTRY, PRESS, GITHUB, RAW):
        label = short_source(url)
        assert "://" not in label and len(label) < 80
    assert short_source(SBP).startswith("easydata.sbp.org.pk")
    assert short_source(PRESS).startswith("dawn.com: It exports rise")


@pytest.mark.parametrize(
    ("value", "text"),
    [(417.3, "$417m"), (38.46, "$38.5m"), (4660.4, "$4.66bn"), (999.7, "$1.00bn"), (0.874, "$0.87m"), (None, "n/a")],
)
def test_money_is_in_press_style(value, text):
    assert _fmt_mn(value) == text


@pytest.mark.parametrize(("value", "text"), [(17.84, "+17.8%"), (-2.94, "-2.9%"), (-0.01, "+0.0%"), (None, "n/a")])
def test_growth_is_in_press_style(value, text):
    assert _fmt_pct(value) == text


# --- the brief --------------------------------------------------------------------------------

GROWTH = re.compile(r"^([+-]\d+\.\d%|n/a)$")
MONEY = re.compile(r"\$\d[\d,]*(?:\.\d+)?(?:m|bn)\b")


def _text(html: str) -> str:
    body = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_the_breakdown_is_of_one_month_and_says_which(written):
    brief, _, html, md = written
    assert brief.series and brief.breakdown_month is not None
    assert {s["month"] for s in brief.series} == {brief.breakdown_month}
    assert set(re.findall(r'<tr data-month="([^"]+)"', html)) == {str(brief.breakdown_month)}
    # the publisher named is the one of the lines shown
    printed_by = order_publishers(s["publisher"] for s in brief.series if s["value_usd_mn"] is not None)
    assert brief.breakdown_printed_by == " and ".join(printed_by)
    label = f"Breakdown for {brief.breakdown_month_label}, the latest {brief.breakdown_printed_by} printed"
    assert brief.breakdown_label.startswith(label) and label in html and md_escape(label) in md
    for s in brief.series:
        if s["value_usd_mn"] is not None and brief.breakdown_total:
            expected = s["value_usd_mn"] / brief.breakdown_total["value_usd_mn"] * 100
            assert s["share_of_ict_pct"] == pytest.approx(expected)


def test_the_fixture_breakdown_is_the_last_printed_month_with_its_own_fiscal_year():
    brief = gather_brief(_warehouse())
    assert brief.month == HEADLINE and brief.breakdown_month == BREAKDOWN
    assert brief.breakdown_month_label == "Mar 2026" and brief.breakdown_fiscal_year_label == "FY26"
    codes = [s["series_code"] for s in brief.series]
    assert "legacy_line" not in codes and [s["series_code"] for s in brief.no_longer_printed] == ["legacy_line"]
    # printed within the year, not that month: kept in the table, without a value
    freelance = next(s for s in brief.series if s["series_code"] == "computer_freelance")
    assert freelance["value_usd_mn"] is None and freelance["last_month_label"] == "Feb 2026"
    computer = next(s for s in brief.series if s["series_code"] == "computer_services")
    assert computer["yoy_pct"] is not None  # computed from March 2025 when the mart has none
    assert computer["share_of_ict_pct"] == pytest.approx(80.0)
    assert computer["fytd_yoy_pct"] is not None


def test_numbers_are_in_press_style(written):
    brief, _, html, md = written
    spans = re.findall(r'<span class="(up|down|flat)">([^<]*)</span>', html)
    assert spans and all(GROWTH.match(text) for _, text in spans)
    assert all((cls == "up") == text.startswith("+") for cls, text in spans if text not in ("n/a", "+0.0%"))
    text = _text(html)
    for token in re.findall(r"\S*%", text):
        assert re.fullmatch(r"\(?[+-]?\d+\.\d%[),.;]?", token), token
    for token in re.findall(r"\$\S*", text + md):
        assert MONEY.match(token), token
    assert " million" not in text and " billion" not in md
    assert brief.headline.startswith("Pakistan's ICT exports were $") and "year on year" in brief.headline


def test_three_charts_are_drawn(written):
    _, paths, html, md = written
    for kind in ("chart", "chart_fytd", "chart_breakdown"):
        assert paths[kind].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[kind].stat().st_size > 5000
        assert f"]({paths[kind].name})" in md
    # each chart wide, and narrow for a phone
    assert html.count('<img alt="') == 3 and html.count('<source media="(max-width: 40rem)"') == 3
    assert html.count("data:image/png;base64,") == 6
    assert (paths["html"].parent / "latest.png").exists()
    # the month stays the last "_" part of every file name (publication sorts the briefs by it)
    assert {p.name.split("_")[-1].split(".")[0] for p in paths.values()} == {f"{paths['html'].stem[-7:]}"}


def test_data_as_of_and_generated(written):
    brief, _, html, md = written
    line = re.compile(r"Data as of \d{1,2} \w{3} \d{4} \(release [^)]+\), generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert line.search(html) and line.search(md)
    assert f"{source_caption(brief.publishers)}; data as of {brief.data_as_of}" in html


def test_the_headline_cites_the_most_official_page_and_footnotes_the_rest():
    brief = gather_brief(_warehouse())
    latest = brief.sources[0]
    assert latest["month"] == HEADLINE and latest["cited_url"] == SBP
    (note,) = [f for f in brief.footnotes if f["number"] == latest["footnote"]]
    # the PBS page printed another value: not a source of this one
    assert [o["url"] for o in note["others"]] == [MINISTRY, PRESS, RAW, GITHUB]


def test_the_html_fits_a_phone_and_the_markdown_has_no_entities(written):
    _, _, html, md = written
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "overflow-x: auto" in html
    assert html.count('<div class="table-wrap">') == html.count("<table")
    assert "&nbsp;" not in md and not re.search(r"&[a-z]+;|&#\d+;", md)
    assert "raw.githubusercontent.com/" not in _text(html)


def test_what_the_brief_showed_before_is_still_there(written):
    brief, _, html, md = written
    assert "data:image/png;base64," in html and "Data quality" in html and "Sources behind the headline" in html
    assert f"{brief.ict['yoy_pct']:+.1f}% year on year" in md
    assert md.splitlines()[2] == f"**{md_escape(brief.headline)}**"
    for section in ("What this release revised", "Reconciliation of the publishers", "Quarantined"):
        assert section in html and section in md


def test_the_fixture_brief_names_sbp_alone():
    brief = gather_brief(_warehouse())
    assert brief.breakdown_printed_by == "SBP" and brief.publishers == ["SBP"]
    assert brief.breakdown_label == "Breakdown for Mar 2026, the latest SBP printed (the headline is for May 2026)"
    assert chart_captions(brief)["chart"] == f"Source: SBP; data as of {brief.data_as_of}"


# --- who printed what: the publisher named is the publisher of the figures shown -------------


def _pbs_breakdown(code: str, month: date) -> str:
    """PBS printed the lines under the total for the breakdown month; SBP everything else."""
    return "PBS" if month == BREAKDOWN and code != "ict_total" else "SBP"


def _pbs_month(code: str, month: date) -> str:
    """PBS printed everything for the breakdown month, the total too."""
    return "PBS" if month == BREAKDOWN else "SBP"


def _figcaptions(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<figcaption>(.*?)</figcaption>", html, flags=re.S)]


@pytest.fixture(scope="module")
def pbs_breakdown_written(tmp_path_factory):
    """The brief of a warehouse whose breakdown PBS printed, written once, with the caption drawn
    under each chart (wide and narrow): (brief, paths, [(title, layout, caption)])."""
    drawn = []
    finish = report._finish

    def spy(plt, fig, caption, layout="wide"):
        drawn.append((fig.axes[0].get_title(loc="left").replace("\n", " "), layout, caption))
        return finish(plt, fig, caption, layout)

    brief = gather_brief(_warehouse(publisher=_pbs_breakdown))
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(report, "_finish", spy)
        paths = write_brief(brief, tmp_path_factory.mktemp("pbs-breakdown"))
    return brief, paths, drawn


def test_a_breakdown_printed_by_pbs_says_pbs(pbs_breakdown_written):
    brief, paths, _ = pbs_breakdown_written
    assert brief.breakdown_month == BREAKDOWN and brief.breakdown_printed_by == "PBS"
    assert brief.breakdown_label == (
        "Breakdown for Mar 2026, the latest PBS printed (the ICT total as SBP printed it; the headline is for May 2026)"
    )
    assert "SBP printed (" not in brief.breakdown_label
    # the shares are of PBS's lines and SBP's total; the 24 months are SBP's totals
    assert brief.chart_publishers == {"chart": ["SBP"], "chart_fytd": ["SBP"], "chart_breakdown": ["SBP", "PBS"]}
    html, md = paths["html"].read_text(), paths["markdown"].read_text()
    assert f'<p class="breakdown-label">{brief.breakdown_label}.</p>' in html
    assert f"\n{md_escape(brief.breakdown_label)}.\n" in md
    assert "the latest SBP printed" not in html + md
    captions = _figcaptions(html)
    assert [c.split(". ", 1)[1].split(";")[0] for c in captions] == ["Source: SBP", "Source: SBP, PBS", "Source: SBP"]
    assert "_Source: SBP, PBS; data as of" in md
    assert f"{source_caption(['SBP', 'PBS'])}; data as of" in html  # the page's own line names both


def test_a_month_printed_by_pbs_alone_names_pbs_alone():
    brief = gather_brief(_warehouse(publisher=_pbs_month))
    assert brief.breakdown_printed_by == "PBS"
    assert brief.breakdown_label == "Breakdown for Mar 2026, the latest PBS printed (the headline is for May 2026)"
    captions = chart_captions(brief)
    assert captions["chart_breakdown"].startswith("Source: PBS; data as of ")
    # March 2026 is among the 24 months and the months summed into the fiscal year to date
    assert captions["chart"].startswith("Source: SBP, PBS; data as of ")
    assert captions["chart_fytd"].startswith("Source: SBP, PBS; data as of ")
    assert brief.sources[0]["publisher"] == "SBP" and brief.publishers == ["SBP", "PBS"]


def test_a_printed_cumulative_is_credited_to_its_publisher():
    """The fiscal year to date plotted is the cumulative PBS printed: its caption names PBS,
    not the publisher of the months (which are not plotted)."""
    fy26 = {m for m in _months(date(2025, 7, 1), HEADLINE)}
    fy25 = {m for m in _months(date(2024, 7, 1), date(2025, 6, 1))}
    brief = gather_brief(
        _warehouse(cumulative_publisher=lambda code, m: "PBS" if code == "ict_total" and m in fy26 | fy25 else None)
    )
    assert brief.chart_publishers["chart_fytd"] == ["PBS"] and brief.chart_publishers["chart"] == ["SBP"]
    assert chart_captions(brief)["chart_fytd"].startswith("Source: PBS; data as of ")
    # one month of the year summed instead of printed brings SBP back
    brief = gather_brief(
        _warehouse(cumulative_publisher=lambda code, m: "PBS" if code == "ict_total" and m in fy26 else None)
    )
    assert brief.chart_publishers["chart_fytd"] == ["SBP", "PBS"]


def test_each_chart_image_carries_its_own_caption(pbs_breakdown_written):
    """The caption drawn under each chart (wide and narrow) is the one naming its publishers."""
    brief, _, drawn = pbs_breakdown_written
    captions = chart_captions(brief)
    assert len(drawn) == 6 and {layout for _, layout, _ in drawn} == {"wide", "narrow"}
    for title, _, caption in drawn:
        kind = (
            "chart_breakdown"
            if title.startswith("What the exports were made of")
            else "chart_fytd"
            if title.startswith("Exports so far")
            else "chart"
        )
        assert caption == captions[kind], title
    assert sum(c.startswith("Source: SBP, PBS;") for *_, c in drawn) == 2  # the breakdown, both layouts


@pytest.mark.parametrize(
    ("names", "ordered"),
    [(["PBS", "SBP", None, "PBS"], ["SBP", "PBS"]), (["PBS"], ["PBS"]), (["Ministry", "PBS"], ["PBS", "Ministry"])],
)
def test_publishers_are_named_most_official_first(names, ordered):
    assert order_publishers(names) == ordered
    assert source_caption(names, "1 Jun 2026") == f"Source: {', '.join(ordered)}; data as of 1 Jun 2026"


# --- Markdown as GitHub renders it ------------------------------------------------------------


def test_the_markdown_renders_cleanly_on_github(written):
    brief, _, _, md = written
    assert markdown_problems(md) == []
    assert md.startswith(f"# Pakistan ICT exports: {brief.month_label}\n")
    rendered = render_markdown(md)
    assert f"were {_fmt_mn(brief.ict['value_usd_mn'])} in" in rendered and "\\$" not in rendered


def test_markdown_problems_are_found():
    bad = "text\n| a | b |\n|---|---|\n| 1 | 2 | 3 |\n\nfrom $417m to $4.66bn&nbsp;"
    found = markdown_problems(bad)
    assert any("blank line" in p for p in found) and any("3 cells" in p for p in found)
    assert any("entity" in p for p in found) and any("unescaped $" in p for p in found)
    assert markdown_problems(md_escape("a | b costs $417m")) == []
    # a table without its delimiter row renders as text
    assert markdown_problems("text\n\n| a | b |\n| 1 | 2 |\n") == ["line 4: no delimiter row"]
