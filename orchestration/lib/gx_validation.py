"""Run the Great Expectations 1.x suite of a release on a DataFrame read from DuckDB.

GX's SQL datasource is unreliable on DuckDB, so the release is read into pandas and
validated there. The GX project lives under data/gx (results and Data Docs HTML are kept
there); the suites themselves are files under expectations/suites/. GX is imported only
when a validation runs: it takes seconds to import.
"""

from __future__ import annotations

import csv
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.warehouse import ValidationOutcome

DATA_SOURCE = "itx_warehouse"
RELEASE_SUITE = "raw_release_figures"
COVERAGE_SUITE = "raw_release_coverage"
_FRAME_SQL = Path(__file__).with_name("validation_frame.sql")
_COVERAGE_SQL = Path(__file__).with_name("coverage_frame.sql")


def known_series_codes(seeds_dir: Path) -> list[str]:
    with (seeds_dir / "series_hierarchy.csv").open(newline="") as fh:
        return [row["series_code"] for row in csv.DictReader(fh)]


def release_frame(conn: duckdb.DuckDBPyConnection, release_id: str, seeds_dir: Path):
    return conn.execute(
        _FRAME_SQL.read_text(),
        {
            "release_id": release_id,
            "errata_csv": str(seeds_dir / "errata.csv"),
            "hierarchy_csv": str(seeds_dir / "series_hierarchy.csv"),
        },
    ).df()


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
    """Validate a DataFrame against a suite; returns the outcome with the offending rows."""
    from great_expectations.core.run_identifier import RunIdentifier

    definition = _validation_definition(Path(gx_dir), Path(expectations_dir), suite_name)
    suite_result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["row_id"]},
        run_id=RunIdentifier(run_name=run_name),
    )
    failures = []
    for r in suite_result.results:
        if r.success:
            continue
        config = r.expectation_config
        details = r.result or {}
        rows = [
            (idx.get("row_id") if isinstance(idx, dict) else idx) for idx in details.get("unexpected_index_list") or []
        ]
        failures.append(
            {
                "expectation": config.type,
                "column": config.kwargs.get("column")
                or config.kwargs.get("column_A")
                or config.kwargs.get("column_list"),
                "rule": (config.meta or {}).get("rule", ""),
                "rows": rows,
                "values": [_plain(v) for v in (details.get("partial_unexpected_list") or [])[:10]],
                "observed": str(details.get("observed_value", ""))[:200] or None,
                "exception": (r.exception_info or {}).get("exception_message") if r.exception_info else None,
            }
        )
    return ValidationOutcome(suite_name, bool(suite_result.success), len(suite_result.results), failures)


def _plain(value) -> str:
    """A value as a person would write it (no numpy wrappers)."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    return str(value.item() if hasattr(value, "item") else value)


def validate_release(conn, release_id: str, *, seeds_dir: Path, gx_dir: Path, expectations_dir: Path, run_name: str):
    """Every suite that applies to the release; one outcome listing every failure."""
    outcome = validate_frame(
        release_frame(conn, release_id, seeds_dir),
        suite_name=RELEASE_SUITE,
        gx_dir=gx_dir,
        expectations_dir=expectations_dir,
        parameters={"known_series_codes": known_series_codes(seeds_dir)},
        run_name=run_name,
    )
    coverage = conn.execute(_COVERAGE_SQL.read_text(), {"release_id": release_id}).df()
    if coverage["in_header"].any():
        covered = validate_frame(
            coverage,
            suite_name=COVERAGE_SUITE,
            gx_dir=gx_dir,
            expectations_dir=expectations_dir,
            parameters={},
            run_name=run_name,
        )
        for failure in covered.failures:
            # name the header entries, since this frame has no file rows
            failure["rows"] = [
                f"{p} {b}" for p, b in coverage.loc[~_passes(coverage, failure), ["period", "basis"]].values
            ]
        outcome = ValidationOutcome(
            f"{RELEASE_SUITE}+{COVERAGE_SUITE}",
            outcome.success and covered.success,
            outcome.evaluated + covered.evaluated,
            outcome.failures + covered.failures,
        )
    return outcome


def _passes(coverage, failure):
    return coverage["figures"].ge(1) if failure["column"] == "figures" else coverage["in_header"].astype(bool)
