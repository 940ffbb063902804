{{ config(severity='warn') }}
-- Reconciliation check 'children_sum' (see mart_reconciliation_issues): warns, since it describes the publishers.
select * from {{ ref('mart_reconciliation_issues') }} where check_name = 'children_sum'
