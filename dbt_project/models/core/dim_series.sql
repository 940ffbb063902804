-- The EBOPS 9 hierarchy (code, label, parent, level) with each line's path from the root.
with recursive tree as (
    select series_code, ebops_code, label, parent_series_code, level, sort_order,
        series_code as root_series_code, label as path
    from {{ ref('series_hierarchy') }}
    where parent_series_code is null
    union all
    select c.series_code, c.ebops_code, c.label, c.parent_series_code, c.level, c.sort_order,
        t.root_series_code, t.path || ' > ' || c.label
    from {{ ref('series_hierarchy') }} c
    join tree t on c.parent_series_code = t.series_code
)
select
    series_code,
    ebops_code,
    label,
    parent_series_code,
    level,
    sort_order,
    path,
    root_series_code = 'ict_total' as is_ict,
    not exists (select 1 from {{ ref('series_hierarchy') }} k where k.parent_series_code = tree.series_code) as is_leaf
from tree
