-- The days on which something new was known: every publication date, for both publishers
-- together (scope 'all') and for each publisher alone (scope 'SBP', 'PBS').
with releases as (
    select distinct publisher, published_on
    from {{ ref('int_figures__corrected') }}
    where not is_excluded
)
select distinct 'all' as scope, published_on as vintage from releases
union all
select distinct publisher as scope, published_on as vintage from releases
