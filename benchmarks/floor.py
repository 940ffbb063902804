"""The naive floor: the latest marts of the warehouse computed with plain DuckDB, nothing else.

Reads the same release CSVs as `itx build` (every *.csv of --releases, plus --inbox's) and
computes what a reader of today's marts needs, writing each table into a DuckDB file so the work
is really done:

- `selected`: per series, period and basis the latest-published value (SBP before PBS on the
  same day); undated figures take the publisher's usual date (period end + 20 days SBP, 50 PBS);
- `monthly`: per series and month the reported `month` figure, else the difference of the
  selected fiscal-year-to-date cumulatives of the month and the month before (fiscal year July
  to June, its start month read as orchestration/lib/fiscal.py reads it; `fytd_Jul` is July itself);
- `growth`: per series and month the value, year-on-year %, the fiscal year to date (the printed
  cumulative, else the sum of the year's months when all are known) and its year-on-year %.

No validation, errata, rounding rule, vintages, Dagster, dbt or report: the least any warehouse
must do on this data, for `make bench`'s full/floor ratio.

    python benchmarks/floor.py --releases DIR [--inbox DIR] --out FILE.duckdb
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

from orchestration.lib.fiscal import fiscal_calendar

SQL = """
create or replace table figures as
with raw as (
    select * from read_csv($files, all_varchar = true, header = true, union_by_name = true)
),
typed as (
    select
        series_code,
        period,
        basis,
        publisher,
        try_cast(value_usd_thousand as double) as value_usd_thousand,
        cast(strptime(period || '-01', '%Y-%m-%d') as date) as month,
        coalesce(
            try_cast(nullif(published_on, '') as date),
            last_day(cast(strptime(period || '-01', '%Y-%m-%d') as date))
                + to_days(case publisher when 'SBP' then 20 else 50 end)
        ) as published_on
    from raw
)
select *,
    year(month) + case when month(month) >= $fy_start then 1 else 0 end as fiscal_year,
    (month(month) - $fy_start + 12) % 12 + 1 as fiscal_month
from typed
where value_usd_thousand is not null;

create or replace table selected as
select series_code, period, basis, month, fiscal_year, fiscal_month, value_usd_thousand, publisher, published_on
from figures
qualify row_number() over (
    partition by series_code, period, basis
    order by published_on desc, (publisher = 'SBP') desc, value_usd_thousand desc
) = 1;

create or replace table monthly as
with reported as (
    select series_code, month, fiscal_year, fiscal_month, value_usd_thousand
    from selected where basis = 'month'
),
cumulative as (
    -- a cumulative ending in its period's month: fytd_Jul is July, fytd_Jul-<Mon> July to <Mon>
    select series_code, month, fiscal_year, fiscal_month, value_usd_thousand
    from selected where basis like $fytd_bases
),
derived as (
    select c.series_code, c.month, c.fiscal_year, c.fiscal_month,
        c.value_usd_thousand - coalesce(p.value_usd_thousand, 0) as value_usd_thousand
    from cumulative c
    left join cumulative p
        on p.series_code = c.series_code and p.fiscal_year = c.fiscal_year and p.fiscal_month = c.fiscal_month - 1
    where c.fiscal_month = 1 or p.series_code is not null
)
select
    coalesce(r.series_code, d.series_code) as series_code,
    coalesce(r.month, d.month) as month,
    coalesce(r.fiscal_year, d.fiscal_year) as fiscal_year,
    coalesce(r.fiscal_month, d.fiscal_month) as fiscal_month,
    coalesce(r.value_usd_thousand, d.value_usd_thousand) / 1000 as value_usd_mn,
    case when r.series_code is not null then 'reported' else 'derived' end as value_origin
from reported r
full outer join derived d on d.series_code = r.series_code and d.month = r.month;

create or replace table growth as
with months as (
    select series_code, month, fiscal_year, fiscal_month from monthly
    union
    select series_code, month, fiscal_year, fiscal_month from selected where basis like $fytd_bases
),
fytd as (
    select m.series_code, m.month, m.fiscal_year, m.fiscal_month, v.value_usd_mn,
        c.value_usd_thousand / 1000 as printed_fytd_usd_mn,
        sum(v.value_usd_mn) over w as summed_fytd_usd_mn,
        count(v.value_usd_mn) over w as months_known
    from months m
    left join monthly v on v.series_code = m.series_code and v.month = m.month
    left join selected c on c.series_code = m.series_code and c.month = m.month and c.basis like $fytd_bases
    window w as (partition by m.series_code, m.fiscal_year order by m.month)
),
with_fytd as (
    select series_code, month, fiscal_year, fiscal_month, value_usd_mn,
        coalesce(printed_fytd_usd_mn, case when months_known = fiscal_month then summed_fytd_usd_mn end)
            as fytd_usd_mn
    from fytd
)
select g.series_code, g.month, g.fiscal_year, g.fiscal_month, g.value_usd_mn,
    round((g.value_usd_mn / nullif(a.value_usd_mn, 0) - 1) * 100, 4) as yoy_pct,
    g.fytd_usd_mn,
    round((g.fytd_usd_mn / nullif(a.fytd_usd_mn, 0) - 1) * 100, 4) as fytd_yoy_pct
from with_fytd g
left join with_fytd a on a.series_code = g.series_code and a.month = g.month - interval 12 month
order by g.series_code, g.month;
"""


def release_csvs(releases: Path, inbox: Path | None) -> list[str]:
    files = sorted(releases.glob("*.csv"))
    if inbox is not None and inbox.is_dir():
        files += sorted(p for p in inbox.glob("*.csv") if not p.name.startswith("."))
    return [str(p) for p in files]


def build(files: list[str], out: Path) -> dict[str, int]:
    out.unlink(missing_ok=True)
    fiscal = fiscal_calendar()
    values = {"files": files, "fy_start": fiscal.start_month, "fytd_bases": f"fytd_{fiscal.first_month_abbr}%"}
    conn = duckdb.connect(str(out))
    try:
        for statement in (s.strip() for s in SQL.split(";")):
            if statement:
                params = {name: value for name, value in values.items() if f"${name}" in statement}
                conn.execute(statement, params or None).fetchall()
        return {
            t: conn.execute(f"select count(*) from {t}").fetchall()[0][0]
            for t in ("figures", "selected", "monthly", "growth")
        }
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/floor.py", description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=Path, required=True, help="the folder of release CSVs (ITX_RELEASES)")
    parser.add_argument("--inbox", type=Path, help="also the CSVs of this folder (ITX_INBOX)")
    parser.add_argument("--out", type=Path, required=True, help="the DuckDB file the marts are written to")
    args = parser.parse_args(argv)
    files = release_csvs(args.releases, args.inbox)
    if not files:
        print(f"floor: no CSV files in {args.releases}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    counts = build(files, args.out)
    print(json.dumps({"files": len(files), "seconds": round(time.perf_counter() - start, 3), **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
