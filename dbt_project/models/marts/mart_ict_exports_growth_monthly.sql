-- One row per series and month with the growth rates the press prints, as known today.
-- mom: on the month before; yoy: on the same month a year before; fytd: July to this month, the
-- cumulative the publishers printed or else the sum of the months when all are known; r12: the
-- 12 months to this month, when all 12 are known. A growth whose base is missing or zero is null.
with facts as (
    select series_code, month, fiscal_year, fiscal_month, value_usd_mn
    from {{ ref('fct_ict_exports_monthly') }}
),
cumulatives as (
    select series_code, period_month, basis_months, value_usd_thousand
    from {{ ref('int_figures__selected') }}
    where basis_kind = 'fytd'
),
months as (
    select * from {{ ref('dim_month') }}
),
series as (
    select * from {{ ref('dim_series') }}
),
{{ growth_rows('facts', 'cumulatives', 'months', 'series') }}
