{#
  Whether two printed values (thousand US$) agree within their rounding: they differ by no more
  than half the sum of their rounding units (precision_usd_thousand, read from how each was
  printed: orchestration/lib/figures.py printed_precision), plus the allowance of the var
  rounding_allowance_usd_thousand (dbt_project.yml: 1e-6, for floating-point noise only).
  With precision_b '0', b is taken as exact: a is b as printed, rounded ("a rounded restatement
  lies within half of its own rounding unit of the finer figure").

  The one home of the rule in SQL: every model and test comparing within rounding calls it. In
  Python, orchestration.lib.figures.agree_within_rounding applies the same rule with the same
  var. A boolean expression; null when a value or a precision is null.
#}
{% macro agree_within_rounding(a, b, precision_a, precision_b='0') -%}
    (abs(({{ a }}) - ({{ b }})) <= (({{ precision_a }}) + ({{ precision_b }})) / 2
        + cast({{ var('rounding_allowance_usd_thousand') }} as double))
{%- endmacro %}
