{{ config(severity='warn', meta={"dagster": {"ref": {"name": "int_figures__corrected"}}}) }}
-- When two kinds of source print the same figure at about the same time (SBP's workbook and
-- the public record, EasyData and the workbook, ...), they agree within their rounding.
-- Differences describe the publishers (or a revision between the two), so this warns.
with figures as (
    select * from {{ ref('int_figures__corrected') }} where not is_excluded
)
select
    a.corrected_series_code as series_code, a.period_month, a.basis_key,
    a.source_format as source_a, a.value_usd_thousand as value_a, a.release_id as release_a,
    b.source_format as source_b, b.value_usd_thousand as value_b, b.release_id as release_b
from figures a
join figures b
    on a.corrected_series_code = b.corrected_series_code
    and a.period_month = b.period_month
    and a.basis_key = b.basis_key
    and a.source_format < b.source_format
    and abs(date_diff('day', a.published_on, b.published_on)) <= 40
where not {{ agree_within_rounding('a.value_usd_thousand', 'b.value_usd_thousand',
                                   'a.precision_usd_thousand', 'b.precision_usd_thousand') }}
