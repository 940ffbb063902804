"""The brief as a reader sees it: data/reports/latest.html of the warehouse built through Dagster,
rendered by a real headless browser (Debian's Chromium, driven by Playwright), at a desktop's
and a phone's width. What is checked is what the browser renders (text, computed styles, loaded
images, layout), and every figure expected is read from the marts, never typed in.

Needs /usr/bin/chromium (`make browser`); the test fails, not skips, without it."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from e2e_helpers import query
from gfm_markdown import markdown_problems

from orchestration.lib.report import _fmt_mn, _fmt_pct, source_rank

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PUBLISHERS = ("SBP", "PBS")  # most official first, as the brief names them

MONEY = r"\$\d[\d,]*(?:\.\d+)?(?:m|bn)"
GROWTH = re.compile(r"[+-]\d+\.\d%")


# --- the browser and the page -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the dev dependencies are locked
        pytest.fail(f"playwright is not installed ({exc}): run `make install`", pytrace=False)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def brief_file(built) -> Path:
    path = built.reports / "latest.html"
    assert path.exists(), f"the build wrote no brief at {path}"
    return path


def _open(browser, brief_file: Path, viewport: dict):
    page = browser.new_page(viewport=viewport, device_scale_factor=1)
    page.set_default_timeout(10_000)  # an element missing fails in seconds, not Playwright's 30
    page.goto(brief_file.as_uri(), wait_until="load")
    page.wait_for_function("[...document.images].every(i => i.complete)")
    return page


@pytest.fixture
def page(browser, brief_file):
    page = _open(browser, brief_file, DESKTOP)
    yield page
    page.close()


@pytest.fixture
def phone(browser, brief_file):
    page = _open(browser, brief_file, PHONE)
    yield page
    page.close()


# --- what the marts say -----------------------------------------------------------------------


def _ordered(names) -> list[str]:
    names = {n for n in names if n}
    return sorted(names, key=lambda n: (PUBLISHERS.index(n) if n in PUBLISHERS else len(PUBLISHERS), n))


@pytest.fixture(scope="module")
def marts(built) -> dict:
    """The figures the brief should show, read from the built warehouse."""
    ict = query(
        """select g.*, m.month_label, m.fiscal_year_label
        from marts.mart_ict_exports_growth_monthly g join core.dim_month m using (month)
        where g.series_code = 'ict_total' order by g.month desc limit 1"""
    ).iloc[0]
    headline = ict.month.date() if hasattr(ict.month, "date") else ict.month
    at = query(
        """select max(g.month) as month from marts.mart_ict_exports_growth_monthly g
        join core.dim_series s using (series_code)
        where s.parent_series_code = 'ict_total' and g.value_usd_mn is not null and g.month <= ?""",
        [headline],
    ).month[0]
    lines = query(
        """select s.series_code, s.label, s.parent_series_code, g.value_usd_mn, g.yoy_pct, g.fytd_usd_mn,
               f.publisher, m.month_label
        from core.dim_series s
        join marts.mart_ict_exports_growth_monthly g on g.series_code = s.series_code and g.month = ?
        join core.dim_month m on m.month = g.month
        left join core.fct_ict_exports_monthly f on f.series_code = g.series_code and f.month = g.month
        where s.is_ict and g.value_usd_mn is not null order by s.sort_order""",
        [at],
    )
    children = lines[lines.series_code != "ict_total"]
    history = query(
        """select f.publisher from core.fct_ict_exports_monthly f
        where f.series_code = 'ict_total' and f.month > ?::date - interval 24 month and f.month <= ?""",
        [headline, headline],
    )
    # the fiscal year to date plotted: the cumulative printed (its publisher) or the months summed
    fytd = query(
        """with g as (
            select * from marts.mart_ict_exports_growth_monthly
            where series_code = 'ict_total' and fiscal_year in (?, ? - 1) and month <= ? and fytd_usd_mn is not null
        )
        select c.publisher from g join intermediate.int_figures__selected c
            on c.series_code = g.series_code and c.period_month = g.month
           and c.basis_kind = 'fytd' and c.basis_months = g.fiscal_month
        where g.fytd_source = 'published'
        union all
        select f.publisher from g join core.fct_ict_exports_monthly f
            on f.series_code = g.series_code and f.fiscal_year = g.fiscal_year and f.fiscal_month <= g.fiscal_month
        where g.fytd_source is distinct from 'published'""",
        [int(ict.fiscal_year), int(ict.fiscal_year), headline],
    )
    sources = query(
        """select f.month, m.month_label, f.value_usd_mn, f.source_url, f.publisher
        from core.fct_ict_exports_monthly f join core.dim_month m using (month)
        where f.series_code = 'ict_total'
          and f.month in (?::date, ?::date - interval 1 month, ?::date - interval 12 month)
        order by f.month desc""",
        [headline, headline, headline],
    )
    printed = query(
        """select period_month as month, value_usd_mn, source_url from marts.mart_ict_exports_release_changes
        where series_code = 'ict_total' and basis = 'month'"""
    )
    latest = query(
        """select published_on, string_agg(distinct release_id, ', ' order by release_id) as ids
        from marts.mart_ict_exports_release_changes
        where published_on = (select max(published_on) from marts.mart_ict_exports_release_changes)
        group by published_on"""
    ).iloc[0]
    breakdown_chart = [p for p in children.publisher] + list(lines[lines.series_code == "ict_total"].publisher)
    return {
        "ict": ict,
        "breakdown_month": at,
        "breakdown_label": lines.month_label.iloc[0],
        "lines": lines,
        "children": children,
        "printed_by": " and ".join(_ordered(children.publisher)),
        "chart_publishers": [
            _ordered(history.publisher),
            _ordered(breakdown_chart),
            _ordered(fytd.publisher),
        ],
        "sources": sources,
        "printed": printed,
        "latest": latest,
    }


def _date(value):
    return value.date() if hasattr(value, "date") else value


# --- the checks -------------------------------------------------------------------------------


def test_the_breakdown_is_one_month_labelled_with_its_publisher(page, marts):
    month, label = _date(marts["breakdown_month"]), marts["breakdown_label"]
    tables = page.locator("table.breakdown")
    assert tables.count() == 1, "exactly one breakdown table"
    assert tables.get_attribute("data-month") == str(month)
    said = page.locator("p.breakdown-label").inner_text()
    expected = f"Breakdown for {label}, the latest {marts['printed_by']} printed"
    assert said.startswith(expected), f"{said!r} should start {expected!r} (the publisher of the lines shown)"
    if month != _date(marts["ict"].month):
        assert f"the headline is for {marts['ict'].month_label}" in said
    assert page.locator("table.breakdown th").nth(2).inner_text() == label

    rows = page.eval_on_selector_all(
        "table.breakdown tr:not(:first-child)",
        "rows => rows.map(r => ({month: r.dataset.month || null, total: r.classList.contains('total'),"
        " cells: [...r.cells].map(c => c.innerText.trim())}))",
    )
    lines = [r for r in rows if not r["total"]]
    assert lines and {r["month"] for r in lines} == {str(month)}, "every line is of the breakdown month"
    shown = {r["cells"][1].split(" (not printed")[0]: r["cells"] for r in lines}
    for line in marts["children"].itertuples():
        assert line.label in shown, f"{line.label} printed for {label} is not in the table"
        cells = shown[line.label]
        assert cells[2] == _fmt_mn(line.value_usd_mn), (line.label, cells)
        if pd.notna(line.yoy_pct):
            assert cells[3] == _fmt_pct(line.yoy_pct), (line.label, cells)
    (total,) = [r for r in rows if r["total"]]
    ict_line = marts["lines"][marts["lines"].series_code == "ict_total"].iloc[0]
    assert total["cells"][2] == _fmt_mn(ict_line.value_usd_mn)


def test_numbers_are_in_press_style(page, marts):
    text = page.locator("body").inner_text()
    ict = marts["ict"]
    headline = page.locator("p.headline").inner_text()
    assert f"were {_fmt_mn(ict.value_usd_mn)} in {ict.month_label}, {_fmt_pct(ict.yoy_pct)} year on year" in headline
    summary = page.eval_on_selector_all("table", "ts => [...ts[0].rows[1].cells].map(c => c.innerText.trim())")
    assert summary[1:] == [
        _fmt_mn(ict.value_usd_mn),
        _fmt_pct(ict.mom_pct),
        _fmt_pct(ict.yoy_pct),
        _fmt_mn(ict.fytd_usd_mn),
        _fmt_pct(ict.fytd_yoy_pct),
        _fmt_mn(ict.r12_usd_mn),
        _fmt_pct(ict.r12_yoy_pct),
    ]
    # money as the press writes it, millions and billions both
    amounts = re.findall(r"\$\S*", text)
    assert amounts and all(re.match(MONEY + r"\b", a) for a in amounts), [a for a in amounts if not re.match(MONEY, a)]
    assert re.search(r"\$\d+m\b", text) and re.search(r"\$\d\.\d\dbn\b", text)
    assert not re.search(r"\d\s*(?:million|billion|mn\b|mln|bln)", text, flags=re.I), "amounts spelled long"
    # growth with one decimal and its sign, a minus as an ASCII hyphen
    for token in re.findall(r"\S*%", text):
        assert re.fullmatch(r"\(?[+-]?\d+\.\d%[),.;]?", token), token
    negatives = [g for g in marts["children"].yoy_pct if pd.notna(g) and g < -0.05]
    assert negatives, "the marts have no falling line to show"
    assert _fmt_pct(negatives[0]) in text and "−" not in text


def test_growth_is_coloured(page):
    cells = page.eval_on_selector_all(
        "td span.up, td span.down, td span.flat",
        "spans => spans.map(s => ({text: s.innerText.trim(), cls: s.className, colour: getComputedStyle(s).color,"
        " cell: getComputedStyle(s.parentElement).color}))",
    )
    up = [c for c in cells if GROWTH.fullmatch(c["text"]) and c["text"].startswith("+") and c["text"] != "+0.0%"]
    down = [c for c in cells if GROWTH.fullmatch(c["text"]) and c["text"].startswith("-")]
    assert up and down, "the brief shows both rises and falls"
    assert {c["cls"] for c in up} == {"up"} and {c["cls"] for c in down} == {"down"}
    (rise,), (fall,) = {c["colour"] for c in up}, {c["colour"] for c in down}
    assert rise != fall, "rises and falls are coloured apart"
    assert rise != up[0]["cell"] and fall != down[0]["cell"], "growth is coloured, not the text colour"


def test_data_as_of_and_generated(page, marts):
    line = page.locator("p.asof").inner_text()
    m = re.fullmatch(
        r"Data as of (\d{1,2} \w{3} \d{4}) \(release ([^)]+)\), generated (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\.", line
    )
    assert m, line
    latest = _date(marts["latest"].published_on)
    assert m.group(1) == f"{latest.day} {latest:%b %Y}" and m.group(2) == marts["latest"].ids
    generated = datetime.strptime(m.group(3), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - generated) < timedelta(hours=6), "generated by this build"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_three_charts_load_with_alt_text_and_a_source_caption(browser, brief_file, marts, viewport):
    page = _open(browser, brief_file, DESKTOP if viewport == "desktop" else PHONE)
    try:
        charts = page.eval_on_selector_all(
            "figure img",
            "imgs => imgs.map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth,"
            " shown: i.getBoundingClientRect().width, narrow: i.currentSrc !== i.src,"
            " caption: i.closest('figure').querySelector('figcaption')?.innerText || ''}))",
        )
    finally:
        page.close()
    assert len(charts) == 3
    for chart, publishers in zip(charts, marts["chart_publishers"], strict=True):
        assert chart["complete"] and chart["width"] > 0, f"chart not loaded: {chart['alt']!r}"
        assert len(chart["alt"]) > 20, chart["alt"]
        assert f"Source: {', '.join(publishers)}; data as of " in chart["caption"], (chart["caption"], publishers)
        assert 0 < chart["shown"] <= (DESKTOP if viewport == "desktop" else PHONE)["width"]
        # a phone gets the narrow drawing, a desktop the wide one
        assert chart["narrow"] == (viewport == "phone")
    assert marts["breakdown_label"] in charts[1]["alt"]


def test_the_sources_cite_short_links_most_official_first(page, marts):
    rows = page.eval_on_selector_all(
        "table.sources tr:not(:first-child)",
        "rows => rows.map(r => ({cells: [...r.cells].map(c => c.innerText.trim()),"
        " cited: {href: r.querySelector('a.cited').href, text: r.querySelector('a.cited').innerText},"
        " note: r.querySelector('sup a')?.getAttribute('href') || null}))",
    )
    expected = marts["sources"]
    assert [r["cells"][0] for r in rows] == list(expected.month_label)
    printed = marts["printed"]
    for row, source in zip(rows, expected.itertuples(), strict=True):
        assert row["cells"][1] == _fmt_mn(source.value_usd_mn)
        assert row["cells"][3] == source.publisher
        href, text = row["cited"]["href"], row["cited"]["text"]
        assert "://" not in text and len(text) <= 70 and text != href, f"not a short readable link text: {text!r}"
        # every page that printed this value (the press's rounding): the one cited is the most official
        same = printed[
            (printed.month.map(_date) == _date(source.month))
            & ((printed.value_usd_mn - source.value_usd_mn).abs() <= 0.5)
        ]
        pages = {source.source_url, *same.source_url}
        assert href in pages, href
        assert source_rank(href) == min(source_rank(u) for u in pages), (href, sorted(pages, key=source_rank))
        if row["note"]:
            others = page.eval_on_selector_all(
                f"li{row['note']} a", "links => links.map(a => ({href: a.href, text: a.innerText}))"
            )
            ranks = [source_rank(o["href"]) for o in others]
            assert ranks == sorted(ranks) and all(r >= source_rank(href) for r in ranks), others
            assert all("://" not in o["text"] for o in others)


def test_a_phone_scrolls_no_table_off_the_page(phone):
    layout = phone.evaluate(
        """() => ({
            scrollWidth: document.scrollingElement.scrollWidth,
            viewport: window.innerWidth,
            tables: [...document.querySelectorAll('table')].map(t => ({
                wrapped: t.parentElement.classList.contains('table-wrap'),
                overflow: getComputedStyle(t.parentElement).overflowX,
                right: t.parentElement.getBoundingClientRect().right,
            })),
            images: [...document.images].map(i => i.getBoundingClientRect().right),
        })"""
    )
    assert layout["viewport"] == PHONE["width"]
    assert layout["scrollWidth"] <= PHONE["width"], f"the page scrolls sideways: {layout['scrollWidth']} px"
    assert layout["tables"] and all(t["wrapped"] and t["overflow"] == "auto" for t in layout["tables"])
    assert all(t["right"] <= PHONE["width"] for t in layout["tables"])
    assert all(right <= PHONE["width"] for right in layout["images"])


def test_screenshots_at_desktop_and_phone_width(browser, brief_file, tmp_path):
    from PIL import Image

    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = _open(browser, brief_file, viewport)
        try:
            path = tmp_path / f"brief-{name}.png"
            page.screenshot(path=str(path), full_page=True)
            height = page.evaluate("document.scrollingElement.scrollHeight")
        finally:
            page.close()
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 100_000, path
        with Image.open(path) as image:
            assert image.size == (viewport["width"], height), image.size
            assert height > 2 * viewport["height"], "the whole brief, not one screen"
            colours = image.convert("RGB").resize((image.width // 4, image.height // 4)).getcolors(1 << 20)
            assert len(colours) > 200, f"{path} is nearly blank"


def test_the_markdown_renders_cleanly_on_github(built, marts):
    md = (built.reports / "latest.md").read_text()
    assert markdown_problems(md) == []
    assert "&nbsp;" not in md
    assert f"Breakdown for {marts['breakdown_label']}, the latest {marts['printed_by']} printed" in md
