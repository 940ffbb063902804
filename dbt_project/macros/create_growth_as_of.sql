{#
  marts.growth_as_of(as_of_date, publishers := 'all'): the growth mart as known on a day, for both
  publishers ('all') or one ('SBP', 'PBS'). A DuckDB table macro, made after every dbt run:
      select * from marts.growth_as_of(date '2023-09-20', 'PBS') where series_code = 'ict_total'
#}
{% macro create_growth_as_of() %}
    {% if execute %}
    create or replace macro {{ target.database }}.marts.growth_as_of(as_of_date, publishers := 'all') as table
        select g.* exclude (scope)
        from {{ target.database }}.marts.mart_ict_exports_growth_asof g
        where g.scope = publishers
          and g.vintage = (
              select max(v.vintage) from {{ target.database }}.marts.mart_ict_exports_growth_asof v
              where v.scope = publishers and v.vintage <= cast(as_of_date as date)
          )
    {% endif %}
{% endmacro %}
