{# Generic test: rows where the expression is false fail (stand-in for dbt_utils.expression_is_true). #}
{% test expression_is_true(model, expression, column_name=none) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
