{#
  A name as a DuckDB quoted identifier: "name", with embedded double quotes doubled. The
  warehouse's catalog is named after its file stem (data/wh-probe.duckdb is catalog wh-probe),
  which may hold dashes, spaces or non-ASCII letters: write it through this, never raw.
  (adapter.quote wraps in double quotes but does not double the embedded ones.)
#}
{% macro quote_identifier(name) -%}
    "{{ name | replace('"', '""') }}"
{%- endmacro %}
