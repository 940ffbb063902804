-- The frame Great Expectations validates for one release ($release_id): the release's rows
-- as loaded, with derived columns that carry the rules spanning columns, the errata and the
-- series hierarchy (both read from the dbt seed files, their one home).
with figures as (
    select * from raw.release_figures where release_id = $release_id
),
errata as (
    select * from read_csv($errata_csv, all_varchar = true, header = true)
),
hierarchy as (
    select * from read_csv($hierarchy_csv, all_varchar = true, header = true)
),
matched as (
    select
        f.*,
        e.erratum_id,
        e.action as erratum_action,
        case when e.action = 'swap' then e.corrected_series_code else f.series_code end as corrected_series_code
    from figures f
    left join errata e
        on e.publisher = f.publisher
        and e.source_url = f.source_url
        and e.period = f.period
        and e.series_code = f.series_code
        and e.basis = f.basis
        and e.value_usd_thousand = f.value_usd_thousand
),
children as (
    -- each line's children printed in the same release, for the same period and basis
    select p.source_row, p.period, p.basis,
        count(c.source_row) as children_printed,
        sum(c.value_number) as children_sum,
        sum(c.value_precision) / 2 + any_value(p.value_precision) / 2 + 1e-6 as rounding_tolerance
    from matched p
    join hierarchy h on h.parent_series_code = p.corrected_series_code
    join matched c on c.corrected_series_code = h.series_code
        and c.period = p.period and c.basis = p.basis and c.erratum_action is distinct from 'exclude'
    where p.erratum_action is distinct from 'exclude'
    group by p.source_row, p.period, p.basis
),
child_lines as (
    select parent_series_code, count(*) as children_defined from hierarchy group by all
),
spread as (
    -- one figure printed by several pages of the same release: do they agree within rounding?
    select series_code, period, basis,
        max(value_number) - min(value_number) > (max(value_precision) + min(value_precision)) / 2 + 1e-9
            as spread_beyond_rounding
    from matched
    where erratum_id is null
    group by all
)
select
    m.source_row as row_id,
    m.period, m.series_code, m.value_usd_thousand, m.basis, m.publisher, m.published_on,
    m.source_url, m.note, m.published_on_source,
    m.value_number,
    m.period_end,
    m.published_on_date,
    m.basis_end_month,
    case when m.basis_kind is null or m.basis_kind = 'month' then null else month(m.period_end) end as period_month,
    case when m.erratum_action = 'exclude' then null
         else m.value_number / m.basis_months / 1000.0 end as monthly_equivalent_usd_mn,
    try_cast(h.plausible_min_monthly_usd_mn as double) as plausible_min_monthly_usd_mn,
    try_cast(h.plausible_max_monthly_usd_mn as double) as plausible_max_monthly_usd_mn,
    m.erratum_id,
    coalesce(m.erratum_id is null
        and regexp_matches(coalesce(m.note, ''), 'LABEL_SWAP_SUSPECTED|INCONSISTENT_IN_SOURCE|INCONSISTENT_WITH_OTHER_SOURCES'),
        false) as unnamed_press_error,
    coalesce(s.spread_beyond_rounding, false) as spread_beyond_rounding,
    -- SBP's own statistical files add up: checked where the file prints the whole table (the
    -- EBOPS workbook, whose lines change between editions) or every child line of the hierarchy.
    -- Press reports in the record often do not (the dbt test assert_children_do_not_exceed_parent
    -- warns about those): they describe the press, not a broken file.
    coalesce(
        m.source_format <> 'record_csv'
        and (m.source_format = 'ebops_workbook' or ch.children_printed = cl.children_defined)
        and abs(m.value_number - ch.children_sum) > ch.rounding_tolerance,
        false) as children_sum_mismatch
from matched m
left join hierarchy h on h.series_code = m.corrected_series_code
left join spread s on s.series_code = m.series_code and s.period = m.period and s.basis = m.basis
left join children ch on ch.source_row = m.source_row and ch.period = m.period and ch.basis = m.basis
left join child_lines cl on cl.parent_series_code = m.corrected_series_code
order by m.source_row, m.period, m.basis
