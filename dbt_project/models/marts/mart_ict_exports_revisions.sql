-- For each series, period and basis: the first printed value, the latest (by the selection
-- rule), how many times and by how much it was revised. Printings within rounding of the value
-- known before them are confirmations, not revisions.
with changes as (
    select * from {{ ref('mart_ict_exports_release_changes') }}
),
firsts as (
    select series_code, period_month, basis,
        arg_min(value_usd_mn, published_on) as first_usd_mn,
        min(published_on) as first_published_on,
        arg_min(release_id, published_on) as first_release_id,
        count(*) as printings,
        count(*) filter (where change_kind = 'revised') as revisions,
        max(abs(change_usd_mn)) filter (where change_kind = 'revised') as largest_revision_usd_mn,
        max(published_on) filter (where change_kind = 'revised') as last_revised_on
    from changes
    group by all
),
latest as (
    select series_code, period_month, basis,
        cast(value_usd_thousand / 1000 as decimal(18, 4)) as latest_usd_mn,
        published_on as latest_published_on,
        release_id as latest_release_id,
        source_url as latest_source_url
    from {{ ref('int_figures__selected') }}
)
select
    f.series_code,
    f.period_month,
    f.basis,
    f.first_usd_mn,
    f.first_published_on,
    f.first_release_id,
    l.latest_usd_mn,
    l.latest_published_on,
    l.latest_release_id,
    l.latest_usd_mn - f.first_usd_mn as total_revision_usd_mn,
    {{ pct_change('l.latest_usd_mn', 'f.first_usd_mn') }} as total_revision_pct,
    f.printings,
    f.revisions,
    f.largest_revision_usd_mn,
    f.last_revised_on,
    l.latest_source_url
from firsts f
join latest l using (series_code, period_month, basis)
