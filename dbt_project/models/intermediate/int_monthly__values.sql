-- One value per series and month: the selected monthly figure where one was printed, else the
-- difference of two consecutive selected cumulatives of the same fiscal year (marked derived).
with selected as (
    select * from {{ ref('int_figures__selected') }}
),
months as (
    select * from {{ ref('dim_month') }}
),
reported as (
    select
        s.series_code,
        s.period_month as month,
        s.value_usd_thousand,
        'reported' as value_origin,
        s.figure_id, s.release_id, s.publisher, s.published_on, s.published_on_estimated,
        s.source_url, s.erratum_id, s.candidate_count,
        cast(null as varchar) as base_figure_id
    from selected s
    where s.basis = 'month'
),
cumulatives as (
    select s.*, m.fiscal_month
    from selected s
    join months m on m.month = s.period_month
    where s.basis_kind = 'fytd' and s.basis_months = m.fiscal_month
),
-- the cumulative to July is the July month itself
previous_cumulative as (
    select series_code, period_month, value_usd_thousand, figure_id, fiscal_month from cumulatives
    union all
    select r.series_code, r.month, r.value_usd_thousand, r.figure_id, 1
    from reported r join months m on m.month = r.month
    where m.fiscal_month = 1
),
derived as (
    select
        c.series_code,
        c.period_month as month,
        c.value_usd_thousand - p.value_usd_thousand as value_usd_thousand,
        'derived' as value_origin,
        c.figure_id, c.release_id, c.publisher, c.published_on, c.published_on_estimated,
        c.source_url, c.erratum_id, c.candidate_count,
        p.figure_id as base_figure_id
    from cumulatives c
    join previous_cumulative p
        on p.series_code = c.series_code
        and p.period_month = c.period_month - interval 1 month
        and p.fiscal_month = c.fiscal_month - 1
    where c.fiscal_month > 1
      and c.value_usd_thousand >= p.value_usd_thousand
)
select * from reported
union all
select d.* from derived d
where not exists (select 1 from reported r where r.series_code = d.series_code and r.month = d.month)
