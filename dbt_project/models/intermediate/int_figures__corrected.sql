-- Figures with the errata applied: `exclude` marks a figure out of the facts, `swap` books it
-- under the series it belongs to. Every figure stays here, so errata can be counted.
with figures as (
    select * from {{ ref('stg_release_figures') }}
),
errata as (
    select * from {{ ref('errata') }}
)
select
    f.*,
    f.series_code as series_code_as_printed,
    e.erratum_id,
    e.action as erratum_action,
    e.reason as erratum_reason,
    case when e.action = 'swap' then e.corrected_series_code else f.series_code end as corrected_series_code,
    coalesce(e.action = 'exclude', false) as is_excluded
from figures f
left join errata e
    on e.publisher = f.publisher
    and e.source_url = f.source_url
    and e.period = strftime(f.period_month, '%Y-%m')
    and e.series_code = f.series_code
    and e.basis = f.basis
    and e.value_usd_thousand = f.value_as_printed
