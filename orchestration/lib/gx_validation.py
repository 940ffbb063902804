"""Run the Great Expectations 1.x suite of a release on a DataFrame read from DuckDB.

GX's SQL datasource is unreliable on DuckDB, so the release is read into pandas and
validated there. The GX project lives under data/gx (results and Data Docs HTML are kept
there); the suites themselves are files under expectations/suites/. GX is imported only
when a validation runs: it takes seconds to import.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.warehouse import FAILURE_SAMPLE_ROWS, ValidationOutcome

DATA_SOURCE = "itx_warehouse"
RELEASE_SUITE = "raw_release_figures"
COVERAGE_SUITE = "raw_release_coverage"
_FRAME_SQL = Path(__file__).with_name("validation_frame.sql")
_COVERAGE_SQL = Path(__file__).with_name("coverage_frame.sql")


def known_series_codes(seeds_dir: Path) -> list[str]:
    with (seeds_dir / "series_hierarchy.csv").open(newline="") as fh:
        return [row["series_code"] for row in csv.DictReader(fh)]


def staged_frame(conn: duckdb.DuckDBPyConnection, seeds_dir: Path, build_date: date):
    """The frame of every staged release (see validation_frame.sql)."""
    return conn.execute(
        _FRAME_SQL.read_text(),
        {
            "errata_csv": str(seeds_dir / "errata.csv"),
            "hierarchy_csv": str(seeds_dir / "series_hierarchy.csv"),
            "build_date": build_date,
        },
    ).df()


def rules_sha256(seeds_dir: Path, expectations_dir: Path) -> str:
    """What the validation of a release depends on besides the release: the suites, the frames'
    SQL, the errata and the hierarchy. A release validated under other rules is validated again."""
    digest = hashlib.sha256()
    for path in [
        *sorted((Path(expectations_dir) / "suites").glob("*.json")),
        _FRAME_SQL,
        _COVERAGE_SQL,
        Path(seeds_dir) / "errata.csv",
        Path(seeds_dir) / "series_hierarchy.csv",
    ]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def load_suite_json(expectations_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((expectations_dir / "suites" / f"{name}.json").read_text())


@cache
def _context(gx_dir: str):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="file", project_root_dir=gx_dir)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # one pandas data source per process, made afresh: each suite adds its own DataFrame asset
    context.data_sources.add_or_update_pandas(DATA_SOURCE)
    return context


@cache
def _validation_definition(gx_dir: Path, expectations_dir: Path, suite_name: str):
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    context = _context(str(gx_dir))
    spec = load_suite_json(expectations_dir, suite_name)
    suite = ExpectationSuite(name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta"))
    if len(suite.expectations) != len(spec["expectations"]):
        # GX logs and drops an expectation it cannot build; a suite must never shrink silently.
        raise ValueError(
            f"expectations/suites/{suite_name}.json: {len(spec['expectations']) - len(suite.expectations)}"
            " expectation(s) could not be built by Great Expectations"
        )
    suite = context.suites.add_or_update(suite)
    source = context.data_sources.get(DATA_SOURCE)
    asset = source.add_dataframe_asset(suite_name)
    batch = asset.add_batch_definition_whole_dataframe("whole_release")
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )


def data_docs_index(gx_dir: Path) -> Path:
    """Where GX writes the Data Docs index page of the project under gx_dir."""
    return Path(gx_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def build_data_docs(gx_dir: Path) -> Path:
    """Render GX's Data Docs HTML for every validation kept; returns the index page."""
    context = _context(str(gx_dir))
    context.build_data_docs()
    return data_docs_index(gx_dir)


def validate_frame(frame, *, suite_name: str, gx_dir: Path, expectations_dir: Path, parameters: dict, run_name: str):
    """Validate a frame keyed by (release_id, row_id) against a suite in one GX run.

    Returns {release_id: [failure, ...]} for the releases with failing rows, the failures of the
    whole frame (table-level expectations) under None, and the number of expectations evaluated.
    GX's stored result (behind Data Docs) keeps a bounded sample of the failing rows.
    """
    from great_expectations.core.run_identifier import RunIdentifier

    definition = _validation_definition(Path(gx_dir), Path(expectations_dir), suite_name)
    suite_result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": ["release_id", "row_id"],
            "partial_unexpected_count": FAILURE_SAMPLE_ROWS,
        },
        run_id=RunIdentifier(run_name=run_name),
    )
    failures: dict[str | None, list[dict]] = {}
    for r in suite_result.results:
        if r.success:
            continue
        config = r.expectation_config
        details = r.result or {}
        column = config.kwargs.get("column") or config.kwargs.get("column_A") or config.kwargs.get("column_list")
        index = details.get("unexpected_index_list")
        base = {
            "expectation": config.type,
            "column": column,
            "rule": (config.meta or {}).get("rule", ""),
            "observed": str(details.get("observed_value", ""))[:200] or None,
            "exception": (r.exception_info or {}).get("exception_message") if r.exception_info else None,
        }
        if not index:  # a table-level expectation: the whole frame fails it
            failures.setdefault(None, []).append({**base, "rows": [], "row_count": 0, "values": []})
            continue
        by_release: dict[str, list] = {}
        for idx in index:
            row = idx["row_id"]
            by_release.setdefault(idx["release_id"], []).append(row.item() if hasattr(row, "item") else row)
        for release_id, rows in by_release.items():
            failures.setdefault(release_id, []).append(
                {
                    **base,
                    "rows": rows[:FAILURE_SAMPLE_ROWS],
                    "row_count": len(rows),
                    "values": _printed_values(frame, release_id, rows[:10], column),
                }
            )
    _trim_stored_result(definition, suite_result)
    return failures, len(suite_result.results)


def _printed_values(frame, release_id: str, rows: list, column) -> list[str]:
    """The failing values as the file printed them: a value that is not a number shows its text
    ('n/a', '385,420'), not NaN; a rule on two columns shows both."""
    picked = frame[(frame["release_id"] == release_id) & (frame["row_id"].isin(rows))]
    if column == "value_number" or column in ("monthly_equivalent_usd_mn", "plausible_max_monthly_usd_mn"):
        columns = ["value_usd_thousand"] + (["series_code", "basis"] if column != "value_number" else [])
    elif isinstance(column, list):
        columns = [c for c in column if c != "release_id"]
    elif column in ("days_after_build_date",):
        columns = ["published_on"]
    elif column in ("unnamed_press_error", "spread_beyond_rounding", "children_sum_mismatch"):
        columns = ["series_code", "period", "basis", "value_usd_thousand"]
    else:
        columns = [column] if column in picked.columns else []
    out = []
    for _, row in picked.head(10).iterrows():
        parts = [_plain(row[c]) for c in columns]
        out.append(parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")")
    return out


def _trim_stored_result(definition, suite_result) -> None:
    """Rewrite GX's stored result of this run with at most FAILURE_SAMPLE_ROWS failing rows per
    expectation, so a file of a million bad rows leaves kilobytes, not gigabytes, in data/gx."""
    trimmed = False
    for r in suite_result.results:
        details = r.result or {}
        for key in (
            "unexpected_list",
            "unexpected_index_list",
            "partial_unexpected_list",
            "partial_unexpected_index_list",
            "partial_unexpected_counts",
        ):
            value = details.get(key)
            if isinstance(value, list) and len(value) > FAILURE_SAMPLE_ROWS:
                details[key] = value[:FAILURE_SAMPLE_ROWS]
                trimmed = True
        if isinstance(details.get("unexpected_index_query"), str):
            details.pop("unexpected_index_query")
    if not trimmed:
        return
    try:
        store = definition._validation_results_store  # noqa: SLF001 -- GX has no public rewrite
        key = _stored_key(store, suite_result)
        if key is not None:
            store.set(key, suite_result)
    except Exception:  # noqa: BLE001 -- trimming is best effort; the result stays as GX stored it
        pass


def _stored_key(store, suite_result):
    run_id = suite_result.meta.get("run_id")
    for key in store.list_keys():
        if getattr(key, "run_id", None) == run_id:
            return key
    return None


def _plain(value) -> str:
    """A value as a person would write it (no numpy wrappers)."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    try:
        import pandas as pd

        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "(empty)"
    except (TypeError, ValueError):
        pass
    return str(value.item() if hasattr(value, "item") else value)


def validate_staged(
    conn, *, seeds_dir: Path, gx_dir: Path, expectations_dir: Path, run_name: str, build_date: date
) -> tuple[dict[str, ValidationOutcome], list[dict]]:
    """Validate every staged release of the run with one GX run per suite.

    Returns an outcome per staged release, and the failures that concern the whole frame
    (which fail every release of the run).
    """
    frame = staged_frame(conn, Path(seeds_dir), build_date)
    release_ids = list(dict.fromkeys(frame["release_id"]))
    failures, evaluated = validate_frame(
        frame,
        suite_name=RELEASE_SUITE,
        gx_dir=gx_dir,
        expectations_dir=expectations_dir,
        parameters={"known_series_codes": known_series_codes(seeds_dir)},
        run_name=run_name,
    )
    suite_names = {rid: RELEASE_SUITE for rid in release_ids}
    evaluated_by = {rid: evaluated for rid in release_ids}
    coverage = conn.execute(_COVERAGE_SQL.read_text()).df()
    if len(coverage):
        covered, coverage_evaluated = validate_frame(
            coverage,
            suite_name=COVERAGE_SUITE,
            gx_dir=gx_dir,
            expectations_dir=expectations_dir,
            parameters={},
            run_name=run_name,
        )
        for release_id in coverage["release_id"].unique():
            suite_names[release_id] = f"{RELEASE_SUITE}+{COVERAGE_SUITE}"
            evaluated_by[release_id] = evaluated + coverage_evaluated
        for release_id, found in covered.items():
            for failure in found:
                # name the header entries, since this frame has no file rows
                mine = coverage[coverage["release_id"] == release_id]
                bad = mine.loc[~_passes(mine, failure), ["period", "basis"]].values
                failure["rows"] = [f"{p} {b}" for p, b in bad][:FAILURE_SAMPLE_ROWS]
                failure["row_count"] = len(bad)
                failure["values"] = []
            failures.setdefault(release_id, []).extend(found)
    frame_failures = failures.pop(None, [])
    outcomes = {
        rid: ValidationOutcome(
            suite_names[rid],
            not failures.get(rid) and not frame_failures,
            evaluated_by[rid],
            failures.get(rid, []) + frame_failures,
        )
        for rid in release_ids
    }
    return outcomes, frame_failures


def _passes(coverage, failure):
    return coverage["figures"].ge(1) if failure["column"] == "figures" else coverage["in_header"].astype(bool)
