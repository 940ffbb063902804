{#
  marts.growth_as_of(as_of_date, publishers := 'all'): the growth mart as known on a day, for both
  publishers ('all') or one ('SBP', 'PBS'; any case), computed on demand from the selection
  intervals by the same macros as the latest marts (growth_as_of_query). A DuckDB table macro,
  made after every dbt run:
      select * from marts.growth_as_of(date '2023-09-20', 'PBS') where series_code = 'ict_total'
  The catalog is the warehouse's file stem, quoted (macro quote_identifier). When the run did
  not make the intervals (it failed, or was skipped after a failure), nothing is done: the
  macro cannot be bound without them, and the run already reports why.
#}
{% macro create_growth_as_of() %}
    {% if execute %}
    {% set intervals = adapter.get_relation(database=target.database, schema='intermediate', identifier='int_figures__selection_intervals') %}
    {% if intervals is not none %}
    {% set db = quote_identifier(target.database) %}
    create or replace macro {{ db }}.marts.growth_as_of(as_of_date, publishers := 'all') as table
    {{ growth_as_of_query(
        db ~ '.intermediate.int_figures__selection_intervals',
        db ~ '.core.dim_month',
        db ~ '.core.dim_series',
        'cast(as_of_date as date)',
        "case when lower(publishers) = 'all' then 'all' else upper(publishers) end"
    ) }}
    {% endif %}
    {% endif %}
{% endmacro %}
