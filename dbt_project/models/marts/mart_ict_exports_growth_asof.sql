-- The growth mart as known at every vintage, for both publishers together (scope 'all') and
-- for each alone: the columns of mart_ict_exports_growth_monthly plus scope, vintage and where
-- each value came from. Ask it as of a day D with the table macro marts.growth_as_of(D, scope)
-- (or `itx asof`): the rows of the latest vintage on or before D.
with growth as (
    with monthly as (
        select * from {{ ref('int_monthly__values_asof') }}
    ),
    facts as (
        select
            m.scope, m.vintage, m.series_code, m.month, d.fiscal_year, d.fiscal_month,
            cast(m.value_usd_thousand / 1000 as decimal(18, 4)) as value_usd_mn
        from monthly m
        join {{ ref('dim_month') }} d on d.month = m.month
    ),
    cumulatives as (
        select scope, vintage, series_code, period_month, basis_months, value_usd_thousand
        from {{ ref('int_figures__selected_asof') }}
        where basis_kind = 'fytd'
    ),
    months as (
        select * from {{ ref('dim_month') }}
    ),
    series as (
        select * from {{ ref('dim_series') }}
    ),
    {{ growth_rows('facts', 'cumulatives', 'months', 'series', ['scope', 'vintage']) }}
)
select
    g.*,
    m.value_origin,
    m.release_id,
    m.published_on,
    m.source_url
from growth g
left join {{ ref('int_monthly__values_asof') }} m
    on m.scope = g.scope and m.vintage = g.vintage and m.series_code = g.series_code and m.month = g.month
