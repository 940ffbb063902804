{# Plain schema names (raw, staging, core, marts), not <target>_<schema>: one local warehouse. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
