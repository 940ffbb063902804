-- One value for each series, period and basis, out of every value printed for it: the
-- selection intervals of both publishers together at their open end (the latest vintage).
-- The rule (doc block selection_rule in docs/overview.md; macro selection_intervals):
--   1. a rounded restatement does not replace an earlier, more precise figure it agrees with
--      within its own rounding ($1.5bn after $1,523m);
--   2. of the rest, the latest publication wins;
--   3. on the same day SBP wins over PBS (PBS republishes SBP's data);
--   4. then the finer precision, then the later row of the release.
{{ selected_as_of(ref('int_figures__selection_intervals')) }}
