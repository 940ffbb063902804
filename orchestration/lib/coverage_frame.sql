-- What a release's header announces against what its figures cover, for one release.
with header as (
    select distinct period, basis from raw.release_header_periods where release_id = $release_id
),
figures as (
    select period, basis, count(*) as figures
    from raw.release_figures where release_id = $release_id
    group by all
)
select
    coalesce(h.period, f.period) as period,
    coalesce(h.basis, f.basis) as basis,
    h.period is not null as in_header,
    coalesce(f.figures, 0) as figures
from header h
full outer join figures f on f.period = h.period and f.basis = h.basis
order by 1, 2
