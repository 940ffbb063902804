-- Monthly values at every vintage: reported, or derived from two consecutive cumulatives.
with selected as (
    select * from {{ ref('int_figures__selected_asof') }}
),
months as (
    select * from {{ ref('dim_month') }}
),
{{ monthly_values('selected', 'months', ['scope', 'vintage']) }}
