"""The benchmark's synthetic record (benchmarks/generate_record.py): deterministic, the bundled
record at scale 1, growing linearly with the scale, and made only of figures the validation
suites accept. Fast: generation only, no build."""

import csv
from collections import defaultdict
from datetime import date

import pytest
from conftest import RECORD, REPO

from benchmarks import generate_record as gen
from orchestration.lib.hierarchy import load_hierarchy
from orchestration.lib.record import read_release_file

HIERARCHY = REPO / "dbt_project" / "seeds" / "series_hierarchy.csv"


def read_rows(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def synthetic(rows):
    return [r for r in rows if r["note"] == gen.SNAPSHOT_NOTE]


@pytest.fixture(scope="module")
def hierarchy():
    return load_hierarchy(HIERARCHY).by_series


@pytest.fixture(scope="module")
def generated_10x(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench10")
    generated = gen.generate(10, out)
    next_file = out / "next.csv"
    next_day = gen.write_next_snapshot(10, next_file)
    return generated, next_file, next_day


@pytest.fixture(scope="module")
def rows_10x(generated_10x):
    return read_rows(generated_10x[0].path)


def test_generation_is_deterministic(tmp_path, generated_10x):
    generated, next_file, _ = generated_10x
    again = gen.generate(10, tmp_path / "again")
    assert again.path.read_bytes() == generated.path.read_bytes()
    gen.write_next_snapshot(10, tmp_path / "next.csv")
    assert (tmp_path / "next.csv").read_bytes() == next_file.read_bytes()


def test_scale_1_is_the_bundled_record(tmp_path):
    generated = gen.generate(1, tmp_path)
    assert generated.path == tmp_path / "releases" / "published_figures.csv"
    assert generated.path.read_bytes() == RECORD.read_bytes()
    assert (generated.plan.figures, generated.plan.releases, generated.plan.days) == (935, 143, ())


def test_the_file_holds_what_the_plan_says(generated_10x, rows_10x):
    generated = generated_10x[0]
    assert len(rows_10x) == generated.plan.figures
    assert rows_10x[: len(read_rows(RECORD))] == read_rows(RECORD)  # the bundled record first, unchanged
    releases = read_release_file(generated.path, bundled=True, max_bytes=10**9)
    assert len(releases) == generated.plan.releases
    snapshot_ids = {r.release_id for r in releases if r.published_on in generated.plan.days}
    assert snapshot_ids == {f"sbp-{d.isoformat()}" for d in generated.plan.days}


@pytest.mark.parametrize("scale", [10, 100, 1000])
def test_figures_grow_linearly_with_the_scale(scale):
    plan = gen.plan(scale)
    assert abs(plan.figures / (scale * 935) - 1) < 0.10
    assert len(plan.days) == len(set(plan.days)) and list(plan.days) == sorted(plan.days)
    assert plan.days[-1] < date(2026, 11, 1) and plan.next_day < date(2026, 11, 1)


def test_snapshots_never_fall_on_a_bundled_sbp_release_day():
    sbp_days = gen.summarize_record(RECORD).sbp_days
    assert sbp_days and not sbp_days & set(gen.plan(1000).days)


def test_every_series_code_is_in_the_hierarchy(rows_10x, generated_10x, hierarchy):
    next_rows = read_rows(generated_10x[1])
    assert {r["series_code"] for r in rows_10x + next_rows} <= set(hierarchy)
    # every EBOPS 9 line is re-printed by every snapshot
    ebops9 = {code for code, h in hierarchy.items() if h.ebops_code.split(".")[0] == "9"}
    assert {r["series_code"] for r in next_rows} == ebops9


def test_every_value_is_within_its_series_bounds(rows_10x, generated_10x, hierarchy):
    for r in synthetic(rows_10x) + read_rows(generated_10x[1]):
        h = hierarchy[r["series_code"]]
        assert r["basis"] == "month"
        value_mn = float(r["value_usd_thousand"]) / 1000
        low, high = h.plausible_min_monthly_usd_mn, h.plausible_max_monthly_usd_mn
        assert low <= value_mn <= high, r


def test_children_sum_to_their_parent(rows_10x, hierarchy):
    values = {
        (r["published_on"], r["period"], r["series_code"]): float(r["value_usd_thousand"]) for r in synthetic(rows_10x)
    }
    sums = defaultdict(float)
    for (day, period, code), v in values.items():
        parent = hierarchy[code].parent_series_code
        if parent:
            sums[(day, period, parent)] += v
    assert sums
    for key, total in sums.items():
        assert values[key] == pytest.approx(total, abs=1e-6), key


def test_published_on_is_after_the_period_and_not_in_the_future(rows_10x, generated_10x):
    today = date.today()
    for r in synthetic(rows_10x) + read_rows(generated_10x[1]):
        published_on = date.fromisoformat(r["published_on"])
        assert gen.month_end(gen.month_of_period(r["period"])) < published_on <= today, r
        assert r["publisher"] == "SBP" and r["published_on_source"] == "source"


def test_each_snapshot_has_its_own_source_url(rows_10x, generated_10x):
    rows = synthetic(rows_10x) + read_rows(generated_10x[1])
    urls_by_day, days_by_url = defaultdict(set), defaultdict(set)
    for r in rows:
        urls_by_day[r["published_on"]].add(r["source_url"])
        days_by_url[r["source_url"]].add(r["published_on"])
    assert all(len(urls) == 1 for urls in urls_by_day.values())
    assert all(len(days) == 1 for days in days_by_url.values())
    assert not set(days_by_url) & {r["source_url"] for r in read_rows(RECORD)}


def test_snapshots_revise_few_values_by_less_than_one_percent(rows_10x):
    by_day = defaultdict(dict)
    for r in synthetic(rows_10x):
        by_day[r["published_on"]][(r["period"], r["series_code"])] = float(r["value_usd_thousand"])
    days = sorted(by_day)
    assert len(days) == 5
    for before, after in zip(days, days[1:], strict=False):
        common = by_day[before].keys() & by_day[after].keys()
        changed = [k for k in common if by_day[before][k] != by_day[after][k]]
        assert len(changed) <= 0.02 * len(common)
        for k in changed:
            assert abs(by_day[after][k] / by_day[before][k] - 1) < 0.01, k
    # newer snapshots reach newer months
    newest = [max(p for p, _ in by_day[d]) for d in days]
    assert newest == sorted(newest) and newest[0] < newest[-1]


def test_the_next_snapshot_is_dated_after_every_generated_snapshot(generated_10x, rows_10x):
    generated, next_file, next_day = generated_10x
    next_rows = read_rows(next_file)
    assert {r["published_on"] for r in next_rows} == {next_day.isoformat()}
    assert next_day > max(date.fromisoformat(r["published_on"]) for r in rows_10x if r["published_on"])
    assert next_day == generated.plan.next_day
    assert list(next_rows[0]) == list(gen.RECORD_COLUMNS)
    # it re-prints the history of the last snapshot, with at most a few revisions
    last = {
        (r["period"], r["series_code"]): r["value_usd_thousand"]
        for r in synthetic(rows_10x)
        if r["published_on"] == generated.plan.days[-1].isoformat()
    }
    same = sum(last.get((r["period"], r["series_code"])) == r["value_usd_thousand"] for r in next_rows)
    assert same >= 0.98 * len(next_rows)
