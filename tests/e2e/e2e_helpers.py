"""Reading the test warehouse, shared by the end-to-end tests."""

import hashlib
import os
from pathlib import Path

import duckdb

WAREHOUSE = Path(os.environ["ITX_WAREHOUSE"])
MARTS = ("mart_ict_exports_growth_monthly", "mart_ict_exports_fiscal_year", "mart_data_quality")


def query(sql, params=None):
    conn = duckdb.connect(str(WAREHOUSE), read_only=True)
    try:
        return conn.execute(sql, params or []).df()
    finally:
        conn.close()


def marts_fingerprint() -> str:
    digest = hashlib.sha256()
    for mart in MARTS:
        digest.update(query(f"select * from marts.{mart} order by all").to_csv(index=False).encode())
    return digest.hexdigest()
