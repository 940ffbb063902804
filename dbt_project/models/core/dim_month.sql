-- The calendar and Pakistan's fiscal year, for every model: FY runs July to June and is named
-- by the year it ends in (FY24 = July 2023 to June 2024); July is fiscal month 1. The start month
-- is the var fiscal_year_start_month (dbt_project.yml), which orchestration/lib/fiscal.py reads
-- for the Python with these same formulas (tests/e2e/test_one_home.py compares them).
-- The spine covers whole fiscal years around every period in the data.
{% set fy_start = var('fiscal_year_start_month') %}
with bounds as (
    select
        min(period_month) as first_month,
        max(period_month) as last_month
    from {{ ref('stg_release_figures') }}
),
spine as (
    select cast(m as date) as month
    from bounds,
        range(
            -- back to the start of the first fiscal year, on to the end of the last
            cast(first_month - to_months(cast((month(first_month) - {{ fy_start }} + 12) % 12 as integer)) as timestamp),
            cast(last_month + to_months(cast(12 - (month(last_month) - {{ fy_start }} + 12) % 12 as integer)) as timestamp),
            interval 1 month
        ) as t(m)
),
calendar as (
    select
        month,
        cast(last_day(month) as date) as month_end,
        year(month) as calendar_year,
        month(month) as calendar_month,
        strftime(month, '%b') as month_abbr,
        strftime(month, '%b %Y') as month_label,
        year(month) + case when month(month) >= {{ fy_start }} then 1 else 0 end as fiscal_year,
        (month(month) - {{ fy_start }} + 12) % 12 + 1 as fiscal_month
    from spine
)
select
    month,
    month_end,
    calendar_year,
    calendar_month,
    month_abbr,
    month_label,
    fiscal_year,
    'FY' || right(cast(fiscal_year as varchar), 2) as fiscal_year_label,
    fiscal_month,
    (fiscal_month - 1) // 3 + 1 as fiscal_quarter,
    fiscal_month = 12 as is_fiscal_year_end
from calendar
