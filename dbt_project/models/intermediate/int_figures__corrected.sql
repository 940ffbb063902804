-- Figures with the errata applied: `exclude` marks a figure out of the facts, `swap` books it
-- under the series it belongs to. Every figure stays here, so errata can be counted.
-- The one errata match of the warehouse: every model and test reads erratum_id, erratum_action
-- and corrected_series_code from here. An erratum names its figure by publisher, page, period,
-- series and basis as printed and the value as printed (text): the key ERRATUM_KEY of
-- orchestration/lib/errata.py, the Python matcher (tests/e2e/test_one_home.py compares both).
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
