"""The vars of the dbt project (dbt_project/dbt_project.yml), read by the Python that must apply a
rule exactly as the models do.

A rule both dbt and Python apply is written once, as a var in dbt_project.yml: the models read it
with `var(...)`, the Python with `dbt_var(...)`. Two of them:

- `fiscal_year_start_month`: the first calendar month of the fiscal year (7: July), read by
  core.dim_month and orchestration/lib/fiscal.py;
- `rounding_allowance_usd_thousand`: what "agree within rounding" allows beyond half the rounding
  units, read by the macro agree_within_rounding and orchestration.lib.figures.agree_within_rounding.

The file is found from orchestration.settings.DBT_PROJECT_YML unless another path is handed in
(the tests hand in their own project file). dbt can override a var on its command line
(`--vars`); this project never does, so the file is what the models read.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from orchestration.settings import DBT_PROJECT_YML


@functools.cache
def _vars(path: Path) -> dict[str, Any]:
    project = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(project.get("vars") or {})


def dbt_var(name: str, dbt_project_yml: Path | None = None) -> Any:
    """The value of a var of the dbt project (read once per file and process). KeyError, naming
    the file, if the project does not define it."""
    path = Path(dbt_project_yml or DBT_PROJECT_YML).resolve()
    values = _vars(path)
    if name not in values:
        raise KeyError(f"{path} defines no var {name!r} (vars: {', '.join(sorted(values)) or 'none'})")
    return values[name]
