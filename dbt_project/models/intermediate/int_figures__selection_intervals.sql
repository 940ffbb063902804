-- Vintages as validity intervals (the model of ALFRED, the St. Louis Fed's archive of revised
-- data): for each scope ('all': both publishers together; 'SBP'; 'PBS'), series, period and
-- basis, and each day something was printed for it, the value the selection rule picks out of
-- what that scope had printed by that day, known from that day (known_from) until the next day
-- something was printed for the same key (known_to; 'infinity' while it is the latest).
-- "As of D" is known_from <= D < known_to (macro selected_as_of); the latest is known_to =
-- 'infinity'. One row per scope, key and printing day: the cost follows the figures, not
-- vintages × figures.
with figures as (
    select * from {{ ref('int_figures__corrected') }} where not is_excluded
),
candidates as (
    select 'all' as scope, * from figures
    union all
    select publisher as scope, * from figures
),
{{ selection_intervals('candidates') }}
