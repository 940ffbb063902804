-- What each staged release's header announces against what its figures cover, for the
-- releases whose file has a header of periods (SBP's workbooks, EasyData).
with header as (
    select distinct release_id, period, basis from staged_header_periods
),
figures as (
    select release_id, period, basis, count(*) as figures
    from staged_figures
    where release_id in (select release_id from header)
    group by all
)
select
    coalesce(h.release_id, f.release_id) as release_id,
    -- a header entry is no file row: number them, so that GX can name the failing ones
    row_number() over (order by coalesce(h.release_id, f.release_id), coalesce(h.period, f.period),
                       coalesce(h.basis, f.basis)) as row_id,
    coalesce(h.period, f.period) as period,
    coalesce(h.basis, f.basis) as basis,
    h.period is not null as in_header,
    coalesce(f.figures, 0) as figures
from header h
full outer join figures f on f.release_id = h.release_id and f.period = h.period and f.basis = h.basis
order by 1, 2, 3
