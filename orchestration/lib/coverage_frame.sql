-- The periods each staged release's header announces, with how many of the release's figures
-- cover each, for the releases whose file has a header of periods (SBP's workbooks, EasyData):
-- one row per (release_id, period, basis) of the header, which names the row GX reports. The
-- header and the figures are two tables, and no GX 1.x expectation on one pandas frame compares
-- two tables: this join makes the helper column `figures` (see the meta of the expectation in
-- expectations/suites/raw_release_coverage.json). The other direction (a figure for a period
-- the header does not announce) cannot happen: every parser reads figures under the header's
-- own periods (EasyData's header is the months that hold a value).
with header as (
    select distinct release_id, period, basis from staged_header_periods
),
figures as (
    select release_id, period, basis, count(*) as figures
    from staged_figures
    where release_id in (select release_id from header)
    group by all
)
select h.release_id, h.period, h.basis, coalesce(f.figures, 0) as figures
from header h
left join figures f on f.release_id = h.release_id and f.period = h.period and f.basis = h.basis
order by 1, 2, 3
