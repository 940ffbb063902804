"""Run the Great Expectations 1.x suites of the staged releases, through GX Checkpoints.

GX's SQL datasource is unreliable on DuckDB, so the staged releases are read into pandas and
validated there: one frame per suite (validation_frame.sql, coverage_frame.sql), one Checkpoint
per suite, whose action renders Data Docs for the run's results only (and the index, which
lists every validation kept). Every rule is a GX expectation evaluated on the frame; the
frames carry a helper column only where no GX 1.x expectation can compute what a rule needs,
and the expectation that reads it says so in its meta (helper_column, why). Failing rows are
named from GX's own result (unexpected_index_list).

The GX project lives under gx_dir (results and Data Docs HTML are kept there); the suites
themselves are files under expectations/suites/. GX is imported only when a validation runs:
it takes seconds to import.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from orchestration.lib.errata import ERRATUM_KEY, errata_csv
from orchestration.lib.figures import rounding_allowance
from orchestration.lib.hierarchy import hierarchy_csv, load_hierarchy
from orchestration.lib.warehouse import FAILURE_SAMPLE_ROWS, ValidationOutcome
from orchestration.settings import DBT_PROJECT_YML

DATA_SOURCE = "itx_warehouse"
RELEASE_SUITE = "raw_release_figures"
COVERAGE_SUITE = "raw_release_coverage"
# the columns GX names a failing row by, per suite (the coverage frame has no file rows)
INDEX_COLUMNS = {RELEASE_SUITE: ["release_id", "row_id"], COVERAGE_SUITE: ["release_id", "period", "basis"]}
DATA_DOCS_ACTION = "itx_update_data_docs"
_FRAME_SQL = Path(__file__).with_name("validation_frame.sql")
_COVERAGE_SQL = Path(__file__).with_name("coverage_frame.sql")
# lists of a stored result GX does not bound by itself under result_format COMPLETE
_UNBOUNDED_RESULT_KEYS = ("unexpected_list", "unexpected_index_list")


def known_series_codes(seeds_dir: Path) -> list[str]:
    return [line.series_code for line in load_hierarchy(hierarchy_csv(seeds_dir)).lines]


def suite_parameters(seeds_dir: Path, build_date: date) -> dict[str, Any]:
    """The values of the suites' {"$PARAMETER": ...}: the hierarchy's series codes, and the latest
    publication date a build on build_date accepts (a day's grace for time zones)."""
    return {
        "known_series_codes": known_series_codes(Path(seeds_dir)),
        "latest_publication_date": datetime.combine(build_date + timedelta(days=1), datetime.min.time()),
    }


def staged_frame(conn: duckdb.DuckDBPyConnection, seeds_dir: Path):
    """The frame of every staged release (see validation_frame.sql)."""
    errata_match = " and ".join(f"e.{column} = f.{column}" for column in ERRATUM_KEY)
    return conn.execute(
        _FRAME_SQL.read_text().replace("{errata_match}", errata_match),
        {
            "errata_csv": str(errata_csv(seeds_dir)),
            "hierarchy_csv": str(hierarchy_csv(seeds_dir)),
            "rounding_allowance": rounding_allowance(),
        },
    ).df()


def coverage_frame(conn: duckdb.DuckDBPyConnection):
    """Header against figures of the staged releases that have a header (see coverage_frame.sql)."""
    return conn.execute(_COVERAGE_SQL.read_text()).df()


def rules_sha256(seeds_dir: Path, expectations_dir: Path) -> str:
    """What the validation of a release depends on besides the release: the suites, the frames'
    SQL, the errata and the hierarchy. A release validated under other rules is validated again."""
    digest = hashlib.sha256()
    for path in [
        *sorted((Path(expectations_dir) / "suites").glob("*.json")),
        _FRAME_SQL,
        _COVERAGE_SQL,
        errata_csv(seeds_dir),
        hierarchy_csv(seeds_dir),
        # the fiscal year's start and the rounding allowance, which parsing and the frame use
        DBT_PROJECT_YML,
    ]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


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
def _data_docs_action_class():
    """UpdateDataDocsAction for the run's own results: it renders the pages of the run's
    validation results and the index (which lists every validation kept), and the suite's page
    only when that page does not show the suite file the run used (its sha256, in the suite's
    notes).

    The Checkpoint runs it before any other action, after GX stored each result. It first
    rewrites a stored result that holds more than FAILURE_SAMPLE_ROWS failing rows of an
    expectation with that many (the result returned to the caller stays complete), so a file of
    a million bad rows leaves kilobytes in gx_dir, not gigabytes, and its page stays small.
    (Defined once per process: GX registers action types by name.)"""
    from typing import Literal

    from great_expectations.checkpoint import UpdateDataDocsAction

    class BoundedResultsUpdateDataDocsAction(UpdateDataDocsAction):
        type: Literal["itx_update_data_docs"] = "itx_update_data_docs"
        suite_file_sha256: str = ""

        def run(self, checkpoint_result, action_context=None) -> dict:
            store = self._resolve_context().context.validation_results_store
            for key, result in checkpoint_result.run_results.items():
                bounded = _bounded_result(result)
                if bounded is not None:
                    store.set(key, bounded)
            return super().run(checkpoint_result, action_context)

        def _run(
            self,
            validation_result_suite,
            validation_result_suite_identifier,
            action_context=None,
            expectation_suite_identifier=None,
            checkpoint_identifier=None,
        ):
            if expectation_suite_identifier is not None and _suite_page_shows(
                self._resolve_context().context, expectation_suite_identifier.name, self.suite_file_sha256
            ):
                expectation_suite_identifier = None  # its page is current: not rendered again
            return super()._run(
                validation_result_suite,
                validation_result_suite_identifier,
                action_context,
                expectation_suite_identifier,
                checkpoint_identifier,
            )

    # the annotations are text (from __future__ import annotations): resolve them here
    BoundedResultsUpdateDataDocsAction.update_forward_refs(Literal=Literal)
    return BoundedResultsUpdateDataDocsAction


def _suite_page_shows(context, suite_name: str, suite_file_sha256: str) -> bool:
    """Whether the suite's Data Docs page was rendered from the suite file with this sha256."""
    root = Path(context.root_directory or "")
    page = data_docs_index(root.parent).parent / "expectations" / f"{suite_name}.html"
    try:
        return bool(suite_file_sha256) and suite_file_sha256 in page.read_text(errors="replace")
    except OSError:
        return False


def _bounded_result(result):
    """A copy of a suite result with at most FAILURE_SAMPLE_ROWS of each unbounded list, or None
    when none is over."""
    if not any(
        len((r.result or {}).get(key) or ()) > FAILURE_SAMPLE_ROWS
        for r in result.results
        for key in _UNBOUNDED_RESULT_KEYS
    ):
        return None
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )

    results = []
    for r in result.results:
        details = dict(r.result or {})
        for key in _UNBOUNDED_RESULT_KEYS:
            if isinstance(details.get(key), list):
                details[key] = details[key][:FAILURE_SAMPLE_ROWS]
        results.append(
            ExpectationValidationResult(
                success=r.success,
                expectation_config=r.expectation_config,
                result=details,
                meta=r.meta,
                exception_info=r.exception_info,
            )
        )
    return ExpectationSuiteValidationResult(
        success=result.success,
        results=results,
        suite_name=result.suite_name,
        suite_parameters=result.suite_parameters,
        statistics=result.statistics,
        meta=result.meta,
        batch_id=result.batch_id,
        result_url=result.result_url,
        id=result.id,
    )


@cache
def _checkpoint(gx_dir: Path, expectations_dir: Path, suite_name: str, data_docs: bool = True):
    """The Checkpoint of a suite: its validation definition (the suite on a whole DataFrame) and
    the Data Docs action; result_format COMPLETE, failing rows named by INDEX_COLUMNS.

    Without data_docs, a Checkpoint of its own name with no action: the same verdicts, without
    the second or so that rendering takes (for tests of the verdicts alone)."""
    import great_expectations as gx
    from great_expectations.core.expectation_suite import ExpectationSuite

    context = _context(str(gx_dir))
    path = Path(expectations_dir) / "suites" / f"{suite_name}.json"
    text = path.read_text()
    spec = json.loads(text)
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    # the suite's page in Data Docs shows its notes: the description, and which file it is
    notes = [
        spec.get("meta", {}).get("description", ""),
        f"Read from expectations/suites/{path.name}, sha256 {sha256}.",
    ]
    suite = ExpectationSuite(
        name=spec["name"], expectations=spec["expectations"], meta=spec.get("meta"), notes=[n for n in notes if n]
    )
    if len(suite.expectations) != len(spec["expectations"]):
        # GX logs and drops an expectation it cannot build; a suite must never shrink silently.
        raise ValueError(
            f"expectations/suites/{suite_name}.json: {len(spec['expectations']) - len(suite.expectations)}"
            " expectation(s) could not be built by Great Expectations"
        )
    asset = context.data_sources.get(DATA_SOURCE).add_dataframe_asset(suite_name)
    batch = asset.add_batch_definition_whole_dataframe("whole_release")
    # storing the Checkpoint stores its validation definition and suite with it
    actions = [_data_docs_action_class()(name="update_data_docs", suite_file_sha256=sha256)] if data_docs else []
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite_name if data_docs else f"{suite_name} without data docs",
            validation_definitions=[gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)],
            actions=actions,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": INDEX_COLUMNS[suite_name],
                "partial_unexpected_count": FAILURE_SAMPLE_ROWS,
                "return_unexpected_index_query": False,
            },
        )
    )


def data_docs_index(gx_dir: Path) -> Path:
    """Where GX writes the Data Docs index page of the project under gx_dir."""
    return Path(gx_dir) / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def validate_frame(
    frame,
    *,
    suite_name: str,
    gx_dir: Path,
    expectations_dir: Path,
    parameters: dict,
    run_name: str,
    data_docs: bool = True,
):
    """Validate a frame against a suite in one run of the suite's Checkpoint.

    Returns {release_id: [failure, ...]} for the releases with failing rows, the failures of the
    whole frame (an expectation that raised, or a table-level one) under None, and the number of
    expectations evaluated. A failure names its rows from GX's unexpected_index_list: the file
    rows (row_id), or for a frame without file rows the other index columns ("2026-05 month").
    """
    from great_expectations.core.run_identifier import RunIdentifier

    checkpoint = _checkpoint(Path(gx_dir), Path(expectations_dir), suite_name, data_docs)
    checkpoint_result = checkpoint.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters,
        run_id=RunIdentifier(run_name=run_name),
    )
    (suite_result,) = checkpoint_result.run_results.values()
    index_columns = INDEX_COLUMNS[suite_name]
    failures: dict[str | None, list[dict]] = {}
    for r in suite_result.results:
        if r.success:
            continue
        config = r.expectation_config
        details = r.result or {}
        meta = config.meta or {}
        column = config.kwargs.get("column") or config.kwargs.get("column_A") or config.kwargs.get("column_list")
        index = details.get("unexpected_index_list")
        base = {
            "expectation": config.type,
            "column": column,
            "rule": meta.get("rule", ""),
            "observed": str(details.get("observed_value", ""))[:200] or None,
            "exception": (r.exception_info or {}).get("exception_message") if r.exception_info else None,
        }
        if not index:  # the whole frame fails it
            failures.setdefault(None, []).append({**base, "rows": [], "row_count": 0, "values": []})
            continue
        by_release: dict[str, list] = {}
        for idx in index:
            by_release.setdefault(idx["release_id"], []).append(_row_name(idx, index_columns))
        shown = _shown_columns(meta, column, frame.columns, index_columns)
        for release_id, rows in by_release.items():
            failures.setdefault(release_id, []).append(
                {
                    **base,
                    "rows": rows[:FAILURE_SAMPLE_ROWS],
                    "row_count": len(rows),
                    "values": _printed_values(frame, release_id, rows[:10], shown) if "row_id" in index_columns else [],
                }
            )
    return failures, len(suite_result.results)


def _row_name(idx: dict, index_columns: list[str]):
    """A failing row as GX's index names it: the file row, or 'period basis' (coverage)."""
    if "row_id" in index_columns:
        row = idx["row_id"]
        return row.item() if hasattr(row, "item") else row
    return " ".join(_plain(idx[c]) for c in index_columns if c != "release_id")


def _shown_columns(meta: dict, column, frame_columns, index_columns) -> list[str]:
    """The columns a failure prints: the expectation's meta.show, else its own column(s)."""
    if meta.get("show"):
        return list(meta["show"])
    columns = column if isinstance(column, list) else [column]
    return [c for c in columns if c in frame_columns and c not in index_columns]


def _printed_values(frame, release_id: str, rows: list, columns: list[str]) -> list[str]:
    """The failing values as the file printed them: a value that is not a number shows its text
    ('n/a', '385,420'), not NaN; several columns show as a tuple."""
    picked = frame[(frame["release_id"] == release_id) & (frame["row_id"].isin(rows))]
    out = []
    for row in picked.head(10)[columns].itertuples(index=False):
        parts = [_plain(v) for v in row]
        out.append(parts[0] if len(parts) == 1 else "(" + ", ".join(parts) + ")")
    return out


def _plain(value) -> str:
    """A value as a person would write it (no numpy wrappers; a date without its midnight)."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    import pandas as pd

    try:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return "(empty)"
    except (TypeError, ValueError):
        pass
    if isinstance(value, (pd.Timestamp, datetime)) and value == pd.Timestamp(value).normalize():
        return pd.Timestamp(value).date().isoformat()
    return str(value.item() if hasattr(value, "item") else value)


def validate_staged(
    conn,
    *,
    seeds_dir: Path,
    gx_dir: Path,
    expectations_dir: Path,
    run_name: str,
    build_date: date,
    data_docs: bool = True,
) -> tuple[dict[str, ValidationOutcome], list[dict]]:
    """Validate every staged release of the run with one Checkpoint run per suite (the coverage
    suite only when a staged release has a header of periods). Each run updates Data Docs for
    its own results (unless data_docs is False).

    Returns an outcome per staged release, and the failures that concern the whole frame
    (which fail every release of the run).
    """
    frame = staged_frame(conn, Path(seeds_dir))
    release_ids = list(dict.fromkeys(frame["release_id"]))
    failures, evaluated = validate_frame(
        frame,
        suite_name=RELEASE_SUITE,
        gx_dir=gx_dir,
        expectations_dir=expectations_dir,
        parameters=suite_parameters(seeds_dir, build_date),
        run_name=run_name,
        data_docs=data_docs,
    )
    suite_names = {rid: RELEASE_SUITE for rid in release_ids}
    evaluated_by = {rid: evaluated for rid in release_ids}
    coverage = coverage_frame(conn)
    if len(coverage):
        covered, coverage_evaluated = validate_frame(
            coverage,
            suite_name=COVERAGE_SUITE,
            gx_dir=gx_dir,
            expectations_dir=expectations_dir,
            parameters={},
            run_name=run_name,
            data_docs=data_docs,
        )
        for release_id in coverage["release_id"].unique():
            suite_names[release_id] = f"{RELEASE_SUITE}+{COVERAGE_SUITE}"
            evaluated_by[release_id] = evaluated + coverage_evaluated
        for release_id, found in covered.items():
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
