-- Where no cumulative was printed, the fiscal year to date of a month is the sum of its fiscal
-- year's months up to it.
select g.series_code, g.month, g.fytd_usd_mn, sum(p.value_usd_mn) as summed
from {{ ref('mart_ict_exports_growth_monthly') }} g
join {{ ref('mart_ict_exports_growth_monthly') }} p
    on p.series_code = g.series_code and p.fiscal_year = g.fiscal_year and p.month <= g.month
where g.fytd_source = 'sum_of_months'
group by all
having abs(g.fytd_usd_mn - sum(p.value_usd_mn)) > 0.0001
