-- Vintages as validity intervals (the model of ALFRED, the St. Louis Fed's archive of revised
-- data): for each scope ('all': both publishers together; 'SBP'; 'PBS'), series, period and
-- basis, and each day something was printed for it, the value the selection rule picks out of
-- what that scope had printed by that day, known from that day (known_from) until the next day
-- something was printed for the same key (known_to; 'infinity' while it is the latest).
-- "As of D" is known_from <= D < known_to (macro selected_as_of); the latest is known_to =
-- 'infinity'. One row per scope, key and printing day: the cost follows the figures, not
-- vintages × figures.
--
-- Recomputed only where something changed: a key's intervals depend only on its own printings,
-- so the rows of a key whose printings are the same as at the last build (same fingerprint) are
-- taken from the previous table, and only the other keys go through the selection rule. Keys no
-- figure has any more are simply not there. A change of the code or the rules (dbt --full-refresh,
-- decided by the transform) or the var itx_reuse_intervals=false recomputes everything.
{% set reuse = execute and this is not none and not flags.FULL_REFRESH and var('itx_reuse_intervals', true) %}
{% if reuse %}
    {% set previous = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) %}
    {% set reuse = previous is not none
        and 'key_fingerprint' in (adapter.get_columns_in_relation(previous) | map(attribute='name') | list) %}
{% endif %}
with figures as (
    select * from {{ ref('int_figures__corrected') }} where not is_excluded
),
in_scopes as (
    select 'all' as scope, * from figures
    union all
    select publisher as scope, * from figures
),
-- every printing of a key, in one number: equal numbers, equal intervals. A figure is its id
-- (release, row, period, basis) and its release's content hash (any change to the release's
-- rows changes it); errata move a figure to another key, exclude it, or change its erratum_id.
key_fingerprints as (
    select scope, corrected_series_code, period_month, basis_key,
        hash(bit_xor(hash(figure_id, release_sha256, erratum_id)), count(*)) as key_fingerprint
    from in_scopes
    group by all
),
{% if reuse %}
unchanged_keys as (
    select k.*
    from key_fingerprints k
    semi join (select distinct scope, series_code, period_month, basis, key_fingerprint from {{ previous }}) p
        on p.scope = k.scope and p.series_code = k.corrected_series_code and p.period_month = k.period_month
        and p.basis = k.basis_key and p.key_fingerprint = k.key_fingerprint
),
kept as (
    select p.*
    from {{ previous }} p
    semi join unchanged_keys k
        on p.scope = k.scope and p.series_code = k.corrected_series_code and p.period_month = k.period_month
        and p.basis = k.basis_key
),
keys_to_compute as (
    select * from key_fingerprints
    except
    select * from unchanged_keys
),
{% else %}
keys_to_compute as (
    select * from key_fingerprints
),
{% endif %}
candidates as (
    select c.*
    from in_scopes c
    semi join keys_to_compute k using (scope, corrected_series_code, period_month, basis_key)
),
intervals_of_keys as (
    with {{ selection_intervals('candidates') }}
),
computed as (
    select i.*, k.key_fingerprint
    from intervals_of_keys i
    join keys_to_compute k
        on k.scope = i.scope and k.corrected_series_code = i.series_code
        and k.period_month = i.period_month and k.basis_key = i.basis
)
select * from computed
{% if reuse %}
union all by name
select * from kept
{% endif %}
