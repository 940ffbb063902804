{{ config(severity='warn', meta={"dagster": {"ref": {"name": "fct_ict_exports_monthly"}}}) }}
-- A line's children sum to it (within rounding) where all are known; the press rounds and
-- revises children on their own, so this warns rather than fails.
select p.series_code, p.month, p.value_usd_mn, sum(c.value_usd_mn) as children_usd_mn
from {{ ref('fct_ict_exports_monthly') }} p
join {{ ref('dim_series') }} s on s.parent_series_code = p.series_code
join {{ ref('fct_ict_exports_monthly') }} c on c.series_code = s.series_code and c.month = p.month
group by all
having sum(c.value_usd_mn) > p.value_usd_mn * 1.02 + 1
