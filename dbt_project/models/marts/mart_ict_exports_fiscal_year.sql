-- One row per series and fiscal year: the total, its growth on the year before, and whether
-- the year is complete. The total is the full-year figure the publishers printed (selected by
-- the selection rule) or, where none was printed, the sum of the twelve months.
with months as (
    select
        series_code, fiscal_year, fiscal_year_label,
        count(*) as months_in_data,
        max(fiscal_month) as last_fiscal_month,
        sum(value_usd_mn) as sum_of_months_usd_mn
    from {{ ref('fct_ict_exports_monthly') }}
    group by all
),
printed_full_year as (
    select
        s.series_code,
        d.fiscal_year,
        d.fiscal_year_label,
        cast(s.value_usd_thousand / 1000 as decimal(18, 4)) as published_total_usd_mn,
        s.release_id as published_total_release_id,
        s.source_url as published_total_source_url
    from {{ ref('int_figures__selected') }} s
    join {{ ref('dim_month') }} d on d.month = s.period_month
    where s.basis_kind = 'fytd' and s.basis_months = 12
),
years as (
    select
        coalesce(m.series_code, p.series_code) as series_code,
        coalesce(m.fiscal_year, p.fiscal_year) as fiscal_year,
        coalesce(m.fiscal_year_label, p.fiscal_year_label) as fiscal_year_label,
        coalesce(m.months_in_data, 0) as months_in_data,
        m.sum_of_months_usd_mn,
        p.published_total_usd_mn,
        p.published_total_release_id,
        p.published_total_source_url
    from months m
    full outer join printed_full_year p
        on p.series_code = m.series_code and p.fiscal_year = m.fiscal_year
),
totals as (
    select
        *,
        coalesce(published_total_usd_mn, case when months_in_data = 12 then sum_of_months_usd_mn end) as total_usd_mn,
        case when published_total_usd_mn is not null then 'published_full_year'
             when months_in_data = 12 then 'sum_of_months' end as total_source,
        published_total_usd_mn is not null or months_in_data = 12 as is_complete
    from years
)
select
    t.series_code,
    t.fiscal_year,
    t.fiscal_year_label,
    t.is_complete,
    t.total_usd_mn,
    t.total_source,
    {{ pct_change('t.total_usd_mn', 'prev.total_usd_mn') }} as yoy_pct,
    t.months_in_data,
    t.sum_of_months_usd_mn,
    t.published_total_usd_mn,
    t.published_total_release_id,
    t.published_total_source_url
from totals t
left join totals prev
    on prev.series_code = t.series_code and prev.fiscal_year = t.fiscal_year - 1
