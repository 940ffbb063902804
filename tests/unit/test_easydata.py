"""EasyData downloads (CSV and API JSON) of SBP's trade in services, parsed into figures.

Expectations are computed from the public record and from the fixture files themselves,
never typed in: the fixtures are written from the record by make_easydata_files.py.
"""

import csv
import importlib.util
import json
import sys
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from conftest import RECORD, REPO

from orchestration.lib.hierarchy import load_hierarchy
from orchestration.lib.release import EASYDATA_CSV, EASYDATA_JSON, ReleaseFileError, estimate_published_on
from orchestration.lib.sources import easydata
from orchestration.lib.sources.easydata import COLUMNS, DATASET, MONTH_ABBR

HIERARCHY = load_hierarchy(REPO / "dbt_project" / "seeds" / "series_hierarchy.csv")
parse_easydata_csv = partial(easydata.parse_easydata_csv, hierarchy=HIERARCHY)
parse_easydata_json = partial(easydata.parse_easydata_json, hierarchy=HIERARCHY)
FIXTURES = REPO / "tests" / "fixtures" / "easydata"
FY26_CSV = FIXTURES / "trdser_fy26.csv"
ICT_JSON = FIXTURES / "trdser_ict_total.json"
XRECCOM_CSV = FIXTURES / "xreccom_sample.csv"
TRUNCATED_CSV = FIXTURES / "trdser_truncated.csv"


def load_generator():
    path = REPO / "tests" / "fixtures" / "make_easydata_files.py"
    spec = importlib.util.spec_from_file_location("make_easydata_files", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def fixture_rows(path: Path = FY26_CSV) -> list[dict[str, str]]:
    """The data rows of an EasyData CSV, each with its line number under '_line'."""
    with path.open(newline="") as fh:
        return [dict(row, _line=str(line)) for line, row in enumerate(csv.DictReader(fh), start=2)]


def record_latest_sbp_monthly_fy26() -> dict[tuple[str, str], str]:
    """The record's latest SBP monthly printing of each (series, month) of FY26, computed
    independently of the generator: undated rows are dated the record's way, ties go to the
    later row."""
    with RECORD.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    candidates = []
    for line, row in enumerate(rows, start=2):
        if row["publisher"] != "SBP" or row["basis"] != "month" or not "2025-07" <= row["period"] <= "2026-06":
            continue
        published = (
            date.fromisoformat(row["published_on"])
            if row["published_on"]
            else estimate_published_on("SBP", row["period"])
        )
        candidates.append((published, line, row))
    latest = {}
    for _, _, row in sorted(candidates, key=lambda c: (c[0], c[1])):
        latest[(row["series_code"], row["period"])] = row["value_usd_thousand"]
    return latest


def write_easydata_csv(path: Path, rows: list[dict[str, str]], columns=COLUMNS) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[row.get(c, "") for c in columns] for row in rows])
    return path


def observation(**fields: str) -> dict[str, str]:
    """A credit row of the ICT total, July 2025, overridden by `fields` (keys: column names)."""
    row = {
        "Dataset Name": "Trade in Services",
        "Observation Date": "31-Jul-2025",
        "Series Key": f"{DATASET}.S9C",
        "Series Display Name": "9 Telecommunications, computer, and information services-Cr",
        "Observation Value": "354000",
        "Unit": "Thousand USD",
        "Observation Status": "Normal",
        "Observation Status Comment": "",
        "Sequence No.": "10",
        "Series name": "ICT",
    }
    row.update(fields)
    return row


def one_row_file(tmp_path: Path, **fields: str) -> Path:
    return write_easydata_csv(tmp_path / "one.csv", [observation(**fields)])


def fails(parse, path: Path, rule: str) -> ReleaseFileError:
    with pytest.raises(ReleaseFileError) as caught:
        parse(path)
    assert caught.value.rule == rule, str(caught.value)
    assert path.name in str(caught.value)
    return caught.value


# --- the fixtures -----------------------------------------------------------------------


def test_the_fixtures_are_what_the_generator_writes_from_the_record(tmp_path):
    for written in load_generator().write_fixtures(tmp_path):
        assert written.read_bytes() == (FIXTURES / written.name).read_bytes(), f"regenerate {written.name}"


def test_the_fixture_holds_every_fy26_sbp_monthly_figure_of_the_record():
    expected = record_latest_sbp_monthly_fy26()
    credits = [r for r in fixture_rows() if r["Series Display Name"].endswith("-Cr")]
    assert len(credits) == len(expected)
    assert {r["Observation Date"] for r in fixture_rows()} >= {r["Observation Date"] for r in credits}


# --- the CSV download -------------------------------------------------------------------


def test_every_parsed_figure_equals_the_record_figure_it_was_built_from():
    parsed = parse_easydata_csv(FY26_CSV)
    expected = record_latest_sbp_monthly_fy26()
    assert parsed.format == EASYDATA_CSV
    got = {(f.series_code, f.period): f for f in parsed.figures}
    assert set(got) == set(expected)
    for key, figure in got.items():
        assert Decimal(figure.value_usd_thousand) == Decimal(expected[key]), key
        assert figure.basis == "month"
    assert parsed.stated_published_on is None


def test_values_are_kept_as_printed_with_their_line_numbers():
    rows = {int(r["_line"]): r for r in fixture_rows()}
    for figure in parse_easydata_csv(FY26_CSV).figures:
        row = rows[figure.source_row]
        assert figure.value_usd_thousand == row["Observation Value"]
        assert row["Series Display Name"].endswith("-Cr")


def test_only_credits_are_kept():
    rows = fixture_rows()
    debit_lines = {int(r["_line"]) for r in rows if r["Series Display Name"].endswith("-Dr")}
    credit_lines = {int(r["_line"]) for r in rows if r["Series Display Name"].endswith("-Cr")}
    assert debit_lines, "the fixture should hold debit rows for the parser to ignore"
    figures = parse_easydata_csv(FY26_CSV).figures
    assert {f.source_row for f in figures} == credit_lines


def test_leading_dots_are_indentation_not_part_of_the_code():
    dotted = [r for r in fixture_rows() if r["Series Display Name"].startswith(".")]
    assert dotted, "the fixture should indent child lines with dots"
    by_row = {f.source_row: f.series_code for f in parse_easydata_csv(FY26_CSV).figures}
    for row in dotted:
        code = row["Series Display Name"].lstrip(".").split(" ", 1)[0]
        assert by_row[int(row["_line"])] == HIERARCHY.series_for_ebops_code(code)


def test_the_all_services_line_is_services_total_with_or_without_a_code(tmp_path):
    services = [r for r in fixture_rows() if r["Series Display Name"] == "Services-Cr"]
    by_row = {f.source_row: f.series_code for f in parse_easydata_csv(FY26_CSV).figures}
    assert services and all(by_row[int(r["_line"])] == "services_total" for r in services)
    coded = one_row_file(tmp_path, **{"Series Display Name": "S Services-Cr"})
    assert [f.series_code for f in parse_easydata_csv(coded).figures] == ["services_total"]


def test_the_provisional_status_lands_in_the_note():
    rows = {int(r["_line"]): r for r in fixture_rows()}
    figures = parse_easydata_csv(FY26_CSV).figures
    latest = max(f.period for f in figures)
    for figure in figures:
        status = rows[figure.source_row]["Observation Status"]
        assert figure.note == ("" if status == "Normal" else status.lower())
        assert (figure.note == "provisional") == (figure.period == latest)


def test_a_status_comment_is_kept_with_the_status(tmp_path):
    path = one_row_file(tmp_path, **{"Observation Status": "Revised", "Observation Status Comment": "bank late report"})
    assert parse_easydata_csv(path).figures[0].note == "revised; bank late report"


def test_header_periods_cover_the_months_of_the_file():
    parsed = parse_easydata_csv(FY26_CSV)
    months = sorted({f.period for f in parsed.figures})
    assert parsed.header_periods == [(m, "month") for m in months]

    def label(period: str) -> str:
        return f"{MONTH_ABBR[int(period[5:]) - 1]} {period[:4]}"

    assert parsed.description == f"EasyData {DATASET}, {label(months[0])} - {label(months[-1])}"


def test_lines_outside_the_ebops_9_hierarchy_are_skipped(tmp_path):
    rows = [
        observation(),
        observation(**{"Series Display Name": "1 Manufacturing services on physical inputs owned by others-Cr"}),
        observation(**{"Series Display Name": "......10.1 Financial services-Cr"}),
        observation(**{"Series Display Name": "Goods-Cr"}),
    ]
    figures = parse_easydata_csv(write_easydata_csv(tmp_path / "other_lines.csv", rows)).figures
    assert [(f.series_code, f.source_row) for f in figures] == [("ict_total", 2)]


def test_an_empty_value_is_skipped(tmp_path):
    rows = [observation(), observation(**{"Observation Date": "31-Aug-2025", "Observation Value": ""})]
    parsed = parse_easydata_csv(write_easydata_csv(tmp_path / "empty_value.csv", rows))
    assert [f.period for f in parsed.figures] == ["2025-07"]


def test_million_usd_is_scaled_to_thousands_exactly(tmp_path):
    path = one_row_file(tmp_path, **{"Observation Value": "354.25", "Unit": "Million USD"})
    assert parse_easydata_csv(path).figures[0].value_usd_thousand == "354250"


def test_commas_inside_quotes_stay_in_the_field(tmp_path):
    path = one_row_file(tmp_path)
    assert ", computer, and" in path.read_text()
    assert parse_easydata_csv(path).figures[0].series_code == "ict_total"


# --- the CSV download: failures ---------------------------------------------------------


def test_another_dataset_fails_naming_it():
    error = fails(parse_easydata_csv, XRECCOM_CSV, "dataset")
    assert "TS_GP_BOP_XRECCOM_M" in error.detail
    assert error.row == 2


def test_a_truncated_file_fails_with_its_name_and_a_rule():
    error = fails(parse_easydata_csv, TRUNCATED_CSV, "row shape")
    assert error.row == len(TRUNCATED_CSV.read_text().splitlines())


def test_a_date_that_is_not_a_month_end_fails(tmp_path):
    text = FY26_CSV.read_text()
    month_end = fixture_rows()[-1]["Observation Date"]
    day, rest = month_end.split("-", 1)
    path = tmp_path / "mid_month.csv"
    path.write_text(text.replace(f'"{month_end}"', f'"{int(day) - 1:02d}-{rest}"'))
    error = fails(parse_easydata_csv, path, "observation date")
    first_changed = next(int(r["_line"]) for r in fixture_rows() if r["Observation Date"] == month_end)
    assert error.row == first_changed


@pytest.mark.parametrize("text", ["2025-07-31", "31/07/2025", "31-Jly-2025", "", "32-Jul-2025"])
def test_an_unparseable_date_fails(tmp_path, text):
    fails(parse_easydata_csv, one_row_file(tmp_path, **{"Observation Date": text}), "observation date")


def test_a_wrong_unit_fails(tmp_path):
    fails(parse_easydata_csv, one_row_file(tmp_path, Unit="Thousand PKR"), "unit")


def test_a_value_that_is_not_a_number_fails(tmp_path):
    fails(parse_easydata_csv, one_row_file(tmp_path, **{"Observation Value": "1,234"}), "value")


def test_a_code_printed_with_another_lines_label_fails(tmp_path):
    swapped = one_row_file(tmp_path, **{"Series Display Name": "............9.2.1 Software consultancy services-Cr"})
    error = fails(parse_easydata_csv, swapped, "label")
    assert "software_consultancy" in error.detail


def test_a_label_spelt_differently_is_accepted(tmp_path):
    path = one_row_file(tmp_path, **{"Series Display Name": "......9.1.2\u00a0Telecommunication  services -Cr"})
    assert [f.series_code for f in parse_easydata_csv(path).figures] == ["other_telecom"]


def test_two_values_for_one_series_and_month_fail(tmp_path):
    rows = [observation(), observation(**{"Observation Value": "1"})]
    fails(parse_easydata_csv, write_easydata_csv(tmp_path / "twice.csv", rows), "duplicate")


def test_a_wrong_header_fails(tmp_path):
    path = write_easydata_csv(tmp_path / "header.csv", [observation()], columns=COLUMNS[:-1])
    fails(parse_easydata_csv, path, "header")


def test_an_empty_file_fails(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    fails(parse_easydata_csv, path, "content")


def test_a_file_with_only_the_header_fails(tmp_path):
    fails(parse_easydata_csv, write_easydata_csv(tmp_path / "header_only.csv", []), "content")


def test_a_row_with_the_wrong_number_of_fields_fails(tmp_path):
    path = write_easydata_csv(tmp_path / "short.csv", [observation()])
    path.write_text(path.read_text() + '"Trade in Services","31-Aug-2025"\n')
    assert fails(parse_easydata_csv, path, "row shape").row == 3


# --- the API JSON -----------------------------------------------------------------------


def comparable(figure):
    """A figure without its source row, which differs between the CSV and the JSON."""
    return (figure.period, figure.series_code, figure.value_usd_thousand, figure.basis, figure.note)


def test_json_gives_the_same_figures_as_the_csv_for_the_ict_total():
    from_json = parse_easydata_json(ICT_JSON)
    assert from_json.format == EASYDATA_JSON
    from_csv = [f for f in parse_easydata_csv(FY26_CSV).figures if f.series_code == "ict_total"]
    assert [comparable(f) for f in from_json.figures] == [comparable(f) for f in from_csv]
    assert {f.series_code for f in from_json.figures} == {"ict_total"}


def test_json_source_rows_are_the_row_index_plus_one():
    rows = json.loads(ICT_JSON.read_text())["rows"]
    figures = parse_easydata_json(ICT_JSON).figures
    assert [f.source_row for f in figures] == list(range(2, len(rows) + 2))


def test_json_numbers_keep_their_printed_text(tmp_path):
    path = tmp_path / "numbers.json"
    row = observation()
    cells = [row[c] for c in COLUMNS]
    text = json.dumps({"columns": list(COLUMNS), "rows": [cells]})
    path.write_text(text.replace('"354000"', "363810.00").replace('"10"', "10"))
    assert parse_easydata_json(path).figures[0].value_usd_thousand == "363810.00"


def test_json_columns_are_matched_by_name(tmp_path):
    columns = list(reversed(COLUMNS))
    row = observation()
    path = tmp_path / "reordered.json"
    path.write_text(json.dumps({"columns": columns, "rows": [[row[c] for c in columns]]}))
    assert [f.series_code for f in parse_easydata_json(path).figures] == ["ict_total"]


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"columns": []}', '{"rows": []}', '{"columns": "x", "rows": []}', "{"],
)
def test_json_that_is_not_the_api_body_fails(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    fails(parse_easydata_json, path, "json")


def test_json_of_another_dataset_fails(tmp_path):
    with XRECCOM_CSV.open(newline="") as fh:
        header, *rows = list(csv.reader(fh))
    path = tmp_path / "xreccom.json"
    path.write_text(json.dumps({"columns": header, "rows": rows}))
    fails(parse_easydata_json, path, "dataset")


def test_json_rows_of_the_wrong_shape_fail(tmp_path):
    path = tmp_path / "short_row.json"
    path.write_text(json.dumps({"columns": list(COLUMNS), "rows": [["x", "31-Jul-2025"]]}))
    assert fails(parse_easydata_json, path, "row shape").row == 2
