{{ config(severity='warn') }}
-- Reconciliation check 'months_vs_cumulative' (see mart_reconciliation_issues): warns, since it describes the publishers.
select * from {{ ref('mart_reconciliation_issues') }} where check_name = 'months_vs_cumulative'
