"""The monthly brief: what the press would write about the latest month, from the marts.

Reads the marts through a read-only DuckDB connection and renders HTML and Markdown with
Jinja2, and three charts with matplotlib (the last 24 months, the fiscal year to date against
the year before, and the breakdown's shares), each drawn wide for a page and narrow for a phone
(the HTML picks one). Whoever the brief names as printing a figure (the breakdown's label, each
chart's "Source: SBP, PBS" caption) is the publisher of the figures shown, read from the data.
No Dagster here.

Numbers are in press style throughout: $417m, $38.5m, $4.66bn; growth +17.8% / -2.9% (one
decimal, explicit sign, an ASCII hyphen for minus).
"""

from __future__ import annotations

import base64
import io
import re
import textwrap
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from orchestration.lib.figures import agree_within_rounding
from orchestration.lib.fiscal import fiscal_calendar

TEMPLATES = Path(__file__).with_name("templates")

# The publishers, most official first; a caption names those behind the figures it is about.
PUBLISHERS = ("SBP", "PBS")


class BriefNotReady(RuntimeError):
    """The marts cannot support a brief (no data, or a release failed validation)."""


@dataclass
class Brief:
    month: date
    month_label: str
    fiscal_year_label: str
    headline: str
    ict: dict
    series: list[dict]
    history: list[dict]
    quality: dict
    sources: list[dict]
    latest_release: str = ""
    revisions: list[dict] = field(default_factory=list)
    reconciliation: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    # The breakdown: one month, the latest for which the publisher printed the lines under the total.
    breakdown_month: date | None = None
    breakdown_month_label: str = ""
    breakdown_fiscal_year_label: str = ""
    breakdown_total: dict | None = None
    # Who printed the breakdown's lines ("SBP", "PBS", "SBP and PBS"), and its label in full.
    breakdown_printed_by: str = ""
    breakdown_label: str = ""
    no_longer_printed: list[dict] = field(default_factory=list)
    # The fiscal year to date against the year before, cumulative by fiscal month.
    fytd_current: list[dict] = field(default_factory=list)
    fytd_previous: list[dict] = field(default_factory=list)
    previous_fiscal_year_label: str = ""
    data_as_of: str = ""
    generated_at: str = ""
    footnotes: list[dict] = field(default_factory=list)
    # The publishers behind the values each chart plots (chart, chart_fytd, chart_breakdown),
    # and behind every figure of the brief.
    chart_publishers: dict[str, list[str]] = field(default_factory=dict)
    publishers: list[str] = field(default_factory=list)


# --- press style -------------------------------------------------------------------------------


def _fmt_pct(value) -> str:
    """Growth in press style: +17.8%, -2.9% (one decimal, explicit sign)."""
    if value is None:
        return "n/a"
    text = f"{float(value):+.1f}%"
    return "+0.0%" if text == "-0.0%" else text


def _fmt_share(value) -> str:
    return "n/a" if value is None else f"{float(value):.1f}%"


def _fmt_mn(value) -> str:
    """Money (given in US$ million) in press style: $4.66bn, $417m, $38.5m, $0.87m."""
    if value is None:
        return "n/a"
    value = float(value)
    sign, v = ("-" if value < 0 else ""), abs(value)
    if round(v) >= 1000:
        return f"{sign}${v / 1000:,.2f}bn"
    if round(v, 1) >= 100:
        return f"{sign}${v:,.0f}m"
    if round(v, 1) >= 1:
        return f"{sign}${v:.1f}m"
    return f"{sign}${v:.2f}m"


def _trend(value) -> str:
    """The CSS class of a growth figure: up, down or flat."""
    if value is None or round(float(value), 1) == 0:
        return "flat"
    return "up" if value > 0 else "down"


# --- provenance --------------------------------------------------------------------------------

OFFICIAL_DOMAINS = ("sbp.org.pk", "pbs.gov.pk")
AGGREGATOR_DOMAINS = ("github.com", "githubusercontent.com", "github.io", "scribd.com", "gist.github.com")
SOURCE_TIERS = {0: "official", 1: "government", 2: "press", 3: "aggregator", 4: "unknown"}
KNOWN_TITLES = {
    "easydata.sbp.org.pk": "SBP EasyData",
    "sbp.org.pk": "State Bank of Pakistan",
    "pbs.gov.pk": "Pakistan Bureau of Statistics",
    "moitt.gov.pk": "Ministry of IT & Telecom",
    "finance.gov.pk": "Finance Division",
}


def _domain(url: str | None) -> str:
    host = (urlparse(url or "").hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _under(host: str, domains) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def source_rank(url: str | None) -> int:
    """How official the page at url is, lower first: 0 the publisher itself (sbp.org.pk,
    pbs.gov.pk), 1 another government page (a ministry, *.gov.pk), 2 the press, 3 an aggregator
    (GitHub, raw.githubusercontent.com, Scribd), 4 no address."""
    host = _domain(url)
    if not host:
        return 4
    if _under(host, OFFICIAL_DOMAINS):
        return 0
    if host.endswith(".gov.pk") or host == "gov.pk":
        return 1
    if _under(host, AGGREGATOR_DOMAINS):
        return 3
    return 2


def rank_sources(urls) -> list[str]:
    """The distinct addresses, most official first (stable within a tier)."""
    seen: list[str] = []
    for url in urls:
        if url and url not in seen:
            seen.append(url)
    return sorted(seen, key=source_rank)


def short_source(url: str | None) -> str:
    """A readable name for a link: the domain and a short title, never the raw address."""
    host = _domain(url)
    if not host:
        return "n/a"
    title = KNOWN_TITLES.get(host) or next((t for d, t in KNOWN_TITLES.items() if host.endswith("." + d)), None)
    if title is None and _under(host, AGGREGATOR_DOMAINS):
        path = [p for p in urlparse(url).path.split("/") if p]
        title = f"data file {path[-1]}" if path else "aggregator"
        if host == "github.com" and path:
            title = f"{path[0]}'s {path[-1]}"
    if title is None:
        path = [p for p in urlparse(url).path.split("/") if p and not p.isdigit()]
        slug = re.sub(r"\.(html?|php|aspx?)$", "", path[-1]) if path else ""
        words = re.sub(r"[-_+]+", " ", slug).strip()
        if words and not re.fullmatch(r"[\w\d]{1,12}", words):
            title = words[:1].upper() + words[1:]
            if len(title) > 48:
                title = title[:47].rsplit(" ", 1)[0] + "…"
    return f"{host}: {title}" if title else host


def order_publishers(names) -> list[str]:
    """The distinct publishers, SBP then PBS then any other (alphabetically)."""
    distinct = {n for n in names if n}
    return sorted(distinct, key=lambda n: (PUBLISHERS.index(n) if n in PUBLISHERS else len(PUBLISHERS), n))


def _and(names: list[str]) -> str:
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def source_caption(publishers, data_as_of: str = "") -> str:
    """A chart's source line: "Source: SBP, PBS; data as of ..." (the publishers of its values)."""
    names = order_publishers(publishers)
    text = f"Source: {', '.join(names) if names else 'n/a'}"
    return f"{text}; data as of {data_as_of}" if data_as_of else text


def fytd_publishers(rows: list[dict]) -> list[str]:
    """The publishers behind fiscal-year-to-date values: the publisher of the cumulative when the
    value is the one printed, else those of the months summed up to it."""
    names = []
    for row in rows:
        if row.get("fytd_usd_mn") is None:
            continue
        if row.get("fytd_source") == "published" and row.get("cumulative_publisher"):
            names.append(row["cumulative_publisher"])
        else:
            names += [
                r.get("publisher")
                for r in rows
                if r["fiscal_year"] == row["fiscal_year"]
                and r["fiscal_month"] <= row["fiscal_month"]
                and r.get("value_usd_mn") is not None
            ]
    return order_publishers(names)


def breakdown_label(brief_month_label: str, month_label: str, lines: list[dict], total: dict | None) -> tuple[str, str]:
    """Who printed the breakdown (the publishers of its lines), and the sentence that says so:
    "Breakdown for May 2026, the latest SBP printed (the headline is for Jul 2026)"."""
    printed = order_publishers(line.get("publisher") for line in lines if line.get("value_usd_mn") is not None)
    total_by = (total or {}).get("publisher") if (total or {}).get("value_usd_mn") is not None else None
    if not printed and total_by:
        printed = [total_by]
    by = _and(printed) or "the publishers"
    notes = []
    if total_by and total_by not in printed:
        notes.append(f"the ICT total as {total_by} printed it")
    if month_label != brief_month_label:
        notes.append(f"the headline is for {brief_month_label}")
    label = f"Breakdown for {month_label}, the latest {by} printed" + (f" ({'; '.join(notes)})" if notes else "")
    return by, label


# --- reading the marts -------------------------------------------------------------------------


def _rows(conn, sql: str, params=None) -> list[dict]:
    cur = conn.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _float(row: dict) -> dict:
    return {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in row.items()}


def _day(value) -> str:
    return f"{value.day} {value:%b %Y}" if hasattr(value, "strftime") else str(value or "n/a")


def _breakdown(conn, month: date) -> tuple[dict | None, list[dict], list[dict]]:
    """The lines under the ICT total for one month: the latest (up to the headline's) in which
    the publisher printed a line directly under the total. Returns the total's row that month,
    the lines in the table and those left to the "no longer printed" note."""
    found = _rows(
        conn,
        """
        select max(g.month) as month
        from marts.mart_ict_exports_growth_monthly g
        join core.dim_series s using (series_code)
        where s.parent_series_code = 'ict_total' and g.value_usd_mn is not null and g.month <= ?::date""",
        [month],
    )
    if not found or found[0]["month"] is None:
        return None, [], []
    at = found[0]["month"]
    lines = [
        _float(r)
        for r in _rows(
            conn,
            """
        with printed as (
            select series_code, max(month) as last_month
            from marts.mart_ict_exports_growth_monthly
            where value_usd_mn is not null and month <= ?::date
            group by series_code
        )
        select s.series_code, s.ebops_code, s.label, s.level, s.sort_order, ?::date as month,
               m.month_label, m.fiscal_year_label,
               g.value_usd_mn, g.mom_pct, g.fytd_usd_mn, g.fytd_yoy_pct,
               coalesce(g.yoy_pct, case when p.value_usd_mn > 0 and g.value_usd_mn is not null
                                        then (g.value_usd_mn / p.value_usd_mn - 1) * 100 end) as yoy_pct,
               case when t.value_usd_mn > 0 then g.value_usd_mn / t.value_usd_mn * 100
                    else g.share_of_ict_pct end as share_of_ict_pct,
               printed.last_month, lm.month_label as last_month_label, f.publisher
        from core.dim_series s
        join core.dim_month m on m.month = ?::date
        left join marts.mart_ict_exports_growth_monthly g on g.series_code = s.series_code and g.month = ?::date
        left join core.fct_ict_exports_monthly f on f.series_code = s.series_code and f.month = g.month
        left join marts.mart_ict_exports_growth_monthly p
               on p.series_code = s.series_code and p.month = ?::date - interval 12 month
        left join marts.mart_ict_exports_growth_monthly t on t.series_code = 'ict_total' and t.month = ?::date
        left join printed on printed.series_code = s.series_code
        left join core.dim_month lm on lm.month = printed.last_month
        where s.is_ict
        order by s.sort_order""",
            [at, at, at, at, at, at],
        )
    ]
    total = next((r for r in lines if r["series_code"] == "ict_total"), None)
    shown, dropped = [], []
    cutoff = date(at.year - 1, at.month, 1)
    for line in lines:
        if line["series_code"] == "ict_total":
            continue
        if line["value_usd_mn"] is None and (line["last_month"] is None or line["last_month"] < cutoff):
            dropped.append(line)
        else:
            shown.append(line)
    if total is None:
        total = {"month": at, "month_label": lines[0]["month_label"] if lines else str(at)}
    return total, shown, dropped


def _sources(conn, month: date) -> tuple[list[dict], list[dict]]:
    """The headline month, the month before and the month a year earlier, each citing the most
    official page that printed the value used (the value, rounded as the page printed it:
    figures.agree_within_rounding with the page's rounding unit); the other pages go to
    footnotes."""
    sources = [
        _float(s)
        for s in _rows(
            conn,
            """
        select f.month, m.month_label, f.value_usd_mn, f.value_origin, f.release_id, f.publisher,
               f.published_on, f.published_on_estimated, f.source_url
        from core.fct_ict_exports_monthly f join core.dim_month m using (month)
        where f.series_code = 'ict_total'
          and (f.month = ?::date or f.month = ?::date - interval 1 month or f.month = ?::date - interval 12 month)
        order by f.month desc""",
            [month, month, month],
        )
    ]
    printed = _rows(
        conn,
        """
        select period_month as month, value_usd_thousand, coalesce(precision_usd_thousand, 0) as precision_usd_thousand,
               source_url, vintage as published_on, release_id
        from core.fct_ict_export_figures
        where series_code = 'ict_total' and basis = 'month' and value_origin = 'reported'
          and (period_month = ?::date or period_month = ?::date - interval 1 month
               or period_month = ?::date - interval 12 month)
        order by published_on""",
        [month, month, month],
    )
    footnotes = []
    for s in sources:
        same = [
            p["source_url"]
            for p in printed
            if p["month"] == s["month"]
            and p["value_usd_thousand"] is not None
            and s["value_usd_mn"] is not None
            and agree_within_rounding(p["value_usd_thousand"], s["value_usd_mn"] * 1000, p["precision_usd_thousand"])
        ]
        ranked = rank_sources([s["source_url"], *same])
        s["cited_url"] = ranked[0] if ranked else s["source_url"]
        s["cited_label"] = short_source(s["cited_url"])
        s["cited_kind"] = SOURCE_TIERS[source_rank(s["cited_url"])]
        s["footnote"] = None
        others = [{"url": u, "label": short_source(u), "kind": SOURCE_TIERS[source_rank(u)]} for u in ranked[1:]]
        if others:
            footnotes.append({"number": len(footnotes) + 1, "month_label": s["month_label"], "others": others})
            s["footnote"] = len(footnotes)
    return sources, footnotes


def gather_brief(conn: duckdb.DuckDBPyConnection) -> Brief:
    quality = _rows(conn, "select * from marts.mart_data_quality")
    if not quality:
        raise BriefNotReady("marts.mart_data_quality is empty: build the warehouse first")
    quality = quality[0]
    # Quarantined files do not hold the brief back (their releases are not in the marts): the
    # brief names them, so a reader knows what was left out and why.
    rejected = _rows(
        conn,
        "select source_file, release_id, rule from staging.stg_rejected_files order by source_file, release_id",
    )
    latest = _rows(
        conn,
        """
        select g.*, m.month_label, m.fiscal_year_label
        from marts.mart_ict_exports_growth_monthly g
        join core.dim_month m using (month)
        where g.series_code = 'ict_total'
        order by g.month desc limit 1""",
    )
    if not latest:
        raise BriefNotReady("no monthly ICT total in marts.mart_ict_exports_growth_monthly")
    ict = _float(latest[0])
    month = ict["month"]
    prev_month_label = _rows(
        conn, "select month_label from core.dim_month where month = ?::date - interval 1 month", [month]
    )
    headline = (
        f"Pakistan's ICT exports were {_fmt_mn(ict['value_usd_mn'])} in {ict['month_label']}, "
        f"{_fmt_pct(ict['yoy_pct'])} year on year"
        + (
            f" and {_fmt_pct(ict['mom_pct'])} on {prev_month_label[0]['month_label']}"
            if ict["mom_pct"] is not None and prev_month_label
            else ""
        )
        + (
            f"; {ict['fiscal_year_label']} to date {_fmt_mn(ict['fytd_usd_mn'])}, {_fmt_pct(ict['fytd_yoy_pct'])}"
            if ict["fytd_usd_mn"] is not None
            else ""
        )
        + "."
    )
    breakdown_total, series, dropped = _breakdown(conn, month)
    history = [
        _float(r)
        for r in _rows(
            conn,
            """
        select g.month, m.month_label, g.value_usd_mn, g.yoy_pct, f.publisher
        from marts.mart_ict_exports_growth_monthly g join core.dim_month m using (month)
        left join core.fct_ict_exports_monthly f on f.series_code = g.series_code and f.month = g.month
        where g.series_code = 'ict_total' and g.month > ?::date - interval 24 month and g.month <= ?::date
        order by g.month""",
            [month, month],
        )
    ]
    fytd = [
        _float(r)
        for r in _rows(
            conn,
            """
        select g.fiscal_year, m.fiscal_year_label, g.fiscal_month, g.month, g.value_usd_mn, g.fytd_usd_mn,
               g.fytd_source, f.publisher, c.publisher as cumulative_publisher
        from marts.mart_ict_exports_growth_monthly g join core.dim_month m using (month)
        left join core.fct_ict_exports_monthly f on f.series_code = g.series_code and f.month = g.month
        -- the printed cumulative the mart took as the fiscal year to date, when it took one
        left join intermediate.int_figures__selected c
               on c.series_code = g.series_code and c.period_month = g.month
              and c.basis_kind = 'fytd' and c.basis_months = g.fiscal_month
        where g.series_code = 'ict_total' and g.month <= ?::date
          and g.fiscal_year in (?, ? - 1)
        order by g.fiscal_year, g.fiscal_month""",
            [month, ict["fiscal_year"], ict["fiscal_year"]],
        )
    ]
    fytd_current = [r for r in fytd if r["fiscal_year"] == ict["fiscal_year"]]
    fytd_previous = [r for r in fytd if r["fiscal_year"] == ict["fiscal_year"] - 1]
    previous_fy = _rows(
        conn,
        "select fiscal_year_label from core.dim_month where fiscal_year = ? - 1 limit 1",
        [ict["fiscal_year"]],
    )
    sources, footnotes = _sources(conn, month)
    latest = _rows(conn, "select max(published_on) as day from marts.mart_ict_exports_release_changes")[0]["day"]
    revisions = [
        _float(r)
        for r in _rows(
            conn,
            """
        select c.release_id, s.label, c.series_code, m.month_label, c.basis, c.previous_usd_mn, c.value_usd_mn,
               c.change_usd_mn, c.change_pct, c.previous_release_id
        from marts.mart_ict_exports_release_changes c
        join core.dim_series s using (series_code)
        join core.dim_month m on m.month = c.period_month
        where c.published_on = ? and c.change_kind = 'revised'
        order by s.sort_order, c.period_month, c.basis""",
            [latest],
        )
    ]
    releases = _rows(
        conn,
        """
        select string_agg(distinct release_id, ', ' order by release_id) as ids
        from marts.mart_ict_exports_release_changes where published_on = ?""",
        [latest],
    )[0]["ids"]
    reconciliation = _rows(
        conn,
        """
        select c.check_name, c.description, count(i.check_name) as issues
        from (values
            ('children_sum', 'a line''s children add up to more than the line'),
            ('months_vs_cumulative', 'the months of a fiscal year to date differ from the printed cumulative'),
            ('sbp_vs_pbs', 'a PBS figure differs beyond rounding from SBP''s value known that day')
        ) as c(check_name, description)
        left join marts.mart_reconciliation_issues i using (check_name)
        group by all order by 1""",
    )
    breakdown_month_label = breakdown_total["month_label"] if breakdown_total else ""
    printed_by, label = (
        breakdown_label(ict["month_label"], breakdown_month_label, series, breakdown_total)
        if breakdown_total
        else ("", "")
    )
    plotted = [line for line in series if line.get("share_of_ict_pct") is not None]
    chart_publishers = {
        "chart": order_publishers(h.get("publisher") for h in history if h["value_usd_mn"] is not None),
        "chart_fytd": fytd_publishers(fytd_current + fytd_previous),
        # a share is of the line and the total that month
        "chart_breakdown": order_publishers(
            [line.get("publisher") for line in plotted]
            + ([breakdown_total.get("publisher")] if plotted and breakdown_total else [])
        ),
    }
    return Brief(
        month=month,
        month_label=ict["month_label"],
        fiscal_year_label=ict["fiscal_year_label"],
        headline=headline,
        ict=ict,
        series=series,
        history=history,
        quality=quality,
        sources=sources,
        latest_release=f"{releases} ({latest})",
        revisions=revisions,
        reconciliation=reconciliation,
        rejected=rejected,
        breakdown_month=breakdown_total["month"] if breakdown_total else None,
        breakdown_month_label=breakdown_month_label,
        breakdown_fiscal_year_label=(breakdown_total or {}).get("fiscal_year_label") or "",
        breakdown_total=breakdown_total,
        breakdown_printed_by=printed_by,
        breakdown_label=label,
        no_longer_printed=dropped,
        fytd_current=fytd_current,
        fytd_previous=fytd_previous,
        previous_fiscal_year_label=previous_fy[0]["fiscal_year_label"] if previous_fy else "",
        data_as_of=f"{_day(latest)} (release {releases})" if latest else "n/a",
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        footnotes=footnotes,
        chart_publishers=chart_publishers,
        publishers=order_publishers(
            [p for names in chart_publishers.values() for p in names]
            + [s.get("publisher") for s in sources]
            + [line.get("publisher") for line in series if line.get("value_usd_mn") is not None]
            + [(breakdown_total or {}).get("publisher")]
        ),
    )


# --- charts ------------------------------------------------------------------------------------

GREEN, GREY, AMBER, LIGHT = "#1f6f4a", "#9aa5a0", "#c77c0e", "#8fc1a6"

# Every chart in two layouts: wide for a page, narrow for a phone's width (the HTML picks one).
# width and height in inches; wrap: characters per line of the title and the caption.
LAYOUTS = {
    "wide": {"width": 9.0, "dpi": 110, "title": 95, "caption": 150, "label": 60},
    "narrow": {"width": 4.2, "dpi": 160, "title": 46, "caption": 70, "label": 22},
}


def _figure(layout: str, height: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spec = LAYOUTS[layout]
    fig, ax = plt.subplots(figsize=(spec["width"], height), dpi=spec["dpi"])
    ax.spines[["top", "right"]].set_visible(False)
    return plt, fig, ax


def _title(ax, text: str, layout: str, width: float = 1.0) -> None:
    """The title over the axes, wrapped to their width (width: the axes' share of the figure's)."""
    ax.set_title("\n".join(textwrap.wrap(text, int(LAYOUTS[layout]["title"] * width))), loc="left", fontsize=11)


def _finish(plt, fig, caption: str, layout: str = "wide") -> bytes:
    lines = textwrap.wrap(caption, LAYOUTS[layout]["caption"]) or [""]
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=7.5, color="#555", ha="left", va="bottom")
    # room for the caption: 7.5 pt a line, with leading, and a margin
    bottom = (len(lines) * 7.5 * 1.3 / 72 + 0.08) / fig.get_figheight()
    fig.tight_layout(rect=(0, bottom, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def render_chart_png(history: list[dict], caption: str | None = None, layout: str = "wide") -> bytes:
    """The last 24 months of ICT exports, the latest month and the same month a year earlier marked.
    The caption names the publishers of the months plotted (from each row's publisher)."""
    if caption is None:
        caption = source_caption(h.get("publisher") for h in history if h.get("value_usd_mn") is not None)
    narrow = layout == "narrow"
    plt, fig, ax = _figure(layout, 4.0)
    labels = [h["month"].strftime("%b %y") for h in history]
    values = [h["value_usd_mn"] or 0 for h in history]
    colours = [GREY] * len(history)
    marks = []
    if history:
        latest = history[-1]["month"]
        colours[-1] = GREEN
        year_ago = date(latest.year - 1, latest.month, 1)
        marks = [(len(history) - 1, "latest")]
        for i, h in enumerate(history):
            if h["month"] == year_ago:
                colours[i] = AMBER
                marks.append((i, "a year earlier"))
    ax.bar(range(len(values)), values, color=colours)
    for i, what in marks:
        ax.annotate(
            f"{_fmt_mn(values[i])}\n" + ("\n".join(what.rsplit(" ", 1)) if narrow else what),  # narrow bars
            (i, values[i]),
            xytext=(0, 4),
            textcoords="offset points",
            ha="right" if narrow and i == len(values) - 1 else "center",
            va="bottom",
            fontsize=8,
            color=colours[i],
            fontweight="bold",
        )
    if history:
        ax.set_ylim(0, max(values) * (1.3 if narrow else 1.22) if max(values) > 0 else 1)
    # on a phone, every third month (ending on the latest) and the months marked
    step = 3 if narrow else 1
    ticks = sorted({i for i in range(len(labels)) if (len(labels) - 1 - i) % step == 0} | {i for i, _ in marks})
    ax.set_xticks(ticks, [labels[i] for i in ticks])
    ax.set_ylabel("US$ million")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    title = "Pakistan's IT and telecom services exports, month by month"
    if history:
        title += f" ({history[0]['month']:%b %Y} to {history[-1]['month']:%b %Y})"
    _title(ax, title, layout)
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _finish(plt, fig, caption, layout)


def render_fytd_chart_png(
    current: list[dict],
    previous: list[dict],
    current_label: str,
    previous_label: str,
    caption: str | None = None,
    layout: str = "wide",
) -> bytes:
    """The fiscal year so far against the previous fiscal year, cumulative by fiscal month. The
    caption names the publishers of the cumulatives plotted (or of the months summed)."""
    from matplotlib.ticker import StrMethodFormatter

    fiscal = fiscal_calendar()
    months = fiscal.month_abbrs()
    if caption is None:
        caption = source_caption(fytd_publishers(current + previous)) + f"; the fiscal year runs {fiscal.span()}"
    narrow = layout == "narrow"
    plt, fig, ax = _figure(layout, 4.0 if narrow else 3.8)
    now = [r["fiscal_month"] for r in current if r["fytd_usd_mn"] is not None]
    marks = {}
    top = 0.0
    for rows, label, colour, style in ((previous, previous_label, GREY, "--"), (current, current_label, GREEN, "-")):
        points = [(r["fiscal_month"], r["fytd_usd_mn"]) for r in rows if r["fytd_usd_mn"] is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        top = max(top, *ys)
        # the value at the latest fiscal month (both years) and at the end of the previous year
        values = {x: y for x, y in points if (now and x == now[-1]) or (rows is previous and x == xs[-1])}
        marks.update({(x, colour): y for x, y in values.items()})
        if narrow:  # no room beside the points on a phone: the values go in the legend
            label = f"{label}: " + ", ".join(f"{_fmt_mn(y)} ({months[x - 1]})" for x, y in values.items())
            label = label.replace("$", r"\$")  # two amounts are not mathtext
        ax.plot(xs, ys, style, marker="o", color=colour, label=label or "fiscal year", linewidth=2)
    right = 12.4
    if narrow:
        marks = {}  # in the legend
    for (x, colour), y in marks.items():
        # this year's above its point, last year's below it (the line climbs: below-right is
        # clear); never over the y axis early in the year, under the x axis for a small
        # cumulative, nor past the last month (the end of last year, alone there, goes above-left)
        if colour == GREEN:
            offset, ha, va = ((-6, 8), "right", "bottom") if x > 2 else ((6, 8), "left", "bottom")
        elif top and y < 0.15 * top:
            offset, ha, va = (12, -4), "left", "center"  # clear of the climbing line
        elif x >= 11 and not (now and now[-1] == x):
            offset, ha, va = (-6, 8), "right", "bottom"
        else:
            offset, ha, va = (6, -10), "left", "top"
        if ha == "left" and x >= 11:
            right = 12.9
        ax.annotate(
            _fmt_mn(y),
            (x, y),
            xytext=offset,
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=8,
            color=colour,
            fontweight="bold",
        )
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xticks(range(1, 13), [m[:1] for m in months] if narrow else list(months))
    ax.set_xlim(0.6, right)
    ax.set_ylim(bottom=0, top=(top * (1.25 if narrow else 1.12)) or 1)  # room for the legend
    ax.set_ylabel("US$ million, cumulative")
    _title(
        ax,
        f"Exports so far this fiscal year ({current_label}) against last year ({previous_label})",
        layout,
        0.85 if narrow else 1.0,
    )
    ax.legend(frameon=False, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    return _finish(plt, fig, caption, layout)


def render_breakdown_chart_png(
    lines: list[dict], month_label: str, caption: str | None = None, layout: str = "wide"
) -> bytes:
    """The breakdown's lines as shares of the ICT total in the breakdown month (horizontal bars).
    The caption names the publishers of the lines plotted."""
    shown = [line for line in lines if line.get("share_of_ict_pct") is not None]
    if caption is None:
        caption = (
            source_caption(line.get("publisher") for line in shown) + "; lines with a dash are part of the line above"
        )
    labels = [
        "\n".join(textwrap.wrap(("– " if line["level"] > 2 else "") + line["label"], LAYOUTS[layout]["label"]))
        for line in shown
    ]
    rows = sum(label.count("\n") + 1 for label in labels)
    plt, fig, ax = _figure(layout, max(2.6, 0.28 * rows + 0.16 * len(shown) + 1.5))
    shares = [line["share_of_ict_pct"] for line in shown]
    colours = [GREEN if line["level"] <= 2 else LIGHT for line in shown]
    positions = range(len(shown))
    ax.barh(positions, shares, color=colours)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.tick_params(axis="y", length=0)
    ax.invert_yaxis()
    limit = max([*shares, 1]) * 1.3
    for i, line in enumerate(shown):
        text = f"{_fmt_share(line['share_of_ict_pct'])} ({_fmt_mn(line['value_usd_mn'])})"
        inside = shares[i] > 0.55 * limit  # a long bar carries its label inside
        ax.annotate(
            text,
            (shares[i], i),
            xytext=(-4, 0) if inside else (4, 0),
            textcoords="offset points",
            ha="right" if inside else "left",
            va="center",
            fontsize=8,
            color="white" if inside and colours[i] == GREEN else "#1b1b1b",
        )
    ax.set_xlim(0, limit)
    if layout == "narrow":
        ax.set_xlabel("share of ICT exports, %\n(values in US$ million)")
    else:
        ax.set_xlabel("share of all IT and telecom services exports, % (values in US$ million)")
    # the line labels take part of the width: the title wraps to what is left
    _title(ax, f"What the exports were made of in {month_label}", layout, 0.55 if layout == "narrow" else 0.8)
    ax.grid(axis="x", alpha=0.3)
    return _finish(plt, fig, caption, layout)


# --- writing -----------------------------------------------------------------------------------


def chart_captions(brief: Brief) -> dict[str, str]:
    """Each chart's source line, naming the publishers behind the values it plots."""
    pubs, day = brief.chart_publishers, brief.data_as_of
    return {
        "chart": source_caption(pubs.get("chart", []), day),
        "chart_fytd": source_caption(pubs.get("chart_fytd", []), day)
        + f"; the fiscal year runs {fiscal_calendar().span()}",
        "chart_breakdown": source_caption(pubs.get("chart_breakdown", []), day)
        + "; lines with a dash are part of the line above",
    }


def _chart_texts(brief: Brief) -> dict[str, dict[str, str]]:
    """A plain title and an alt text (what the chart shows, in words) for each chart."""
    history = [h for h in brief.history if h["value_usd_mn"] is not None]
    alt = "Bar chart of Pakistan's monthly IT and telecom services exports"
    if history:
        last = history[-1]
        alt += f", {history[0]['month_label']} to {last['month_label']}"
        alt += f": {last['month_label']} {_fmt_mn(last['value_usd_mn'])}"
        year_ago = date(last["month"].year - 1, last["month"].month, 1)
        before = next((h for h in history if h["month"] == year_ago), None)
        if before:
            alt += f", against {_fmt_mn(before['value_usd_mn'])} in {before['month_label']}"
    current = [r for r in brief.fytd_current if r["fytd_usd_mn"] is not None]
    fytd_alt = (
        f"Line chart of exports so far in {brief.fiscal_year_label} against {brief.previous_fiscal_year_label}, "
        "cumulative by month of the fiscal year"
    )
    if current:
        at = current[-1]
        same = next((r for r in brief.fytd_previous if r["fiscal_month"] == at["fiscal_month"]), None)
        fytd_alt += f": {_fmt_mn(at['fytd_usd_mn'])} to {at['month']:%B}"
        if same and same["fytd_usd_mn"] is not None:
            fytd_alt += f", against {_fmt_mn(same['fytd_usd_mn'])} a year earlier"
    shares = [
        f"{line['label']} {_fmt_share(line['share_of_ict_pct'])}"
        for line in brief.series
        if line.get("share_of_ict_pct") is not None and line["level"] <= 2
    ]
    return {
        "chart": {"title": "ICT exports month by month, the last 24 months", "alt": alt},
        "chart_fytd": {
            "title": f"The fiscal year to date, {brief.fiscal_year_label} against {brief.previous_fiscal_year_label}",
            "alt": fytd_alt,
        },
        "chart_breakdown": {
            "title": f"What ICT exports were made of in {brief.breakdown_month_label} (share of the total)",
            "alt": f"Bar chart of the shares of ICT exports in {brief.breakdown_month_label}"
            + (f": {'; '.join(shares)}" if shares else ""),
        },
    }


MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|$])")


def md_escape(value) -> str:
    """Text for Markdown as GitHub renders it: "$" escaped (two amounts on a line are not
    inline math), "|" (a table cell stays one cell) and the other characters that would start
    emphasis, a link, code or HTML. No HTML entities."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", "" if value is None else str(value))


def _environment(markdown: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False if markdown else select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    wrap = md_escape if markdown else (lambda text: text)
    env.filters["pct"] = _fmt_pct
    env.filters["mn"] = lambda value: wrap(_fmt_mn(value))
    env.filters["share"] = _fmt_share
    env.filters["trend"] = _trend
    env.filters["md"] = md_escape
    return env


def write_brief(brief: Brief, reports_dir: Path) -> dict[str, Path]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = f"ict_exports_brief_{brief.month:%Y-%m}"
    captions = chart_captions(brief)

    def draw(kind: str, layout: str) -> bytes:
        caption = captions[kind]
        if kind == "chart":
            return render_chart_png(brief.history, caption, layout)
        if kind == "chart_fytd":
            return render_fytd_chart_png(
                brief.fytd_current,
                brief.fytd_previous,
                brief.fiscal_year_label,
                brief.previous_fiscal_year_label,
                caption,
                layout,
            )
        return render_breakdown_chart_png(brief.series, brief.breakdown_month_label, caption, layout)

    # The extra charts keep the month right after the last "_" (publication sorts briefs by it).
    # The files are the wide charts; the HTML also carries the narrow ones, for phones.
    names = {"chart": f"{stem}.png", "chart_fytd": f"{stem}.fytd.png", "chart_breakdown": f"{stem}.breakdown.png"}
    charts = {kind: (name, draw(kind, "wide")) for kind, name in names.items()}
    narrow = {kind: draw(kind, "narrow") for kind in names}
    paths: dict[str, Path] = {}
    for kind, (name, png) in charts.items():
        paths[kind] = reports_dir / name
        paths[kind].write_bytes(png)
    html_env, md_env = _environment(markdown=False), _environment(markdown=True)
    texts = _chart_texts(brief)
    context = {
        "brief": brief,
        "chart_file": charts["chart"][0],
        "chart_base64": base64.b64encode(charts["chart"][1]).decode(),
        "charts": {
            kind: {
                "file": name,
                "base64": base64.b64encode(png).decode(),
                "narrow_base64": base64.b64encode(narrow[kind]).decode(),
                "caption": captions[kind],
                **texts[kind],
            }
            for kind, (name, png) in charts.items()
        },
        "caption": source_caption(brief.publishers, brief.data_as_of),
    }
    paths["html"] = reports_dir / f"{stem}.html"
    paths["markdown"] = reports_dir / f"{stem}.md"
    paths["html"].write_text(html_env.get_template("brief.html.j2").render(**context))
    paths["markdown"].write_text(md_env.get_template("brief.md.j2").render(**context))
    # Stable names for the newest brief, for links and the README.
    for kind, suffix in (("html", ".html"), ("markdown", ".md")):
        (reports_dir / f"latest{suffix}").write_text(paths[kind].read_text())
    (reports_dir / "latest.png").write_bytes(charts["chart"][1])
    return paths
