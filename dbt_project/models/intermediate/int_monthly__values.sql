-- One value per series and month: the selected monthly figure where one was printed, else the
-- difference of two consecutive selected cumulatives of the same fiscal year (marked derived).
with selected as (
    select * from {{ ref('int_figures__selected') }}
),
months as (
    select * from {{ ref('dim_month') }}
),
{{ monthly_values('selected', 'months') }}
