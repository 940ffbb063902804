-- Reconciliation of the publishers' figures (latest view), one row per issue. These describe
-- the publishers, not the warehouse: the dbt tests on this model warn, and the brief counts them.
--   children_sum: a line's children add up to more than the line (monthly facts)
--   months_vs_cumulative: the months of a fiscal year to date differ from the printed cumulative
--   sbp_vs_pbs: a PBS figure differs beyond rounding from SBP's value for it known that day
with children_sum as (
    select 'children_sum' as check_name, p.series_code, p.month as period_month, 'month' as basis,
        p.value_usd_mn as value_usd_mn, sum(c.value_usd_mn) as other_usd_mn,
        'sum of the children' as other_is
    from {{ ref('fct_ict_exports_monthly') }} p
    join {{ ref('dim_series') }} s on s.parent_series_code = p.series_code
    join {{ ref('fct_ict_exports_monthly') }} c on c.series_code = s.series_code and c.month = p.month
    group by all
    having sum(c.value_usd_mn) > p.value_usd_mn * 1.02 + 1
),
months_vs_cumulative as (
    select 'months_vs_cumulative', g.series_code, g.month, 'fytd', g.fytd_usd_mn, sum(p.value_usd_mn),
        'sum of the months'
    from {{ ref('mart_ict_exports_growth_monthly') }} g
    join {{ ref('mart_ict_exports_growth_monthly') }} p
        on p.series_code = g.series_code and p.fiscal_year = g.fiscal_year and p.month <= g.month
    where g.fytd_source = 'published'
    group by all
    having count(*) = any_value(g.fiscal_month)
       and abs(g.fytd_usd_mn - sum(p.value_usd_mn)) > any_value(g.fiscal_month)
),
sbp_vs_pbs as (
    select 'sbp_vs_pbs', p.series_code, p.period_month, p.basis,
        cast(p.value_usd_thousand / 1000 as decimal(18, 4)),
        cast(s.value_usd_thousand / 1000 as decimal(18, 4)),
        'SBP value known that day'
    from {{ ref('fct_ict_export_figures') }} p
    asof join (
        select * from {{ ref('int_figures__selection_intervals') }} where scope = 'SBP'
    ) s
        on s.series_code = p.series_code and s.period_month = p.period_month and s.basis = p.basis
        and p.vintage >= s.known_from
    where p.publisher = 'PBS' and p.value_origin = 'reported'
      and not {{ agree_within_rounding('p.value_usd_thousand', 's.value_usd_thousand',
                                       'p.precision_usd_thousand', 's.precision_usd_thousand') }}
)
select * from children_sum
union all select * from months_vs_cumulative
union all select * from sbp_vs_pbs
