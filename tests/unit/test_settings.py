import os
import re
from pathlib import Path

from orchestration.settings import DBT_DATABASE_ENV, REPO_ROOT, get_settings


def test_relative_settings_are_resolved_against_the_repository(monkeypatch):
    monkeypatch.setenv("ITX_WAREHOUSE", "data/x.duckdb")
    assert get_settings().warehouse == REPO_ROOT / "data" / "x.duckdb"


def test_dbt_and_dagster_open_the_same_warehouse_file(monkeypatch):
    monkeypatch.setenv("ITX_WAREHOUSE", "some/relative.duckdb")
    settings = get_settings()
    settings.export_environment()
    # dbt's profile reads exactly this variable ...
    profile = (REPO_ROOT / "dbt_project" / "profiles.yml").read_text()
    # the staging copy while Dagster builds (DBT_DATABASE_ENV), else the published warehouse
    assert re.search(
        rf"path:\s*\"\{{\{{\s*env_var\('{DBT_DATABASE_ENV}', env_var\('ITX_WAREHOUSE', ''\)\)\s*\}}\}}\"", profile
    )
    # ... which now holds the absolute path that the Dagster resource opens.
    assert os.environ["ITX_WAREHOUSE"] == str(settings.warehouse)
    assert Path(os.environ["ITX_WAREHOUSE"]).is_absolute()


def test_default_warehouse_is_data_warehouse_duckdb(monkeypatch):
    monkeypatch.delenv("ITX_WAREHOUSE", raising=False)
    assert get_settings().warehouse == REPO_ROOT / "data" / "warehouse.duckdb"
