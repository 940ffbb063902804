{# Growth in per cent (7.51, not 0.0751), to 4 decimals; null when the base is missing or zero, never zero. #}
{% macro pct_change(current, base) -%}
    case when {{ base }} is null or {{ base }} = 0 or {{ current }} is null then null
         else round((cast({{ current }} as double) / cast({{ base }} as double) - 1) * 100, 4) end
{%- endmacro %}
