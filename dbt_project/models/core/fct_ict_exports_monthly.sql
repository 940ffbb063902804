-- One row per series and month: the chosen value and where it came from.
with monthly as (
    select * from {{ ref('int_monthly__values') }}
)
select
    {{ surrogate_key(['m.series_code', 'm.month']) }} as series_month_key,
    m.series_code,
    m.month,
    d.fiscal_year,
    d.fiscal_year_label,
    d.fiscal_month,
    cast(m.value_usd_thousand as decimal(18, 1)) as value_usd_thousand,
    cast(m.value_usd_thousand / 1000 as decimal(18, 4)) as value_usd_mn,
    m.value_origin,
    m.figure_id,
    m.base_figure_id,
    m.release_id,
    m.publisher,
    m.published_on,
    m.published_on_estimated,
    m.source_url,
    m.erratum_id,
    m.candidate_count
from monthly m
join {{ ref('dim_month') }} d on d.month = m.month
