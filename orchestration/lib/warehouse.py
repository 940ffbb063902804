"""The raw layer of the warehouse: tables, and loading one release atomically.

A release's rows are replaced in one transaction, and the transaction commits only if the
release passes validation: a failed load leaves the previous state, and nothing unvalidated
ever reaches the tables dbt reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from orchestration.lib.figures import parse_basis, parse_value, printed_precision
from orchestration.lib.record import RECORD_COLUMNS, Release, period_end

RAW_FIGURES = "raw.release_figures"
RAW_VALIDATIONS = "raw.validation_results"
RAW_HEADER_PERIODS = "raw.release_header_periods"
RAW_FIGURE_COLUMNS = (
    "release_id",
    "source_row",
    *RECORD_COLUMNS,  # as printed
    "value_number",
    "value_precision",
    "period_end",
    "basis_kind",
    "basis_months",
    "basis_end_month",
    "published_on_date",
    "published_on_estimated",
    "source_file",
    "source_file_sha256",
    "release_sha256",
    "loaded_at",
    "source_format",
)

_DDL = f"""
create schema if not exists raw;
create table if not exists {RAW_FIGURES} (
    release_id varchar not null,
    source_row integer not null,
    -- the record's columns, exactly as printed
    period varchar,
    series_code varchar,
    value_usd_thousand varchar,
    basis varchar,
    publisher varchar,
    published_on varchar,
    source_url varchar,
    note varchar,
    published_on_source varchar,
    -- what the text means (orchestration/lib/figures.py); null where it does not parse
    value_number double,
    value_precision double,
    period_end date,
    basis_kind varchar,
    basis_months integer,
    basis_end_month integer,
    published_on_date date,
    published_on_estimated boolean not null,
    -- provenance
    source_file varchar not null,
    source_file_sha256 varchar not null,
    release_sha256 varchar not null,
    loaded_at timestamp not null,
    -- a row of a workbook holds several figures (one per period block)
    primary key (release_id, source_row, period, basis)
);
-- added with SBP's own files; tables made before get it here
alter table {RAW_FIGURES} add column if not exists source_format varchar default 'record_csv';
create table if not exists {RAW_HEADER_PERIODS} (
    release_id varchar not null,
    period varchar not null,
    basis varchar not null
);
create table if not exists {RAW_VALIDATIONS} (
    release_id varchar not null,
    validated_at timestamp not null,
    suite_name varchar not null,
    success boolean not null,
    evaluated_expectations integer not null,
    failed_expectations integer not null,
    failures_json varchar not null,
    source_file varchar not null,
    release_sha256 varchar not null,
    run_id varchar
);
"""


@dataclass
class ValidationOutcome:
    suite_name: str
    success: bool
    evaluated: int
    failures: list[dict[str, Any]] = field(default_factory=list)

    def describe(self, release_id: str, source_file: str) -> str:
        lines = [f"release {release_id} from {source_file} failed Great Expectations suite {self.suite_name}:"]
        for f in self.failures:
            rows = ", ".join(str(r) for r in f["rows"][:20]) or "(whole table)"
            more = f" (+{len(f['rows']) - 20} more)" if len(f["rows"]) > 20 else ""
            values = "; ".join(f["values"][:5])
            lines.append(
                f"  - {source_file} row(s) {rows}{more}: {f['expectation']} on {f['column']}"
                f" -- rule: {f['rule']}" + (f" -- values: {values}" if values else "")
            )
        return "\n".join(lines)


@dataclass
class LoadOutcome:
    release_id: str
    status: str  # loaded | unchanged | rejected
    rows: int
    validation: ValidationOutcome | None


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection) -> None:
    _widen_old_primary_key(conn)
    conn.execute(_DDL)


def _widen_old_primary_key(conn: duckdb.DuckDBPyConnection) -> None:
    """Warehouses made before SBP's workbooks keyed figures by (release, row) alone; rebuild
    that table with the wider key, keeping every row (DuckDB cannot alter a primary key)."""
    old = conn.execute(
        "select 1 from duckdb_constraints() where schema_name = 'raw' and table_name = 'release_figures' "
        "and constraint_type = 'PRIMARY KEY' and constraint_column_names = ['release_id', 'source_row']"
    ).fetchone()
    if not old:
        return
    conn.execute("begin transaction")
    conn.execute(f"alter table {RAW_FIGURES} rename to release_figures_before_workbooks")
    conn.execute(_DDL)
    columns = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw' and table_name = 'release_figures_before_workbooks'"
        ).fetchall()
    ]
    names = ", ".join(columns)
    conn.execute(f"insert into {RAW_FIGURES} ({names}) select {names} from raw.release_figures_before_workbooks")
    conn.execute("drop table raw.release_figures_before_workbooks")
    conn.execute("commit")


def _period_end_or_none(period: str):
    try:
        return period_end(period)
    except ValueError:
        return None


def release_rows(release: Release, loaded_at: datetime) -> list[tuple]:
    release_sha = release.release_sha256
    rows = []
    for f in release.figures:
        basis = parse_basis(f.basis)
        rows.append(
            (
                release.release_id,
                f.source_row,
                f.period,
                f.series_code,
                f.value_usd_thousand,
                f.basis,
                f.publisher,
                f.published_on,
                f.source_url,
                f.note or None,
                f.published_on_source,
                parse_value(f.value_usd_thousand),
                printed_precision(f.value_usd_thousand),
                _period_end_or_none(f.period),
                basis.kind if basis else None,
                basis.months if basis else None,
                basis.end_month if basis else None,
                release.published_on,
                release.published_on_estimated,
                release.source_file.name,
                release.source_file_sha256,
                release_sha,
                loaded_at,
                release.source_format,
            )
        )
    return rows


def loaded_release_sha256(conn: duckdb.DuckDBPyConnection, release_id: str) -> str | None:
    row = conn.execute(
        f"select any_value(release_sha256) from {RAW_FIGURES} where release_id = ?", [release_id]
    ).fetchone()
    return row[0] if row else None


def load_release(
    conn: duckdb.DuckDBPyConnection,
    release: Release,
    validate: Callable[[duckdb.DuckDBPyConnection, str], ValidationOutcome],
    *,
    loaded_at: datetime,
    run_id: str | None = None,
) -> LoadOutcome:
    """Replace one release's rows, keeping them only if `validate` passes.

    An unchanged release (same content hash) is left as it is, so re-running changes nothing.
    """
    ensure_raw_tables(conn)
    if loaded_release_sha256(conn, release.release_id) == release.release_sha256:
        return LoadOutcome(release.release_id, "unchanged", len(release.figures), None)
    rows = release_rows(release, loaded_at)
    conn.execute("begin transaction")
    try:
        delete_release(conn, release.release_id, keep_validations=True)
        placeholders = ", ".join("?" * len(RAW_FIGURE_COLUMNS))
        conn.executemany(f"insert into {RAW_FIGURES} ({', '.join(RAW_FIGURE_COLUMNS)}) values ({placeholders})", rows)
        if release.header_periods:
            conn.executemany(
                f"insert into {RAW_HEADER_PERIODS} values (?, ?, ?)",
                [(release.release_id, period, basis) for period, basis in release.header_periods],
            )
        outcome = validate(conn, release.release_id)
        conn.execute("commit" if outcome.success else "rollback")
    except BaseException:
        conn.execute("rollback")
        raise
    record_validation(conn, release, outcome, loaded_at, run_id)
    status = "loaded" if outcome.success else "rejected"
    return LoadOutcome(release.release_id, status, len(rows), outcome)


def delete_release(conn: duckdb.DuckDBPyConnection, release_id: str, *, keep_validations: bool) -> None:
    """Remove a release's rows (inside the caller's transaction, if any)."""
    conn.execute(f"delete from {RAW_FIGURES} where release_id = ?", [release_id])
    conn.execute(f"delete from {RAW_HEADER_PERIODS} where release_id = ?", [release_id])
    if not keep_validations:
        conn.execute(f"delete from {RAW_VALIDATIONS} where release_id = ?", [release_id])


def record_validation(conn, release: Release, outcome: ValidationOutcome, at: datetime, run_id: str | None) -> None:
    conn.execute(
        f"insert into {RAW_VALIDATIONS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            release.release_id,
            at,
            outcome.suite_name,
            outcome.success,
            outcome.evaluated,
            len(outcome.failures),
            json.dumps(outcome.failures, default=str),
            release.source_file.name,
            release.release_sha256,
            run_id,
        ],
    )
