{#
  The warehouse's rules, written once. Vintages are validity intervals
  (int_figures__selection_intervals: each selected value with [known_from, known_to) per scope);
  "as of D" is a filter on them (selected_as_of), and the monthly values and growth rates are
  computed from the filtered set by the same macros for the latest marts (the open end) and for
  any day on demand (the table macro marts.growth_as_of, made by create_growth_as_of).
  Each macro is the body of a select over CTEs the caller names.
#}


{#
  The selection rule (docs: selection_rule) as validity intervals, over `candidates`
  (int_figures__corrected columns plus scope). Whether a printing is a rounded restatement
  depends only on earlier printings of its scope, and after that rule the latest publication
  wins; so the value known from each printing day of a key is the best printing of the latest
  day that had one that is not a restatement, and it holds until the key's next printing day.
#}
{% macro selection_intervals(candidates) %}
with_finest_earlier as (
    select
        c.*,
        min(c.precision_usd_thousand) over (
            partition by c.scope, c.corrected_series_code, c.period_month, c.basis_key
            order by c.published_on
            range between unbounded preceding and interval 1 day preceding
        ) as finest_earlier_precision
    from {{ candidates }} c
),
-- Only a printing coarser than an earlier one can be a rounded restatement: the join below
-- looks at those few, not at every pair of printings.
restatements as (
    select distinct c.scope, c.figure_id
    from with_finest_earlier c
    join {{ candidates }} e
        on e.scope = c.scope
        and e.corrected_series_code = c.corrected_series_code
        and e.period_month = c.period_month
        and e.basis_key = c.basis_key
        and e.published_on < c.published_on
        and e.precision_usd_thousand < c.precision_usd_thousand
        -- c is e as printed rounded: within half of c's own rounding unit (e taken as exact)
        and {{ agree_within_rounding('c.value_usd_thousand', 'e.value_usd_thousand', 'c.precision_usd_thousand') }}
    where c.precision_usd_thousand > c.finest_earlier_precision
),
ranked_in_day as (
    select
        c.scope, c.corrected_series_code, c.period_month, c.basis_key, c.published_on, c.figure_id,
        r.figure_id is not null as is_rounded_restatement,
        count(*) over same_day as printed_that_day,
        row_number() over (
            partition by c.scope, c.corrected_series_code, c.period_month, c.basis_key, c.published_on
            order by
                r.figure_id is not null,
                case c.publisher when 'SBP' then 0 else 1 end,
                c.precision_usd_thousand,
                c.release_id desc,
                c.source_row desc
        ) as rank_in_day
    from {{ candidates }} c
    left join restatements r on r.scope = c.scope and r.figure_id = c.figure_id
    window same_day as (partition by c.scope, c.corrected_series_code, c.period_month, c.basis_key, c.published_on)
),
printing_days as (
    select
        scope, corrected_series_code, period_month, basis_key, published_on as known_from,
        printed_that_day,
        case when not is_rounded_restatement then figure_id end as day_winner_id
    from ranked_in_day
    where rank_in_day = 1
),
intervals as (
    select
        scope, corrected_series_code, period_month, basis_key, known_from,
        coalesce(lead(known_from) over key_days, 'infinity'::date) as known_to,
        sum(printed_that_day) over (key_days rows between unbounded preceding and current row) as candidate_count,
        -- the first printing day of a key never holds a restatement, so this is never null
        last_value(day_winner_id ignore nulls) over (key_days rows between unbounded preceding and current row) as figure_id
    from printing_days
    window key_days as (partition by scope, corrected_series_code, period_month, basis_key order by known_from)
)
select
    i.scope,
    f.corrected_series_code as series_code,
    f.period_month,
    f.basis_key as basis,
    f.basis_kind,
    f.basis_months,
    f.value_usd_thousand,
    f.precision_usd_thousand,
    f.figure_id,
    f.release_id,
    f.publisher,
    f.published_on,
    f.published_on_estimated,
    f.source_url,
    f.source_row,
    f.source_file,
    f.erratum_id,
    cast(i.candidate_count as bigint) as candidate_count,
    i.known_from,
    i.known_to
from intervals i
join {{ candidates }} f on f.scope = i.scope and f.figure_id = i.figure_id
{% endmacro %}


{#
  The selected values as known on a day (`as_of`, a SQL date expression) to a scope (a SQL
  expression: 'all', 'SBP' or 'PBS'), out of `intervals`; with no day, the latest (open end).
#}
{% macro selected_as_of(intervals, as_of=none, scope="'all'") %}
select * exclude (scope, known_from, known_to, key_fingerprint)
from {{ intervals }}
where scope = {{ scope }}
  and {% if as_of is none %}known_to = 'infinity'::date{% else %}known_from <= {{ as_of }} and {{ as_of }} < known_to{% endif %}
{% endmacro %}


{# One value per series and month: reported, else derived from two consecutive cumulatives. #}
{% macro monthly_values(selected, months) %}
reported as (
    select
        s.series_code,
        s.period_month as month,
        s.value_usd_thousand,
        'reported' as value_origin,
        s.figure_id, s.release_id, s.publisher, s.published_on, s.published_on_estimated,
        s.source_url, s.erratum_id, s.candidate_count,
        cast(null as varchar) as base_figure_id
    from {{ selected }} s
    where s.basis = 'month'
),
cumulatives as (
    select s.*, m.fiscal_month
    from {{ selected }} s
    join {{ months }} m on m.month = s.period_month
    where s.basis_kind = 'fytd' and s.basis_months = m.fiscal_month
),
-- The cumulative to each month, at most one per series and month. The cumulative to July is
-- the July month itself, however it was printed: stg_release_figures gives a July cumulative
-- (fytd_Jul) the basis 'month', so one selected row can be both a cumulative and a month and
-- must count once (else August, derived from it, would come twice).
previous_cumulative as (
    select s.series_code, s.period_month, s.value_usd_thousand, s.figure_id, m.fiscal_month
    from {{ selected }} s
    join {{ months }} m on m.month = s.period_month
    where (s.basis_kind = 'fytd' and s.basis_months = m.fiscal_month)
       or (s.basis = 'month' and m.fiscal_month = 1)
    qualify row_number() over (
        partition by s.series_code, s.period_month
        order by s.basis = 'month' desc, s.figure_id
    ) = 1
),
derived as (
    select
        c.series_code,
        c.period_month as month,
        c.value_usd_thousand - p.value_usd_thousand as value_usd_thousand,
        'derived' as value_origin,
        c.figure_id, c.release_id, c.publisher, c.published_on, c.published_on_estimated,
        c.source_url, c.erratum_id, c.candidate_count,
        p.figure_id as base_figure_id
    from cumulatives c
    join previous_cumulative p
        on p.series_code = c.series_code
        and p.period_month = c.period_month - interval 1 month
        and p.fiscal_month = c.fiscal_month - 1
    where c.fiscal_month > 1
      and c.value_usd_thousand >= p.value_usd_thousand
)
select * from reported
union all
select d.* from derived d
where not exists (
    select 1 from reported r
    where r.series_code = d.series_code and r.month = d.month
)
{% endmacro %}


{#
  Growth rates over `facts` (series_code, month, fiscal_year, fiscal_month, value_usd_mn),
  `cumulatives` (series_code, period_month, basis_months, value_usd_thousand: the printed
  fiscal-year-to-date figures), `months` (dim_month) and `series` (dim_series).
  A month with a printed cumulative but no monthly value still gets a row (value null), so
  fiscal-year-to-date and full-year growth can be read for it.
  The fiscal year to date is the cumulative the publisher printed for the month when there is
  one, else the sum of the months when every month is known.
#}
{% macro growth_rows(facts, cumulatives, months, series) %}
base as (
    select f.series_code, f.month, f.fiscal_year, f.fiscal_month, f.value_usd_mn
    from {{ facts }} f
    union all
    select c.series_code, c.period_month, m.fiscal_year, m.fiscal_month,
        cast(null as decimal(18, 4))
    from {{ cumulatives }} c
    join {{ months }} m on m.month = c.period_month and m.fiscal_month = c.basis_months
    where not exists (
        select 1 from {{ facts }} f
        where f.series_code = c.series_code and f.month = c.period_month
    )
),
running as (
    select
        f.*,
        case when count(f.value_usd_mn) over fy_to_date = f.fiscal_month
             then sum(f.value_usd_mn) over fy_to_date end as sum_of_months_usd_mn,
        case when count(f.value_usd_mn) over last_12 = 12
             then sum(f.value_usd_mn) over last_12 end as r12_usd_mn
    from base f
    window
        fy_to_date as (partition by f.series_code, f.fiscal_year order by f.month
                       rows between unbounded preceding and current row),
        last_12 as (partition by f.series_code order by f.month
                    range between interval 11 month preceding and current row)
),
with_fytd as (
    select
        r.*,
        coalesce(cast(c.value_usd_thousand / 1000 as decimal(18, 4)), r.sum_of_months_usd_mn) as fytd_usd_mn,
        case when c.value_usd_thousand is not null then 'published'
             when r.sum_of_months_usd_mn is not null then 'sum_of_months' end as fytd_source
    from running r
    left join {{ cumulatives }} c
        on c.series_code = r.series_code
        and c.period_month = r.month
        and c.basis_months = r.fiscal_month
),
with_bases as (
    select
        r.*,
        prev_month.value_usd_mn as prev_month_usd_mn,
        prev_year.value_usd_mn as prev_year_usd_mn,
        prev_year.fytd_usd_mn as prev_year_fytd_usd_mn,
        prev_year.r12_usd_mn as prev_year_r12_usd_mn,
        ict.value_usd_mn as ict_total_usd_mn
    from with_fytd r
    left join with_fytd prev_month
        on prev_month.series_code = r.series_code and prev_month.month = r.month - interval 1 month
    left join with_fytd prev_year
        on prev_year.series_code = r.series_code and prev_year.month = r.month - interval 12 month
    left join {{ facts }} ict
        on ict.series_code = 'ict_total' and ict.month = r.month
)
select
    b.series_code,
    cast(b.month as date) as month,
    b.fiscal_year,
    b.fiscal_month,
    b.value_usd_mn,
    {{ pct_change('b.value_usd_mn', 'b.prev_month_usd_mn') }} as mom_pct,
    {{ pct_change('b.value_usd_mn', 'b.prev_year_usd_mn') }} as yoy_pct,
    b.fytd_usd_mn,
    {{ pct_change('b.fytd_usd_mn', 'b.prev_year_fytd_usd_mn') }} as fytd_yoy_pct,
    b.r12_usd_mn,
    {{ pct_change('b.r12_usd_mn', 'b.prev_year_r12_usd_mn') }} as r12_yoy_pct,
    case when s.is_ict and b.ict_total_usd_mn > 0
         then b.value_usd_mn / b.ict_total_usd_mn * 100 end as share_of_ict_pct,
    b.fytd_source
from with_bases b
join {{ series }} s on s.series_code = b.series_code
{% endmacro %}


{#
  The growth mart as known on a day (`as_of`) to a scope, with the day's vintage (the latest
  printing day on or before it) and where each value came from: the selected values as of that
  day, then monthly_values and growth_rows, exactly as for the latest marts. The body of the
  table macro marts.growth_as_of (macro create_growth_as_of).
#}
{% macro growth_as_of_query(intervals, months, series, as_of, scope) %}
with selected as (
    {{ selected_as_of(intervals, as_of, scope) }}
),
month_spine as (
    select * from {{ months }}
),
series_lines as (
    select * from {{ series }}
),
monthly as (
    with {{ monthly_values('selected', 'month_spine') }}
),
facts as (
    select
        m.series_code, m.month, d.fiscal_year, d.fiscal_month,
        cast(m.value_usd_thousand / 1000 as decimal(18, 4)) as value_usd_mn
    from monthly m
    join month_spine d on d.month = m.month
),
printed_cumulatives as (
    select series_code, period_month, basis_months, value_usd_thousand
    from selected
    where basis_kind = 'fytd'
),
growth as (
    with {{ growth_rows('facts', 'printed_cumulatives', 'month_spine', 'series_lines') }}
),
vintage as (
    select max(known_from) as vintage
    from {{ intervals }}
    where scope = {{ scope }} and known_from <= {{ as_of }}
)
select
    g.*,
    v.vintage,
    m.value_origin,
    m.release_id,
    m.published_on,
    m.source_url
from growth g
cross join vintage v
left join monthly m on m.series_code = g.series_code and m.month = g.month
{% endmacro %}

