-- Vintages as validity intervals (the model of ALFRED, the St. Louis Fed's archive of revised
-- data): for each scope ('all': both publishers together; 'SBP'; 'PBS'), series, period and
-- basis, and each day something was printed for it, the value the selection rule picks out of
-- what that scope had printed by that day, known from that day (known_from) until the next day
-- something was printed for the same key (known_to; 'infinity' while it is the latest).
-- "As of D" is known_from <= D < known_to (macro selected_as_of); the latest is known_to =
-- 'infinity'. One row per scope, key and printing day: the cost follows the figures, not
-- vintages × figures.
--
-- Incremental by key: a key's intervals depend only on its own printings, so a build recomputes
-- the keys whose printings changed (added, removed, reloaded or re-corrected by errata: their
-- fingerprint differs), deletes the keys no figure has any more (post-hook), and keeps the rest.
-- A change of the project (this rule included) makes the orchestrator run it with --full-refresh.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['scope', 'series_code', 'period_month', 'basis'],
    on_schema_change='fail',
    post_hook="{% if is_incremental() %}{{ delete_keys_without_figures(this) }}{% endif %}"
) }}
with figures as (
    select * from {{ ref('int_figures__corrected') }} where not is_excluded
),
in_scopes as (
    select 'all' as scope, * from figures
    union all
    select publisher as scope, * from figures
),
-- every printing of a key, in one number: equal numbers, equal intervals
key_fingerprints as (
    select scope, corrected_series_code, period_month, basis_key,
        hash(bit_xor(hash(c)), count(*)) as key_fingerprint
    from in_scopes c
    group by all
),
keys_to_compute as (
    select k.*
    from key_fingerprints k
    {% if is_incremental() %}
    where not exists (
        select 1 from {{ this }} t
        where t.scope = k.scope and t.series_code = k.corrected_series_code
          and t.period_month = k.period_month and t.basis = k.basis_key
          and t.key_fingerprint = k.key_fingerprint
    )
    {% endif %}
),
candidates as (
    select c.*
    from in_scopes c
    semi join keys_to_compute k using (scope, corrected_series_code, period_month, basis_key)
),
intervals_of_keys as (
    with {{ selection_intervals('candidates') }}
)
select i.*, k.key_fingerprint
from intervals_of_keys i
join keys_to_compute k
    on k.scope = i.scope and k.corrected_series_code = i.series_code
    and k.period_month = i.period_month and k.basis_key = i.basis
