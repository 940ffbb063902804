"""The monthly brief: what the press would write about the latest month, from the marts.

Reads the marts through a read-only DuckDB connection and renders HTML and Markdown with
Jinja2, and a 24-month chart with matplotlib. No Dagster here.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).with_name("templates")


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


def _fmt_pct(value) -> str:
    return "n/a" if value is None else f"{value:+.1f}%"


def _fmt_mn(value) -> str:
    return "n/a" if value is None else f"${value:,.1f} million" if value < 1000 else f"${value / 1000:,.2f} billion"


def _rows(conn, sql: str, params=None) -> list[dict]:
    cur = conn.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _float(row: dict) -> dict:
    return {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in row.items()}


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
    series = [
        _float(r)
        for r in _rows(
            conn,
            """
        with latest as (
            select g.*, row_number() over (partition by series_code order by month desc) as rn
            from marts.mart_ict_exports_growth_monthly g
        )
        select s.series_code, s.ebops_code, s.label, s.level, l.month, m.month_label,
               l.value_usd_mn, l.yoy_pct, l.mom_pct, l.fytd_usd_mn, l.fytd_yoy_pct, l.share_of_ict_pct,
               l.month = ?::date as is_latest_month
        from core.dim_series s
        join latest l on l.series_code = s.series_code and l.rn = 1
        join core.dim_month m on m.month = l.month
        where s.is_ict and s.series_code <> 'ict_total'
        order by s.sort_order""",
            [month],
        )
    ]
    history = [
        _float(r)
        for r in _rows(
            conn,
            """
        select month, value_usd_mn, yoy_pct from marts.mart_ict_exports_growth_monthly
        where series_code = 'ict_total' and month > ?::date - interval 24 month
        order by month""",
            [month],
        )
    ]
    sources = _rows(
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
    return Brief(
        month=month,
        month_label=ict["month_label"],
        fiscal_year_label=ict["fiscal_year_label"],
        headline=headline,
        ict=ict,
        series=series,
        history=history,
        quality=quality,
        sources=[_float(s) for s in sources],
        latest_release=f"{releases} ({latest})",
        revisions=revisions,
        reconciliation=reconciliation,
        rejected=rejected,
    )


def render_chart_png(history: list[dict]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=110)
    labels = [h["month"].strftime("%b %y") for h in history]
    values = [h["value_usd_mn"] for h in history]
    ax.bar(labels, values, color="#1f6f4a")
    ax.set_ylabel("US$ million")
    ax.set_title("ICT services exports, last 24 months (EBOPS 9, credit)")
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def write_brief(brief: Brief, reports_dir: Path) -> dict[str, Path]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = f"ict_exports_brief_{brief.month:%Y-%m}"
    chart = render_chart_png(brief.history)
    chart_path = reports_dir / f"{stem}.png"
    chart_path.write_bytes(chart)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _fmt_pct
    env.filters["mn"] = _fmt_mn
    context = {"brief": brief, "chart_file": chart_path.name, "chart_base64": base64.b64encode(chart).decode()}
    paths = {"html": reports_dir / f"{stem}.html", "markdown": reports_dir / f"{stem}.md", "chart": chart_path}
    paths["html"].write_text(env.get_template("brief.html.j2").render(**context))
    paths["markdown"].write_text(env.get_template("brief.md.j2").render(**context))
    # Stable names for the newest brief, for links and the README.
    for kind, suffix in (("html", ".html"), ("markdown", ".md")):
        (reports_dir / f"latest{suffix}").write_text(paths[kind].read_text())
    (reports_dir / "latest.png").write_bytes(chart)
    return paths
