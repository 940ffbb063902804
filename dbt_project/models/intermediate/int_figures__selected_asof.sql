-- The selection rule applied at every vintage: for each scope and vintage day, one value per
-- series, period and basis out of what that scope had printed by that day.
with vintages as (
    select * from {{ ref('int_vintages') }}
),
candidates as (
    select v.scope, v.vintage, f.*
    from {{ ref('int_figures__corrected') }} f
    join vintages v
        on f.published_on <= v.vintage
        and (v.scope = 'all' or f.publisher = v.scope)
    where not f.is_excluded
),
{{ select_figures('candidates', ['scope', 'vintage']) }}
