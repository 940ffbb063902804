-- One value for each series, period and basis, out of every value printed for it.
-- The rule (doc block selection_rule in docs/overview.md):
--   1. a rounded restatement does not replace an earlier, more precise figure it agrees with
--      within its own rounding ($1.5bn after $1,523m);
--   2. of the rest, the latest publication wins;
--   3. on the same day SBP wins over PBS (PBS republishes SBP's data);
--   4. then the finer precision, then the later row of the release.
with candidates as (
    select *
    from {{ ref('int_figures__corrected') }}
    where not is_excluded
),
flagged as (
    select
        c.*,
        exists (
            select 1
            from candidates e
            where e.corrected_series_code = c.corrected_series_code
              and e.period_month = c.period_month
              and e.basis_key = c.basis_key
              and e.figure_id <> c.figure_id
              and e.published_on < c.published_on
              and e.precision_usd_thousand < c.precision_usd_thousand
              and abs(c.value_usd_thousand - e.value_usd_thousand) <= c.precision_usd_thousand / 2
        ) as is_rounded_restatement,
        count(*) over (partition by c.corrected_series_code, c.period_month, c.basis_key) as candidate_count
    from candidates c
),
ranked as (
    select
        *,
        row_number() over (
            partition by corrected_series_code, period_month, basis_key
            order by
                is_rounded_restatement,
                published_on desc,
                case publisher when 'SBP' then 0 else 1 end,
                precision_usd_thousand,
                release_id desc,
                source_row desc
        ) as selection_rank
    from flagged
)
select
    corrected_series_code as series_code,
    period_month,
    basis_key as basis,
    basis_kind,
    basis_months,
    value_usd_thousand,
    precision_usd_thousand,
    figure_id,
    release_id,
    publisher,
    published_on,
    published_on_estimated,
    source_url,
    source_row,
    source_file,
    erratum_id,
    candidate_count
from ranked
where selection_rank = 1
