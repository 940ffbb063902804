-- What each release changed: every figure a release printed, against the value known for the
-- same series, period and basis the day before (both publishers together). A figure is a
-- revision when a value was known and the new one differs beyond both roundings.
with figures as (
    select * from {{ ref('fct_ict_export_figures') }} where value_origin = 'reported'
),
known_before as (
    -- the interval of the same key that was open the day before: a key's intervals are
    -- contiguous from its first printing, so the last one starting before the day holds then
    select f.figure_id, s.value_usd_thousand, s.precision_usd_thousand, s.release_id, s.published_on
    from figures f
    asof join (
        select * from {{ ref('int_figures__selection_intervals') }} where scope = 'all'
    ) s
        on s.series_code = f.series_code and s.period_month = f.period_month and s.basis = f.basis
        and f.vintage > s.known_from
)
select
    f.release_id,
    f.publisher,
    f.vintage as published_on,
    f.series_code,
    f.period_month,
    f.basis,
    cast(f.value_usd_thousand / 1000 as decimal(18, 4)) as value_usd_mn,
    cast(k.value_usd_thousand / 1000 as decimal(18, 4)) as previous_usd_mn,
    k.release_id as previous_release_id,
    k.published_on as previous_published_on,
    cast((f.value_usd_thousand - k.value_usd_thousand) / 1000 as decimal(18, 4)) as change_usd_mn,
    {{ pct_change('f.value_usd_thousand', 'k.value_usd_thousand') }} as change_pct,
    case
        when k.figure_id is null then 'new'
        when {{ agree_within_rounding('f.value_usd_thousand', 'k.value_usd_thousand',
                                      'f.precision_usd_thousand', 'k.precision_usd_thousand') }} then 'confirmed'
        else 'revised'
    end as change_kind,
    f.source_url
from figures f
left join known_before k on k.figure_id = f.figure_id
