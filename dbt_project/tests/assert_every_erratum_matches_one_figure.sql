{{ config(meta={"dagster": {"ref": {"name": "int_figures__corrected"}}}) }}
-- An erratum that matches no figure (or several) is stale or ambiguous: the record changed
-- under it, or it names a figure too loosely.
select e.erratum_id, count(f.figure_id) as figures_matched
from {{ ref('errata') }} e
left join {{ ref('int_figures__corrected') }} f on f.erratum_id = e.erratum_id
group by e.erratum_id
having count(f.figure_id) <> 1
