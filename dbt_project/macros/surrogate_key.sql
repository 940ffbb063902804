{# md5 of the fields joined by '|': a stand-in for dbt_utils (no dbt hub here). #}
{% macro surrogate_key(fields) -%}
    md5(concat_ws('|', {% for f in fields %}coalesce(cast({{ f }} as varchar), '∅'){% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}
