-- The growth mart is the latest-vintage view of the as-of mart (both publishers): the same
-- rules give the same numbers.
{{ config(meta={"dagster": {"ref": {"name": "mart_ict_exports_growth_monthly"}}}) }}
with latest as (
    select * exclude (scope, vintage, value_origin, release_id, published_on, source_url)
    from {{ ref('mart_ict_exports_growth_asof') }}
    where scope = 'all' and vintage = (select max(vintage) from {{ ref('int_vintages') }} where scope = 'all')
),
current_mart as (
    select * from {{ ref('mart_ict_exports_growth_monthly') }}
)
(select 'only in the as-of mart' as side, * from (select * from latest except select * from current_mart))
union all
(select 'only in the growth mart', * from (select * from current_mart except select * from latest))
