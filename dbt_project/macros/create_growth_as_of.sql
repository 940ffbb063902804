{#
  marts.growth_as_of(as_of_date, publishers := 'all'): the growth mart as known on a day, for both
  publishers ('all') or one ('SBP', 'PBS'). A DuckDB table macro, made after every dbt run:
      select * from marts.growth_as_of(date '2023-09-20', 'PBS') where series_code = 'ict_total'
  The catalog is the warehouse's file stem, quoted (macro quote_identifier). When the run did
  not make the as-of mart (it failed, or was skipped after a failure), nothing is done: the
  macro cannot be bound without it, and the run already reports why.
#}
{% macro create_growth_as_of() %}
    {% if execute %}
    {% set mart = adapter.get_relation(database=target.database, schema='marts', identifier='mart_ict_exports_growth_asof') %}
    {% if mart is not none %}
    {% set db = quote_identifier(target.database) %}
    create or replace macro {{ db }}.marts.growth_as_of(as_of_date, publishers := 'all') as table
        select g.* exclude (scope)
        from {{ db }}.marts.mart_ict_exports_growth_asof g
        where g.scope = publishers
          and g.vintage = (
              select max(v.vintage) from {{ db }}.marts.mart_ict_exports_growth_asof v
              where v.scope = publishers and v.vintage <= cast(as_of_date as date)
          )
    {% endif %}
    {% endif %}
{% endmacro %}
