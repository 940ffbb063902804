-- Bitemporal facts: every figure with the period it measures and the vintage it was known
-- from (the day it was published), its publisher, basis, precision, whether errata touched it,
-- and whether it was reported or derived (a month from two consecutive printed cumulatives,
-- as first derivable on the day the later cumulative was printed). Excluded figures are not
-- facts; they stay in raw and int_figures__corrected.
with reported as (
    select
        figure_id,
        corrected_series_code as series_code,
        period_month,
        basis_key as basis,
        basis_kind,
        basis_months,
        value_usd_thousand,
        precision_usd_thousand,
        publisher,
        published_on as vintage,
        published_on_estimated,
        erratum_id is not null as touched_by_errata,
        erratum_id,
        'reported' as value_origin,
        release_id,
        source_url
    from {{ ref('int_figures__corrected') }}
    where not is_excluded
),
-- A month derived on the day the later of its two cumulatives was printed and selected, from
-- the cumulative to the month before known that day, when no month was known that day.
intervals as (
    select i.*, m.fiscal_month
    from {{ ref('int_figures__selection_intervals') }} i
    join {{ ref('dim_month') }} m on m.month = i.period_month
    where i.scope = 'all'
),
cumulative_intervals as (
    -- the cumulative to each month; to July, the July month however it was printed
    select * from intervals
    where (basis_kind = 'fytd' and basis_months = fiscal_month) or (basis = 'month' and fiscal_month = 1)
),
first_days as (
    select * from cumulative_intervals
    where basis_kind = 'fytd' and fiscal_month > 1 and known_from = published_on
),
derivable as (
    select c.*, p.figure_id as base_figure_id, p.value_usd_thousand as base_usd_thousand, p.known_to as base_known_to
    from first_days c
    asof join cumulative_intervals p
        on p.series_code = c.series_code
        and p.period_month = cast(c.period_month - interval 1 month as date)
        and c.known_from >= p.known_from
),
month_intervals as (
    select * from intervals where basis = 'month'
),
derived_months as (
    select d.*
    from derivable d
    asof left join month_intervals r
        on r.series_code = d.series_code
        and r.period_month = d.period_month
        and d.known_from >= r.known_from
    where d.known_from < d.base_known_to
      and d.value_usd_thousand >= d.base_usd_thousand
      and (r.figure_id is null or d.known_from >= r.known_to)
),
derived as (
    select
        {{ surrogate_key(['m.figure_id', 'm.base_figure_id']) }} as figure_id,
        m.series_code,
        m.period_month,
        'month' as basis,
        'month' as basis_kind,
        1 as basis_months,
        m.value_usd_thousand - m.base_usd_thousand as value_usd_thousand,
        cast(null as double) as precision_usd_thousand,
        m.publisher,
        m.published_on as vintage,
        m.published_on_estimated,
        m.erratum_id is not null as touched_by_errata,
        m.erratum_id,
        'derived' as value_origin,
        m.release_id,
        m.source_url
    from derived_months m
)
select * from reported
union all
select * from derived
