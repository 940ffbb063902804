-- The frame Great Expectations validates: every staged release of the run (temporary table
-- staged_figures, one bulk insert), keyed by release_id and row_id (the file row). Its columns
-- are those of raw.release_figures (as printed, and their parsed forms), plus helper columns
-- only for what no GX 1.x expectation on one pandas frame can compute: lookups in the errata
-- and the series hierarchy (read from the dbt seed files, their one home), aggregates over
-- groups of rows, and other releases' rows. Each helper is named, with the reason, in the meta
-- of the expectation that reads it (expectations/suites/raw_release_figures.json); every
-- comparison is made by the expectation, none here. Tolerances of rounding are half the units
-- plus $rounding_allowance, the one allowance (orchestration.lib.figures.rounding_allowance).
with figures as (
    select * from staged_figures
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
    -- the figure an erratum names: its columns are orchestration.lib.errata.ERRATUM_KEY (filled in there)
    left join errata e
        on {errata_match}
),
children as (
    -- each line's children printed in the same release, for the same period and basis
    select p.release_id, p.source_row, p.period, p.basis,
        count(c.source_row) as children_printed,
        sum(c.value_number) as children_sum,
        sum(c.value_precision) / 2 + any_value(p.value_precision) / 2 + $rounding_allowance as rounding_tolerance
    from matched p
    join hierarchy h on h.parent_series_code = p.corrected_series_code
    join matched c on c.release_id = p.release_id and c.corrected_series_code = h.series_code
        and c.period = p.period and c.basis = p.basis and c.erratum_action is distinct from 'exclude'
    where p.erratum_action is distinct from 'exclude'
    group by p.release_id, p.source_row, p.period, p.basis
),
child_lines as (
    select parent_series_code, count(*) as children_defined from hierarchy group by all
),
spread as (
    -- one figure printed by several pages of the same release: how far apart, and how far
    -- their rounding lets them be
    select release_id, series_code, period, basis,
        max(value_number) - min(value_number) as spread_usd_thousand,
        (max(value_precision) + min(value_precision)) / 2 + $rounding_allowance as spread_tolerance_usd_thousand
    from matched
    where erratum_id is null
    group by all
),
other_printings as (
    -- the same page in other releases: the loaded ones not being replaced, and the other staged
    -- ones. Pages of the record layout only (articles, press releases): SBP's own files are
    -- living files, re-published with revisions under the same address.
    select release_id, source_url, series_code, period, basis, value_usd_thousand, value_number, value_precision
    from raw.release_figures
    where release_id not in (select distinct release_id from figures) and source_format = 'record_csv'
    union all
    select release_id, source_url, series_code, period, basis, value_usd_thousand, value_number, value_precision
    from figures
    where source_format = 'record_csv'
),
contradictions as (
    -- a page prints one value for a series, period and basis: another release quoting the same
    -- page with a value beyond rounding means one of them misread it
    select m.release_id, m.source_row, m.period, m.basis,
        string_agg(distinct o.release_id || ' printed ' || o.value_usd_thousand, '; ') as contradiction
    from matched m
    join other_printings o
        on o.source_url = m.source_url and o.series_code = m.series_code
        and o.period = m.period and o.basis = m.basis and o.release_id <> m.release_id
    where m.erratum_id is null
      and m.source_format = 'record_csv'
      and abs(o.value_number - m.value_number) > (o.value_precision + m.value_precision) / 2 + $rounding_allowance
    group by all
)
select
    -- raw.release_figures: the key, the record's columns as printed, and their parsed forms
    m.release_id,
    m.source_row as row_id,
    m.period, m.series_code, m.value_usd_thousand, m.basis, m.publisher, m.published_on,
    m.source_url, m.note, m.published_on_source,
    m.value_number,
    m.period_end,
    m.published_on_date,
    m.basis_end_month,
    -- helpers (see the meta of the expectation that reads each)
    month(m.period_end) as period_month,
    case when m.erratum_action = 'exclude' then null
         else try_cast(h.plausible_min_monthly_usd_mn as double) * m.basis_months * 1000 end
        as plausible_min_usd_thousand,
    case when m.erratum_action = 'exclude' then null
         else try_cast(h.plausible_max_monthly_usd_mn as double) * m.basis_months * 1000 end
        as plausible_max_usd_thousand,
    m.erratum_id,
    s.spread_usd_thousand,
    s.spread_tolerance_usd_thousand,
    -- SBP's own statistical files add up: checked where the file prints the whole table (the
    -- EBOPS workbook, whose lines change between editions) or every child line of the hierarchy.
    -- Press reports in the record often do not (the dbt test assert_children_do_not_exceed_parent
    -- warns about those): they describe the press, not a broken file. Null where not checked.
    case when m.source_format <> 'record_csv'
              and (m.source_format = 'ebops_workbook' or ch.children_printed = cl.children_defined)
         then abs(m.value_number - ch.children_sum) end as children_gap_usd_thousand,
    case when m.source_format <> 'record_csv'
              and (m.source_format = 'ebops_workbook' or ch.children_printed = cl.children_defined)
         then ch.rounding_tolerance end as children_tolerance_usd_thousand,
    case when x.contradiction is not null
         then m.release_id || ' printed ' || m.value_usd_thousand || ', ' || x.contradiction end as page_contradiction
from matched m
left join hierarchy h on h.series_code = m.corrected_series_code
left join spread s on s.release_id = m.release_id and s.series_code = m.series_code and s.period = m.period
    and s.basis = m.basis
left join children ch on ch.release_id = m.release_id and ch.source_row = m.source_row and ch.period = m.period
    and ch.basis = m.basis
left join child_lines cl on cl.parent_series_code = m.corrected_series_code
left join contradictions x on x.release_id = m.release_id and x.source_row = m.source_row and x.period = m.period
    and x.basis = m.basis
order by m.release_id, m.source_row, m.period, m.basis
