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
derived as (
    select
        {{ surrogate_key(['m.figure_id', 'm.base_figure_id']) }} as figure_id,
        m.series_code,
        m.month as period_month,
        'month' as basis,
        'month' as basis_kind,
        1 as basis_months,
        m.value_usd_thousand,
        cast(null as double) as precision_usd_thousand,
        m.publisher,
        m.vintage,
        m.published_on_estimated,
        m.erratum_id is not null as touched_by_errata,
        m.erratum_id,
        'derived' as value_origin,
        m.release_id,
        m.source_url
    from {{ ref('int_monthly__values_asof') }} m
    where m.scope = 'all' and m.value_origin = 'derived' and m.vintage = m.published_on
)
select * from reported
union all
select * from derived
