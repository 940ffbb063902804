"""A deterministic synthetic record for benchmarks, grown along the domain's real axis: vintages.

Why vintages. SBP's EasyData serves each EBOPS 9 series' whole monthly history, so every weekly
or daily download of dataset TS_GP_BOP_TRDSER_M re-prints that history, with a few revisions and,
once a month, one new month. A warehouse that keeps every vintage grows by whole histories, not by
new series or new months: that is the load to measure.

What it writes. Scale 1 is the bundled record (data/releases/published_figures.csv), byte for
byte: 935 figures, 143 releases. Scale k > 1 is the bundled record followed by N synthetic SBP
"snapshot" releases in the same CSV layout, N chosen so that the file holds about k x 935
figures. Each snapshot is one release (publisher SBP, one published_on day, its own source_url
with the day in it, published_on_source `source`) and re-prints, with basis `month`, the monthly
history from July 2015 (FY16, the record's first year) of every EBOPS 9 line of
dbt_project/seeds/series_hierarchy.csv (9.2.5, freelance, from July 2023, when SBP added it), up
to the last month published 17 days before the snapshot's day. Snapshots are weekly, or closer
when there are more than 104 of them (daily at 1000x), and end on LAST_SNAPSHOT (2026-10-30), so
that every date is in the past; days on which the bundled record has an SBP release are skipped,
so a snapshot never merges into one.

The values. The ICT total of each month is the real record's: its monthly figures where printed
(errata applied, press errors and implausible outliers dropped), else the months' share of the
difference of two printed fiscal-year-to-date cumulatives, else a log-linear interpolation, and
after the record's last month the month a year earlier times the recent year-on-year growth.
Each line below it takes its share of its parent from the figures printed together with the
parent in the record (interpolated over time), within the line's plausible bounds from the
hierarchy seed. Leaves are rounded (whole thousands before FY23, two decimals after, as
EasyData prints them) and every parent is the exact sum of its children. Between consecutive
snapshots a few leaf values of the last twelve months (REVISIONS_PER_SNAPSHOT) are revised by
less than 1% (their parents follow); everything else is printed identically.

Deterministic: the only inputs are the bundled record and the seeds; the random numbers come
from random.Random seeded with a fixed string and the snapshot's day; no wall clock is read.

    python -m benchmarks.generate_record --scale 10 --out DIR [--next-snapshot FILE]

writes DIR/releases/published_figures.csv and, with --next-snapshot, the snapshot of the day after
the last one as a separate CSV (the "one new release" of the benchmark, for the inbox).
"""

from __future__ import annotations

import argparse
import calendar
import csv
import io
import math
import random
import re
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from orchestration.lib.errata import errata_csv, load_errata, match_errata
from orchestration.lib.figures import parse_basis
from orchestration.lib.fiscal import fiscal_calendar
from orchestration.lib.hierarchy import load_hierarchy
from orchestration.lib.release import RECORD_COLUMNS  # the record layout, in one place

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_RECORD = REPO_ROOT / "data" / "releases" / "published_figures.csv"
HIERARCHY_SEED = REPO_ROOT / "dbt_project" / "seeds" / "series_hierarchy.csv"
ERRATA_SEED = errata_csv(REPO_ROOT / "dbt_project" / "seeds")
RECORD_FILE_NAME = "published_figures.csv"

SEED = "itx-benchmark-record-v1"
# The last generated snapshot; the "next" one is the day after. Both before 2026-11-01.
LAST_SNAPSHOT = date(2026, 10, 30)
HISTORY_START = (2015, 7)  # EasyData's history as re-printed by every snapshot: FY16 onwards
# SBP added 9.2.5 (freelance) later; the record's first freelance figure is Jul-Mar FY24.
SERIES_START = {"computer_freelance": (2023, 7)}
MONTH_LAG_DAYS = 17  # a month is in the snapshots from 17 days after its end (SBP: 16 to 22)
TWO_DECIMALS_FROM = (2022, 7)  # older observations are whole thousands, recent ones two decimals
SNAPSHOT_INTERVAL_DAYS = 7  # weekly downloads ...
MAX_SPAN_DAYS = 730  # ... closer together when more would reach back more than two years
REVISIONS_PER_SNAPSHOT = 3
REVISION_WINDOW_MONTHS = 12
MAX_REVISION = 0.008  # a revision changes a value by less than 1%
MIN_REVISION = 0.0005
SNAPSHOT_URL = "https://easydata.sbp.org.pk/dataset/TS_GP_BOP_TRDSER_M/download?format=csv&as_of={day}"
SNAPSHOT_NOTE = "synthetic snapshot (benchmark)"
PUBLICATION_LAG_DAYS = {"SBP": 20, "PBS": 50}  # as orchestration/lib/release.py: undated figures
_PRESS_ERROR = re.compile(r"LABEL_SWAP_SUSPECTED|INCONSISTENT_IN_SOURCE|INCONSISTENT_WITH_OTHER_SOURCES")
CENT = 100  # values are held as integers in hundredths of a thousand US$


# ---------------------------------------------------------------------------------------------
# months as integers: year * 12 + month - 1


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_of_period(period: str) -> int:
    year, month = period.split("-")
    return month_index(int(year), int(month))


def period_of(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def month_end(m: int) -> date:
    year, month = m // 12, m % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def fiscal_year(m: int) -> int:
    """The fiscal year a month belongs to, named by the year it ends in (orchestration/lib/fiscal.py)."""
    return fiscal_calendar().fiscal_year(date(m // 12, m % 12 + 1, 1))


def fiscal_year_start(fiscal_year: int) -> int:
    """The first month of a fiscal year (July of the year before)."""
    fiscal = fiscal_calendar()
    first = fiscal.month_of(fiscal_year, fiscal.start_month)
    return month_index(first.year, first.month)


def last_month_published(day: date) -> int:
    """The newest month a snapshot of this day holds."""
    m = month_index(day.year, day.month)
    while month_end(m) + timedelta(days=MONTH_LAG_DAYS) > day:
        m -= 1
    return m


# ---------------------------------------------------------------------------------------------
# the seeds and the bundled record


@dataclass(frozen=True)
class Series:
    code: str
    parent: str | None
    sort_order: int
    min_usd_mn: float
    max_usd_mn: float

    @property
    def bounds(self) -> tuple[int, int]:
        """Plausible monthly bounds in hundredths of a thousand US$."""
        return round(self.min_usd_mn * 1000 * CENT), round(self.max_usd_mn * 1000 * CENT)

    @property
    def first_month(self) -> int:
        return month_index(*SERIES_START.get(self.code, HISTORY_START))


def read_hierarchy(path: Path = HIERARCHY_SEED) -> dict[str, Series]:
    """The EBOPS 9 lines of the hierarchy seed (all services, code S, is another root)."""
    series = {
        line.series_code: Series(
            line.series_code,
            line.parent_series_code,
            line.sort_order,
            line.plausible_min_monthly_usd_mn,
            line.plausible_max_monthly_usd_mn,
        )
        for line in load_hierarchy(path).lines
        if line.ebops_code.split(".")[0] == "9"
    }
    return dict(sorted(series.items(), key=lambda kv: kv[1].sort_order))


@dataclass(frozen=True)
class RecordFigure:
    row: int
    period: str
    series_code: str
    value: float  # thousand US$
    basis: str
    publisher: str
    published_on: date
    estimated: bool
    source_url: str


def _published_on(row: dict) -> tuple[date, bool]:
    if row["published_on"]:
        return date.fromisoformat(row["published_on"]), False
    end = month_end(month_of_period(row["period"]))
    return end + timedelta(days=PUBLICATION_LAG_DAYS[row["publisher"]]), True


def read_record(path: Path = BUNDLED_RECORD, errata: Path = ERRATA_SEED) -> list[RecordFigure]:
    """The record's figures with the errata applied (exclude: dropped; swap: relabelled) and
    figures flagged as press errors dropped."""
    named = load_errata(errata)
    figures = []
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        for row_no, (r, erratum) in enumerate(zip(rows, match_errata(rows, named), strict=True), start=2):
            series = r["series_code"]
            if erratum is not None:
                series = erratum.corrected_series(series)
                if series is None:
                    continue
            elif _PRESS_ERROR.search(r["note"] or ""):
                continue
            published_on, estimated = _published_on(r)
            figures.append(
                RecordFigure(
                    row_no,
                    r["period"],
                    series,
                    float(r["value_usd_thousand"]),
                    r["basis"],
                    r["publisher"],
                    published_on,
                    estimated,
                    r["source_url"],
                )
            )
    return figures


def basis_months(basis: str) -> int | None:
    """How many months a `month` or `fytd_Jul-<Mon>` figure covers; None for quarters."""
    parsed = parse_basis(basis)
    return parsed.months if parsed is not None and parsed.kind in ("month", "fytd") else None


@dataclass(frozen=True)
class RecordSummary:
    figures: int
    releases: int
    sbp_days: frozenset[date]  # days of dated SBP releases (a snapshot must not fall on one)
    release_days: tuple[date, ...] = ()  # the day of every release, in order


def summarize_record(path: Path = BUNDLED_RECORD) -> RecordSummary:
    """Figures and releases (publisher, day, estimated) as orchestration/lib/sources/record_csv.py groups them."""
    releases, sbp_days, figures = set(), set(), 0
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            figures += 1
            published_on, estimated = _published_on(r)
            releases.add((r["publisher"], published_on, estimated))
            if r["publisher"] == "SBP" and not estimated:
                sbp_days.add(published_on)
    days = tuple(sorted(day for _, day, _ in releases))
    return RecordSummary(figures, len(releases), frozenset(sbp_days), days)


# ---------------------------------------------------------------------------------------------
# the monthly values the snapshots start from


def _latest(figures: list[RecordFigure]) -> RecordFigure:
    """The record's latest word on a figure: the latest day, SBP before PBS, then the later row."""
    return max(figures, key=lambda f: (f.published_on, f.publisher == "SBP", f.row))


def _anchored_months(figures: list[RecordFigure], series: Series) -> dict[int, float]:
    """The months of a line the record pins down, in thousand US$: its monthly figures (without
    outliers), and the months between two of its printed fiscal-year-to-date cumulatives, which
    share what the printed months leave. A cumulative at odds with the others (another source
    or vintage) is passed over."""
    lo, hi = series.min_usd_mn * 1000, series.max_usd_mn * 1000
    by_key: dict[tuple[int, str], list[RecordFigure]] = defaultdict(list)
    for f in figures:
        if f.series_code == series.code and basis_months(f.basis) is not None:
            by_key[(month_of_period(f.period), f.basis)].append(f)
    reported = {m: _latest(fs).value for (m, basis), fs in by_key.items() if basis == "month"}
    cumulative = {m: _latest(fs).value for (m, basis), fs in by_key.items() if basis != "month"}
    known: dict[int, float] = {}
    for m, v in reported.items():
        around = [w for k, w in reported.items() if k != m and abs(k - m) <= 6]
        if lo <= v <= hi and (not around or 0.6 <= v / statistics.median(around) <= 1.6):
            known[m] = v
    by_year: dict[int, dict[int, float]] = defaultdict(dict)
    for m, v in cumulative.items():
        by_year[fiscal_year(m)][m] = v
    for year, points in by_year.items():
        start = fiscal_year_start(year) - 1  # the month before July: cumulative 0
        a, ca = start, 0.0
        for b, cb in sorted(points.items()):
            unknown = [m for m in range(a + 1, b + 1) if m not in known]
            printed = sum(known[m] for m in range(a + 1, b + 1) if m in known)
            if not unknown:  # every month printed: they are the cumulative
                a, ca = b, ca + printed
                continue
            rest = (cb - ca - printed) / len(unknown)
            if not (lo <= rest <= hi and 0.6 <= rest / (cb / (b - start)) <= 1.6):
                continue
            for m in unknown:
                known[m] = rest
            a, ca = b, cb
    return known


def _fill_months(known: dict[int, float], series: Series, months: range) -> dict[int, float]:
    """Every month: the anchored ones, log-linear between them, and after the last the month a
    year earlier times the recent year-on-year growth; within the line's bounds."""
    lo, hi = series.min_usd_mn * 1000, series.max_usd_mn * 1000
    values: dict[int, float] = {}
    known_months = sorted(known)
    for m in months:
        if m in known:
            values[m] = known[m]
            continue
        before = [k for k in known_months if k < m]
        after = [k for k in known_months if k > m]
        if before and after:
            a, b = before[-1], after[0]
            t = (m - a) / (b - a)
            values[m] = math.exp(math.log(known[a]) * (1 - t) + math.log(known[b]) * t)
        elif after:
            values[m] = known[after[0]]
        else:
            recent = [values[k] / values[k - 12] for k in range(m - 3, m) if k - 12 in values and k in values]
            growth = statistics.mean(recent) if recent else 1.0
            values[m] = values[m - 12] * growth if m - 12 in values else values[m - 1]
        values[m] = min(max(values[m], lo), hi)
    return values


def _shares(figures: list[RecordFigure], hierarchy: dict[str, Series]) -> dict[str, list[tuple[float, float]]]:
    """For each line below the total: (month, share of its parent) observed where the record
    prints the line and its parent on the same page, period and basis."""
    groups: dict[tuple, dict[str, float]] = defaultdict(dict)
    for f in figures:
        n = basis_months(f.basis)
        if n is None or f.series_code not in hierarchy:
            continue
        mid = month_of_period(f.period) - (n - 1) / 2
        groups[(f.publisher, f.published_on, f.source_url, f.period, f.basis, mid)][f.series_code] = f.value
    observed: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for key, values in groups.items():
        for code, v in values.items():
            parent = hierarchy[code].parent
            if parent and parent in values and values[parent] > 0:
                observed[code][key[-1]].append(min(v / values[parent], 1.0))
    return {code: sorted((m, statistics.median(s)) for m, s in obs.items()) for code, obs in observed.items()}


def _interpolate(points: list[tuple[float, float]], m: int) -> float:
    if m <= points[0][0]:
        return points[0][1]
    if m >= points[-1][0]:
        return points[-1][1]
    for (a, va), (b, vb) in zip(points, points[1:], strict=False):
        if a <= m <= b:
            return va + (vb - va) * (m - a) / (b - a) if b > a else vb
    raise AssertionError("unreachable")


def _round_leaf(value_cents: float, m: int) -> int:
    """Whole thousands before FY23, two decimals after (held in hundredths)."""
    if m < month_index(*TWO_DECIMALS_FROM):
        return round(value_cents / CENT) * CENT
    return round(value_cents)


@dataclass
class Baseline:
    """The hierarchy, and every leaf's value per month before any revision (hundredths of a
    thousand US$)."""

    hierarchy: dict[str, Series]
    leaves: dict[str, dict[int, int]]
    months: range
    children: dict[str, list[str]] = field(default_factory=dict)

    def parents_in_order(self) -> list[str]:
        """Lines with children, deepest first (so each is summed after its children)."""
        depth = {}
        for code in self.hierarchy:
            d, p = 0, self.hierarchy[code].parent
            while p:
                d, p = d + 1, self.hierarchy[p].parent
            depth[code] = d
        return sorted(self.children, key=lambda c: (-depth[c], self.hierarchy[c].sort_order))


def build_baseline(
    last_month: int, record: Path = BUNDLED_RECORD, hierarchy_seed: Path = HIERARCHY_SEED, errata: Path = ERRATA_SEED
) -> Baseline:
    hierarchy = read_hierarchy(hierarchy_seed)
    figures = read_record(record, errata)
    months = range(month_index(*HISTORY_START), last_month + 1)
    children: dict[str, list[str]] = defaultdict(list)
    for s in hierarchy.values():
        if s.parent:
            children[s.parent].append(s.code)
    roots = [s.code for s in hierarchy.values() if not s.parent]
    anchors = {code: _anchored_months(figures, series) for code, series in hierarchy.items()}
    totals = {root: _fill_months(anchors[root], hierarchy[root], months) for root in roots}
    shares = _shares(figures, hierarchy)
    leaves: dict[str, dict[int, int]] = defaultdict(dict)
    for m in months:
        stack = [(root, totals[root][m] * CENT) for root in roots]
        while stack:
            code, value = stack.pop()
            kids = [k for k in children.get(code, []) if hierarchy[k].first_month <= m]
            if not kids:
                lo, hi = hierarchy[code].bounds
                leaves[code][m] = min(max(_round_leaf(value, m), lo), hi)
                continue
            stack.extend(_split(value, m, kids, anchors, shares))
    return Baseline(hierarchy, dict(leaves), months, dict(children))


def _split(value: float, m: int, kids: list[str], anchors: dict, shares: dict) -> list[tuple[str, float]]:
    """A parent's value of a month split among its children: those the record pins down for the
    month keep their value, the others share the rest by their usual share of the parent; when
    the pinned values leave too little (sources that disagree), everyone is scaled instead."""
    weights = {k: _interpolate(shares[k], m) if k in shares else 1.0 / len(kids) for k in kids}
    total = sum(weights.values()) or 1.0
    by_share = {k: value * w / total for k, w in weights.items()}
    pinned = {k: anchors[k][m] * CENT for k in kids if m in anchors[k]}
    free = [k for k in kids if k not in pinned]
    if not pinned:
        return list(by_share.items())
    if not free:
        scale = value / (sum(pinned.values()) or 1.0)
        return [(k, v * scale) for k, v in pinned.items()]
    rest = value - sum(pinned.values())
    wanted = sum(by_share[k] for k in free)
    if wanted <= 0:
        scale = value / (sum(pinned.values()) or 1.0)
        return [*((k, v * scale) for k, v in pinned.items()), *((k, 0.0) for k in free)]
    if rest >= 0.5 * wanted:
        return [*pinned.items(), *((k, rest * by_share[k] / wanted) for k in free)]
    scale = (value - wanted) / (sum(pinned.values()) or 1.0)
    return [*((k, v * scale) for k, v in pinned.items()), *((k, by_share[k]) for k in free)]


# ---------------------------------------------------------------------------------------------
# snapshots


def snapshot_dates(n: int, skip: frozenset[date] = frozenset()) -> list[date]:
    """The days of n snapshots ending on LAST_SNAPSHOT, oldest first: weekly, or every
    MAX_SPAN_DAYS // n days (at least daily) when weekly would reach back more than two years.
    Days in skip (the bundled record's SBP releases) are passed over."""
    if n <= 0:
        return []
    interval = max(1, min(SNAPSHOT_INTERVAL_DAYS, MAX_SPAN_DAYS // n))
    days, day = [], LAST_SNAPSHOT
    while len(days) < n:
        if day not in skip:
            days.append(day)
        day -= timedelta(days=interval)
    return days[::-1]


def next_snapshot_date(days: list[date]) -> date:
    """The day after the last snapshot (LAST_SNAPSHOT + 1 when there are none)."""
    return (days[-1] if days else LAST_SNAPSHOT) + timedelta(days=1)


def figures_in_snapshot(hierarchy: dict[str, Series], day: date) -> int:
    last = last_month_published(day)
    return sum(max(0, last - s.first_month + 1) for s in hierarchy.values())


def format_value(cents: int, m: int) -> str:
    if m < month_index(*TWO_DECIMALS_FROM):
        return str(cents // CENT)
    return f"{cents // CENT}.{cents % CENT:02d}"


class SnapshotSeries:
    """The state of EasyData's history as snapshots advance: new months appear, a few values
    are revised, everything else is printed again unchanged."""

    def __init__(self, baseline: Baseline):
        self.baseline = baseline
        self.hierarchy = baseline.hierarchy
        self.values: dict[str, dict[int, int]] = {code: {} for code in self.hierarchy}
        self.last_month: int | None = None
        self._parents = baseline.parents_in_order()

    def _sum_parents(self, m: int) -> None:
        for parent in self._parents:
            kids = [k for k in self.baseline.children[parent] if m in self.values[k]]
            if kids:
                self.values[parent][m] = sum(self.values[k][m] for k in kids)

    def advance(self, day: date) -> None:
        last = last_month_published(day)
        start = self.baseline.months.start if self.last_month is None else self.last_month + 1
        for m in range(start, last + 1):
            for code, months in self.baseline.leaves.items():
                if m in months:
                    self.values[code][m] = months[m]
            self._sum_parents(m)
        self.last_month = max(last, self.last_month or last)
        rng = random.Random(f"{SEED}:{day.isoformat()}")
        window = [m for m in range(self.last_month - REVISION_WINDOW_MONTHS + 1, self.last_month + 1)]
        candidates = [(code, m) for code in sorted(self.baseline.leaves) for m in window if m in self.values[code]]
        for code, m in rng.sample(candidates, min(REVISIONS_PER_SNAPSHOT, len(candidates))):
            change = rng.uniform(MIN_REVISION, MAX_REVISION) * rng.choice((-1, 1))
            lo, hi = self.hierarchy[code].bounds
            old = self.values[code][m]
            new = min(max(_round_leaf(old * (1 + change), m), lo), hi)
            if new != old and abs(new - old) < 0.01 * old and self._parents_allow(code, m, new - old):
                self.values[code][m] = new
                self._sum_parents(m)

    def _parents_allow(self, code: str, m: int, delta: int) -> bool:
        """A revision that would push a parent out of its bounds is not made."""
        parent = self.hierarchy[code].parent
        while parent:
            lo, hi = self.hierarchy[parent].bounds
            if not lo <= self.values[parent][m] + delta <= hi:
                return False
            parent = self.hierarchy[parent].parent
        return True

    def rows(self, day: date) -> Iterator[tuple[str, ...]]:
        url = SNAPSHOT_URL.format(day=day.isoformat())
        published = day.isoformat()
        for m in range(self.baseline.months.start, self.last_month + 1):
            period = period_of(m)
            for code in self.hierarchy:
                value = self.values[code].get(m)
                if value is not None:
                    yield (
                        period,
                        code,
                        format_value(value, m),
                        "month",
                        "SBP",
                        published,
                        url,
                        SNAPSHOT_NOTE,
                        "source",
                    )


# ---------------------------------------------------------------------------------------------
# scales


@dataclass(frozen=True)
class Plan:
    """What a scale generates."""

    scale: float
    bundled: RecordSummary
    days: tuple[date, ...]
    figures: int  # bundled + synthetic

    @property
    def releases(self) -> int:
        return self.bundled.releases + len(self.days)

    @property
    def next_day(self) -> date:
        return next_snapshot_date(list(self.days))

    @property
    def middle_day(self) -> date:
        """A day in the middle of the vintages (the as-of query of the benchmark): the middle
        snapshot's, or at scale 1 the middle release's of the bundled record."""
        days = self.days or self.bundled.release_days
        return days[len(days) // 2]


def plan(scale: float, record: Path = BUNDLED_RECORD, hierarchy_seed: Path = HIERARCHY_SEED) -> Plan:
    """N snapshots so that the record holds about scale x the bundled figures."""
    if scale < 1:
        raise ValueError(f"scale {scale} is below 1 (1 is the bundled record)")
    bundled = summarize_record(record)
    hierarchy = read_hierarchy(hierarchy_seed)
    target = scale * bundled.figures
    per_day: dict[date, int] = {}

    def count(day: date) -> int:
        if day not in per_day:
            per_day[day] = figures_in_snapshot(hierarchy, day)
        return per_day[day]

    best: tuple[float, tuple[date, ...], int] = (abs(target - bundled.figures), (), bundled.figures)
    n = 0
    while True:
        n += 1
        days = tuple(snapshot_dates(n, bundled.sbp_days))
        figures = bundled.figures + sum(count(d) for d in days)
        if abs(target - figures) < best[0]:
            best = (abs(target - figures), days, figures)
        if figures >= target:
            break
    return Plan(scale, bundled, best[1], best[2])


def _writer(fh) -> csv.writer:
    return csv.writer(fh, lineterminator="\n")


def _snapshots(p: Plan, days: list[date], record: Path, hierarchy_seed: Path, errata: Path):
    # one baseline for the scale's snapshots and the next one, so both print the same history
    baseline = build_baseline(last_month_published(p.next_day), record, hierarchy_seed, errata)
    state = SnapshotSeries(baseline)
    for day in days:
        state.advance(day)
        yield day, state


@dataclass(frozen=True)
class Generated:
    path: Path
    plan: Plan


def generate(
    scale: float,
    out_dir: Path,
    *,
    record: Path = BUNDLED_RECORD,
    hierarchy_seed: Path = HIERARCHY_SEED,
    errata: Path = ERRATA_SEED,
) -> Generated:
    """Write <out_dir>/releases/published_figures.csv for a scale; returns its path and plan."""
    p = plan(scale, record, hierarchy_seed)
    path = Path(out_dir) / "releases" / RECORD_FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    bundled = record.read_bytes()
    with path.open("wb") as out:
        out.write(bundled)
        if p.days:
            if not bundled.endswith(b"\n"):
                out.write(b"\n")
            buffer = io.StringIO()
            writer = _writer(buffer)
            for day, state in _snapshots(p, list(p.days), record, hierarchy_seed, errata):
                writer.writerows(state.rows(day))
                out.write(buffer.getvalue().encode("utf-8"))
                buffer.seek(0)
                buffer.truncate()
    return Generated(path, p)


def write_next_snapshot(
    scale: float,
    path: Path,
    *,
    record: Path = BUNDLED_RECORD,
    hierarchy_seed: Path = HIERARCHY_SEED,
    errata: Path = ERRATA_SEED,
) -> date:
    """Write the snapshot of the day after the scale's last one (header included) as its own CSV
    file, as the state of the series would be that day; returns its day."""
    p = plan(scale, record, hierarchy_seed)
    days = [*p.days, p.next_day]
    *_, (day, state) = _snapshots(p, days, record, hierarchy_seed, errata)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = _writer(fh)
        writer.writerow(RECORD_COLUMNS)
        writer.writerows(state.rows(day))
    return day


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate_record",
        description="Write a synthetic record: the bundled one plus SBP EasyData snapshots (about scale x 935 "
        "figures).",
    )
    parser.add_argument("--scale", type=float, default=10, help="1 = the bundled record (default 10)")
    parser.add_argument("--out", type=Path, required=True, help="writes OUT/releases/published_figures.csv")
    parser.add_argument("--next-snapshot", type=Path, help="also write the next day's snapshot to this CSV file")
    args = parser.parse_args(argv)
    generated = generate(args.scale, args.out)
    p = generated.plan
    span = f", snapshots {p.days[0]} to {p.days[-1]}" if p.days else ""
    print(f"{generated.path}: {p.figures} figures, {p.releases} releases ({len(p.days)} synthetic snapshots{span})")
    if args.next_snapshot:
        day = write_next_snapshot(args.scale, args.next_snapshot)
        print(f"{args.next_snapshot}: the snapshot of {day}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
