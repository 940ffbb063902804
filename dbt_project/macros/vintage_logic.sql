{#
  The warehouse's rules, written once and applied twice: to every figure ever printed (the
  latest view: no keys) and to every vintage (keys = ['scope', 'vintage']: what was known on a
  day, to one publisher or to both). Each macro is the body of a select over CTEs the caller
  names. Keys are joined on `k.` prefixed equality.
#}

{% macro _keys(keys, alias=none, trailing=true) -%}
    {%- for k in keys %}{% if alias %}{{ alias }}.{% endif %}{{ k }}{% if not loop.last or trailing %}, {% endif %}{% endfor -%}
{%- endmacro %}

{% macro _same_keys(keys, left, right) -%}
    {%- for k in keys %} and {{ left }}.{{ k }} = {{ right }}.{{ k }}{% endfor -%}
{%- endmacro %}


{# The selection rule (docs: selection_rule) over `candidates` (int_figures__corrected columns). #}
{% macro select_figures(candidates, keys=[]) %}
flagged as (
    select
        c.*,
        exists (
            select 1
            from {{ candidates }} e
            where e.corrected_series_code = c.corrected_series_code
              and e.period_month = c.period_month
              and e.basis_key = c.basis_key
              {{ _same_keys(keys, 'e', 'c') }}
              and e.figure_id <> c.figure_id
              and e.published_on < c.published_on
              and e.precision_usd_thousand < c.precision_usd_thousand
              and abs(c.value_usd_thousand - e.value_usd_thousand) <= c.precision_usd_thousand / 2
        ) as is_rounded_restatement,
        count(*) over (partition by {{ _keys(keys) }} c.corrected_series_code, c.period_month, c.basis_key) as candidate_count
    from {{ candidates }} c
),
ranked as (
    select
        *,
        row_number() over (
            partition by {{ _keys(keys) }} corrected_series_code, period_month, basis_key
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
    {{ _keys(keys) }}
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
{% endmacro %}


{# One value per series and month: reported, else derived from two consecutive cumulatives. #}
{% macro monthly_values(selected, months, keys=[]) %}
reported as (
    select
        {{ _keys(keys, 's') }}
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
    select {{ _keys(keys, 's') }} s.series_code, s.period_month, s.value_usd_thousand, s.figure_id, m.fiscal_month
    from {{ selected }} s
    join {{ months }} m on m.month = s.period_month
    where (s.basis_kind = 'fytd' and s.basis_months = m.fiscal_month)
       or (s.basis = 'month' and m.fiscal_month = 1)
    qualify row_number() over (
        partition by {{ _keys(keys, 's') }} s.series_code, s.period_month
        order by s.basis = 'month' desc, s.figure_id
    ) = 1
),
derived as (
    select
        {{ _keys(keys, 'c') }}
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
        {{ _same_keys(keys, 'p', 'c') }}
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
    where r.series_code = d.series_code and r.month = d.month {{ _same_keys(keys, 'r', 'd') }}
)
{% endmacro %}


{#
  Growth rates over `facts` (keys, series_code, month, fiscal_year, fiscal_month, value_usd_mn),
  `cumulatives` (keys, series_code, period_month, basis_months, value_usd_thousand: the printed
  fiscal-year-to-date figures), `months` (dim_month) and `series` (dim_series).
  A month with a printed cumulative but no monthly value still gets a row (value null), so
  fiscal-year-to-date and full-year growth can be read for it.
  The fiscal year to date is the cumulative the publisher printed for the month when there is
  one, else the sum of the months when every month is known.
#}
{% macro growth_rows(facts, cumulatives, months, series, keys=[]) %}
base as (
    select {{ _keys(keys, 'f') }} f.series_code, f.month, f.fiscal_year, f.fiscal_month, f.value_usd_mn
    from {{ facts }} f
    union all
    select {{ _keys(keys, 'c') }} c.series_code, c.period_month, m.fiscal_year, m.fiscal_month,
        cast(null as decimal(18, 4))
    from {{ cumulatives }} c
    join {{ months }} m on m.month = c.period_month and m.fiscal_month = c.basis_months
    where not exists (
        select 1 from {{ facts }} f
        where f.series_code = c.series_code and f.month = c.period_month {{ _same_keys(keys, 'f', 'c') }}
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
        fy_to_date as (partition by {{ _keys(keys, 'f') }} f.series_code, f.fiscal_year order by f.month
                       rows between unbounded preceding and current row),
        last_12 as (partition by {{ _keys(keys, 'f') }} f.series_code order by f.month
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
        {{ _same_keys(keys, 'c', 'r') }}
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
        {{ _same_keys(keys, 'prev_month', 'r') }}
    left join with_fytd prev_year
        on prev_year.series_code = r.series_code and prev_year.month = r.month - interval 12 month
        {{ _same_keys(keys, 'prev_year', 'r') }}
    left join {{ facts }} ict
        on ict.series_code = 'ict_total' and ict.month = r.month
        {{ _same_keys(keys, 'ict', 'r') }}
)
select
    {{ _keys(keys, 'b') }}
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
