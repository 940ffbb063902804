{{ config(severity='warn') }}
-- Reconciliation check 'sbp_vs_pbs' (see mart_reconciliation_issues): warns, since it describes the publishers.
select * from {{ ref('mart_reconciliation_issues') }} where check_name = 'sbp_vs_pbs'
