"""The raw layer of the warehouse: its tables, and how releases go in.

A run's new or changed releases are staged in one bulk insert, validated together, and then the
releases that passed replace their previous rows in one transaction; a release that fails is
left out (its previous good version, if any, stays) and is listed in raw.rejected_files. Nothing
unvalidated ever reaches the tables dbt reads. These functions write whatever connection they
are given: the ingest gives them the private staging copy (orchestration/lib/publication.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

from orchestration.lib.figures import parse_basis, parse_value, printed_precision
from orchestration.lib.release import RECORD_COLUMNS, Release, period_end

RAW_FIGURES = "raw.release_figures"
RAW_VALIDATIONS = "raw.validation_results"
RAW_HEADER_PERIODS = "raw.release_header_periods"
RAW_REJECTED = "raw.rejected_files"
PUBLICATION = "meta.publication"
STAGED_FIGURES = "staged_figures"  # temporary tables of the connection that validates
STAGED_HEADER_PERIODS = "staged_header_periods"
# failing rows kept per expectation and release in raw.validation_results (and GX's results)
FAILURE_SAMPLE_ROWS = 50
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
create table if not exists {RAW_REJECTED} (
    source_file varchar not null,
    release_id varchar,            -- null when the file could not be read at all
    rule varchar not null,
    detail varchar not null,
    rejected_at timestamp not null,
    release_sha256 varchar
);
create schema if not exists meta;
create table if not exists {PUBLICATION} (
    files_fingerprint varchar,  -- null while some release waits for its ingest
    project_fingerprint varchar not null,
    published_at timestamp not null,
    releases integer not null,
    figures integer not null
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
alter table {RAW_VALIDATIONS} add column if not exists rules_sha256 varchar;
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
            total = f.get("row_count", len(f["rows"]))
            rows = ", ".join(str(r) for r in f["rows"][:20]) or "(whole table)"
            more = f" (+{total - min(20, len(f['rows']))} more)" if total > 20 else ""
            values = "; ".join(f["values"][:5])
            lines.append(
                f"  - {source_file} row(s) {rows}{more}: {f['expectation']} on {f['column']}"
                f" -- rule: {f['rule']}" + (f" -- values: {values}" if values else "")
            )
        return "\n".join(lines)


@dataclass
class LoadOutcome:
    release_id: str
    source_file: str
    status: str  # loaded | unchanged | rejected | removed
    rows: int
    validation: ValidationOutcome | None = None


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


def release_frame(releases: list[Release], loaded_at: datetime):
    """Every figure of the given releases as one DataFrame in the columns of raw.release_figures.

    Built column by column; the parsed forms of a value, period or basis are computed once per
    distinct text (snapshots re-print the same values, periods and bases over and over)."""
    import pandas as pd

    figures = [f for r in releases for f in r.figures]

    def per_release(value_of) -> list:
        column: list = []
        for r in releases:
            column.extend([value_of(r)] * len(r.figures))
        return column

    def parsed(parse, texts) -> list:
        memo: dict = {}
        return [memo[t] if t in memo else memo.setdefault(t, parse(t)) for t in texts]

    bases = parsed(parse_basis, (f.basis for f in figures))
    values = [f.value_usd_thousand for f in figures]
    columns = {
        "release_id": per_release(lambda r: r.release_id),
        "source_row": [f.source_row for f in figures],
        **{c: [getattr(f, c) for f in figures] for c in RECORD_COLUMNS},
        "value_number": parsed(parse_value, values),
        "value_precision": parsed(printed_precision, values),
        "period_end": parsed(_period_end_or_none, (f.period for f in figures)),
        "basis_kind": [b.kind if b else None for b in bases],
        "basis_months": [b.months if b else None for b in bases],
        "basis_end_month": [b.end_month if b else None for b in bases],
        "published_on_date": per_release(lambda r: r.published_on),
        "published_on_estimated": per_release(lambda r: r.published_on_estimated),
        "source_file": per_release(lambda r: r.source_file.name),
        "source_file_sha256": per_release(lambda r: r.source_file_sha256),
        "release_sha256": per_release(lambda r: r.release_sha256),
        "loaded_at": [loaded_at] * len(figures),
        "source_format": per_release(lambda r: r.source_format),
    }
    columns["note"] = [n or None for n in columns["note"]]
    frame = pd.DataFrame({name: columns[name] for name in RAW_FIGURE_COLUMNS})
    for name in ("value_number", "value_precision"):
        frame[name] = frame[name].astype("float64")
    for name in ("basis_months", "basis_end_month", "source_row"):
        frame[name] = frame[name].astype("Int64")
    return frame


def stage_releases(conn: duckdb.DuckDBPyConnection, releases: list[Release], loaded_at: datetime) -> None:
    """Put the releases' rows in temporary tables shaped like the raw ones, in one bulk insert each."""
    import pandas as pd

    figures = release_frame(releases, loaded_at)  # noqa: F841 -- read by DuckDB below
    header = pd.DataFrame(  # noqa: F841
        [(r.release_id, p, b) for r in releases for p, b in r.header_periods],
        columns=["release_id", "period", "basis"],
        dtype="object",
    )
    conn.execute(f"create or replace temp table {STAGED_FIGURES} as select * from {RAW_FIGURES} limit 0")
    conn.execute(f"insert into {STAGED_FIGURES} ({', '.join(RAW_FIGURE_COLUMNS)}) select * from figures")
    conn.execute(f"create or replace temp table {STAGED_HEADER_PERIODS} as select * from {RAW_HEADER_PERIODS} limit 0")
    conn.execute(f"insert into {STAGED_HEADER_PERIODS} select * from header")


def commit_staged(conn: duckdb.DuckDBPyConnection, release_ids: list[str]) -> None:
    """Replace the rows of the given (validated) staged releases, all in one transaction."""
    if not release_ids:
        return
    conn.execute("begin transaction")
    try:
        conn.execute(
            "create or replace temp table committing as select unnest(?::varchar[]) as release_id", [release_ids]
        )
        for table in (RAW_FIGURES, RAW_HEADER_PERIODS):
            conn.execute(f"delete from {table} where release_id in (select release_id from committing)")
        conn.execute(
            f"insert into {RAW_FIGURES} select * from {STAGED_FIGURES} "
            "where release_id in (select release_id from committing)"
        )
        conn.execute(
            f"insert into {RAW_HEADER_PERIODS} select * from {STAGED_HEADER_PERIODS} "
            "where release_id in (select release_id from committing)"
        )
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise


def loaded_releases(conn: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str]]:
    """{release_id: (release_sha256, source_file)} of every release in raw."""
    rows = conn.execute(
        f"select release_id, any_value(release_sha256), any_value(source_file) from {RAW_FIGURES} group by 1"
    ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def validated_rules(conn: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """{release_id: rules_sha256} of the latest passing validation of each release."""
    rows = conn.execute(
        f"select release_id, arg_max(rules_sha256, validated_at) from {RAW_VALIDATIONS} where success group by 1"
    ).fetchall()
    return dict(rows)


def delete_release(conn: duckdb.DuckDBPyConnection, release_id: str, *, keep_validations: bool) -> None:
    """Remove a release's rows (inside the caller's transaction, if any)."""
    conn.execute(f"delete from {RAW_FIGURES} where release_id = ?", [release_id])
    conn.execute(f"delete from {RAW_HEADER_PERIODS} where release_id = ?", [release_id])
    if not keep_validations:
        conn.execute(f"delete from {RAW_VALIDATIONS} where release_id = ?", [release_id])


def record_validations(conn, rows: list[tuple]) -> None:
    """Keep each validation (pass or fail) with a bounded sample of its failing rows."""
    if not rows:
        return
    conn.executemany(f"insert into {RAW_VALIDATIONS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def validation_row(release: Release, outcome: ValidationOutcome, at: datetime, run_id, rules_sha256) -> tuple:
    failures = [{**f, "rows": f["rows"][:FAILURE_SAMPLE_ROWS]} for f in outcome.failures]
    return (
        release.release_id,
        at,
        outcome.suite_name,
        outcome.success,
        outcome.evaluated,
        len(outcome.failures),
        json.dumps(failures, default=str),
        release.source_file.name,
        release.release_sha256,
        run_id,
        rules_sha256,
    )


def replace_rejected(conn, rows: list[tuple]) -> None:
    """raw.rejected_files is a snapshot of what is quarantined now: rewrite it."""
    conn.execute("begin transaction")
    conn.execute(f"delete from {RAW_REJECTED}")
    if rows:
        conn.executemany(f"insert into {RAW_REJECTED} values (?, ?, ?, ?, ?, ?)", rows)
    conn.execute("commit")


def models_built_with(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The project fingerprint of the code the dbt models were last built with, completely; None
    if never. Incremental models built by other code are rebuilt afresh (dbt --full-refresh)."""
    conn.execute("create schema if not exists meta")
    conn.execute("create table if not exists meta.dbt_models (project_fingerprint varchar, built_at timestamp)")
    row = conn.execute("select project_fingerprint from meta.dbt_models").fetchone()
    return row[0] if row else None


def record_models_built_with(conn: duckdb.DuckDBPyConnection, project_fingerprint: str) -> None:
    """After a dbt build that succeeded: the models are those of this code."""
    models_built_with(conn)
    conn.execute("begin transaction")
    conn.execute("delete from meta.dbt_models")
    conn.execute("insert into meta.dbt_models values (?, now())", [project_fingerprint])
    conn.execute("commit")
