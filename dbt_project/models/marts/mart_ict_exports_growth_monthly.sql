-- One row per series and month with the growth rates the press prints.
-- mom: on the month before; yoy: on the same month a year before; fytd: July to this month,
-- only when every month of it is known; r12: the 12 months to this month, only when all 12
-- are known. A growth whose base is missing or zero is null.
with facts as (
    select series_code, month, fiscal_year, fiscal_month, value_usd_mn
    from {{ ref('fct_ict_exports_monthly') }}
),
running as (
    select
        *,
        case when count(*) over fy_to_date = fiscal_month
             then sum(value_usd_mn) over fy_to_date end as fytd_usd_mn,
        case when count(*) over last_12 = 12
             then sum(value_usd_mn) over last_12 end as r12_usd_mn
    from facts
    window
        fy_to_date as (partition by series_code, fiscal_year order by month
                       rows between unbounded preceding and current row),
        last_12 as (partition by series_code order by month
                    range between interval 11 month preceding and current row)
),
with_bases as (
    select
        r.*,
        prev_month.value_usd_mn as prev_month_usd_mn,
        prev_year.value_usd_mn as prev_year_usd_mn,
        prev_year.fytd_usd_mn as prev_year_fytd_usd_mn,
        prev_year.r12_usd_mn as prev_year_r12_usd_mn,
        ict.value_usd_mn as ict_total_usd_mn
    from running r
    left join running prev_month
        on prev_month.series_code = r.series_code and prev_month.month = r.month - interval 1 month
    left join running prev_year
        on prev_year.series_code = r.series_code and prev_year.month = r.month - interval 12 month
    left join facts ict
        on ict.series_code = 'ict_total' and ict.month = r.month
)
select
    b.series_code,
    cast(b.month as date) as month,
    b.fiscal_year,
    b.fiscal_month,
    b.value_usd_mn,
    {{ pct_change('b.value_usd_mn', 'b.prev_month_usd_mn') }} as mom_pct,
    {{ pct_change('b.value_usd_mn', 'b.prev_year_usd_mn') }} as yoy_pct,
    b.fytd_usd_mn,
    {{ pct_change('b.fytd_usd_mn', 'b.prev_year_fytd_usd_mn') }} as fytd_yoy_pct,
    b.r12_usd_mn,
    {{ pct_change('b.r12_usd_mn', 'b.prev_year_r12_usd_mn') }} as r12_yoy_pct,
    case when s.is_ict and b.ict_total_usd_mn > 0
         then b.value_usd_mn / b.ict_total_usd_mn * 100 end as share_of_ict_pct
from with_bases b
join {{ ref('dim_series') }} s on s.series_code = b.series_code
