"""The README's examples cannot go stale: every sample output and every figure it quotes is read out
of the README itself and checked against the warehouse built from the bundled record. The `itx`
commands its code blocks show are run as shown and their output compared with the sample printed
under them; the figures in its prose are compared with the marts. A change of the data, of a
formula or of an output fails here instead of leaving the README wrong."""

import math
import re
import shlex
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from conftest import REPO
from e2e_helpers import query
from test_vintages import STATEMENTS, computed_and_tolerance

from orchestration import cli
from orchestration.lib.fiscal import fiscal_calendar

pytestmark = pytest.mark.e2e

README = (REPO / "README.md").read_text()
PROSE = " ".join(README.split())  # the README's words, whatever their line breaks
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONEY = r"\$[\d,]+(?:\.\d+)? ?(?:bn|m|billion|million)\b"
DAY = r"\d{4}-\d{2}-\d{2}"
# commands that only read the published warehouse: the ones a sample can be run with
READ_ONLY = {"sql", "asof", "revisions", "releases"}


# --- reading the README ------------------------------------------------------------------------


def find(pattern: str, text: str = PROSE, what: str = "") -> re.Match:
    """The README passage a check is about; a README rewritten without it fails here, by name."""
    match = re.search(pattern, text, re.S)
    assert match, f"README: {what or pattern!r} not found; update README.md or this test together"
    return match


def paragraph(start: str) -> str:
    """The README paragraph that begins with `start`, joined into one line."""
    text = find(re.escape(start) + r".*?(?:\n\n|\Z)", README, what=start).group(0)
    return " ".join(text.split())


def number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def money(text: str) -> float:
    """'$1.5bn', '$1,523m', '$2.61 billion', '$2,605.34 million' in US$ million."""
    value, unit = re.fullmatch(r"\$([\d,]+(?:\.\d+)?) ?(bn|m|billion|million)", text.strip()).groups()
    return round(number(value) * (1000 if unit in ("bn", "billion") else 1), 6)


def printed_as(text: str, actual: float) -> bool:
    """Whether a figure as the README prints it ('$417m', '$4.66bn', '+17.8', '2,605.34') is `actual`
    (US$ million or per cent) rounded as printed."""
    match = re.fullmatch(r"\$?([+−-]?[\d,]+(?:\.(\d+))?) ?(bn|m|billion|million)?", text.strip())
    assert match, text
    value, decimals, unit = match.groups()
    scale = 1000 if unit in ("bn", "billion") else 1
    return round(float(actual) / scale, len(decimals or "")) == number(value)


def fiscal_period(label: str) -> tuple[date, str]:
    """'FY23' -> (June 2023, fytd_Jul-Jun); 'Jul-Jan FY26' -> (January 2026, fytd_Jul-Jan)."""
    fiscal = fiscal_calendar()
    first, last, year = re.fullmatch(r"(?:([A-Z][a-z]{2})-([A-Z][a-z]{2}) )?FY(\d\d)", label).groups()
    assert first in (None, fiscal.first_month_abbr), label
    month = MONTHS.index(last or fiscal.month_abbrs()[-1]) + 1  # a whole year ends in its last month
    return fiscal.month_of(2000 + int(year), month), fiscal.fytd_basis(month)


@dataclass
class Sample:
    """An `itx` command shown in a README code block, its trailing comment and the output under it."""

    argv: list[str]
    comment: str
    output: list[str]

    @property
    def id(self) -> str:
        return " ".join(" ".join(self.argv).split())[:70]


def code_blocks(language: str | None = None) -> list[str]:
    blocks = []
    for indent, lang, body in re.findall(r"^( *)```(\w*)\n(.*?)^\1```", README, re.M | re.S):
        if language is None or lang == language:
            blocks.append("\n".join(line[len(indent) :] for line in body.splitlines()))
    return blocks


def split_comment(text: str) -> tuple[str, str, bool]:
    """The command and its `# comment`; whether a quote is still open (the command goes on)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1].isspace()):
            return text[:i], text[i + 1 :].strip(), False
    return text, "", quote is not None


def samples() -> list[Sample]:
    found = []
    for block in code_blocks("sh"):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not re.match(r"\s*(\$ )?\.venv/bin/itx\s", lines[i]):
                i += 1
                continue
            text = re.sub(r"^\s*(\$ )?\.venv/bin/", "", lines[i])
            i += 1
            command, comment, still_open = split_comment(text)
            while still_open:  # a quoted query over several lines
                text += "\n" + lines[i]
                i += 1
                command, comment, still_open = split_comment(text)
            output = []
            while i < len(lines) and lines[i].strip() and not re.match(r"\s*(\$ |\.venv/bin/)", lines[i]):
                output.append(lines[i].rstrip())
                i += 1
            argv = shlex.split(command.split("&&")[0])
            found.append(Sample(argv, comment, output))
    return found


SAMPLES = samples()
RUNNABLE = [s for s in SAMPLES if s.argv[1] in READ_ONLY]


def sample(*argv_start: str) -> Sample:
    matches = [s for s in SAMPLES if s.argv[1 : 1 + len(argv_start)] == list(argv_start)]
    assert matches, f"README: no sample of `itx {' '.join(argv_start)}`; update README.md or this test together"
    return matches[0]


# --- running the commands ----------------------------------------------------------------------


def run(capsys, argv: list[str]) -> list[str]:
    assert argv[0] == "itx", argv
    capsys.readouterr()
    code = cli.main(argv[1:])
    out, err = capsys.readouterr()
    assert code == 0, f"`{' '.join(argv)}` exited {code}: {err}"
    return [line.rstrip() for line in out.splitlines()]


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table(lines: list[str]) -> list[dict[str, str]]:
    """The rows of a table `itx` printed (tabulate's github format), by column name."""
    header = cells(lines[0])
    return [dict(zip(header, cells(line), strict=True)) for line in lines[2:] if line.startswith("|")]


def assert_elided_sample(shown: list[str], printed: list[str]) -> None:
    """A sample with columns elided as `...`: the columns it names are the command's, in its order
    (named columns side by side are side by side in the output), and its row is one of the
    command's rows, value for value."""
    header, real_header = cells(shown[0]), cells(printed[0])
    position, skipped = -1, False
    for name in header:
        if name == "...":
            skipped = True
            continue
        assert name in real_header, f"README sample column {name!r} is not printed: {real_header}"
        index = real_header.index(name)
        assert index > position if skipped else index == position + 1, (
            f"README sample column {name!r} is not where the command prints it: {real_header}"
        )
        position, skipped = index, False
    rows = table(printed)
    for line in shown[1:]:
        row = {name: value for name, value in zip(header, cells(line), strict=True) if name != "..."}
        key = list(row.items())[:2]
        same_key = [r for r in rows if all(r[k] == v for k, v in key)]
        assert len(same_key) == 1, f"README sample row {key} is not printed once: {len(same_key)} rows"
        printed_row = {name: same_key[0][name] for name in row}
        assert row == printed_row, f"README sample row differs from what the command prints:\n{row}\n{printed_row}"


# --- the samples under the commands ------------------------------------------------------------


def test_the_readme_shows_its_samples():
    """The parser finds the samples this file checks (a README reorganized away from them fails)."""
    assert any(s.argv[1] == "sql" and s.output for s in SAMPLES)
    assert any(s.argv[1] == "asof" and s.output for s in SAMPLES)
    assert len(RUNNABLE) >= 8


@pytest.mark.parametrize("shown", RUNNABLE, ids=lambda s: s.id)
def test_every_command_shown_runs_and_prints_the_sample_under_it(shown, built, capsys):
    printed = run(capsys, shown.argv)
    assert printed, f"`{shown.id}` printed nothing"
    if not shown.output:
        return
    if any("..." in line for line in shown.output):
        assert_elided_sample(shown.output, printed)
    else:
        assert shown.output == printed, "README sample is not what `{}` prints:\n{}".format(
            shown.id, "\n".join(printed)
        )


def test_july_2023_a_year_later_as_the_comment_says(built, capsys):
    shown = next((s for s in SAMPLES if "a year later" in s.comment), None)
    assert shown, "README: the `# a year later: ...` sample is gone"
    said = number(find(r"a year later: ([\d.,]+)", shown.comment).group(1))
    (row,) = table(run(capsys, shown.argv))
    assert number(row["value_usd_mn"]) == said


def test_what_a_release_revised_as_the_comment_says(built, capsys):
    shown = sample("revisions", "--release")
    clauses = re.findall(r"(FY\d\d|[A-Z][a-z]+) ([\d,.]+) -> ([\d,.]+)", shown.comment)
    assert clauses, f"README: no `before -> after` in the comment of `{shown.id}`"
    revised = [r for r in table(run(capsys, shown.argv)) if r["change_kind"] == "revised"]
    said = set()
    for label, before, after in clauses:
        if label.startswith("FY"):
            period, basis = fiscal_period(label)
            matches = [r for r in revised if r["period_month"] == f"{period:%Y-%m-%d}" and r["basis"] == basis]
        else:
            matches = [
                r
                for r in revised
                if r["basis"] == "month" and date.fromisoformat(r["period_month"]).strftime("%B") == label
            ]
        assert len(matches) == 1, (label, revised)
        (row,) = matches
        assert (number(row["previous_usd_mn"]), number(row["value_usd_mn"])) == (number(before), number(after)), row
        said.add((row["series_code"], row["period_month"], row["basis"]))
    # everything the release revised is in the comment
    assert said == {(r["series_code"], r["period_month"], r["basis"]) for r in revised}


# --- the build's output ------------------------------------------------------------------------


def test_the_build_output_sample_adds_up_to_the_bundled_build(built):
    """The sample is a build of the bundled record with two bad files in the inbox: its counts are
    the bundled build's plus what its quarantine lists, and its headline is the marts' latest month."""
    block = next((b for b in code_blocks() if "itx build: published" in b), None)
    assert block, "README: the build output sample is gone"
    first = find(
        r"itx build: (\d+) releases in (\d+) files \((\d+) new, (\d+) to validate, (\d+) unreadable\)", block
    ).groups()
    total, files, new, to_validate, unreadable = map(int, first)
    published = find(r"\((\d+) releases, (\d+) figures\): (\d+) loaded, (\d+) unchanged, (\d+) rejected\.", block)
    releases, figures, loaded, unchanged, rejected = map(int, published.groups())
    entries = re.findall(r"^  (\S+)(?: \(release (\S+)\))?: ", block, re.M)
    quarantined = int(find(r"itx build: (\d+) file\(s\) or release\(s\) quarantined", block).group(1))

    bundled = query(
        "select count(distinct release_id) as releases, count(*) as figures, "
        "count(distinct source_file) as files from raw.release_figures"
    ).iloc[0]
    assert (releases, figures) == (bundled.releases, bundled.figures)
    assert releases == len(query("select release_id from marts.mart_releases"))
    assert quarantined == len(entries) and rejected == sum(1 for _, rid in entries if rid)
    assert unreadable == sum(1 for _, rid in entries if not rid)
    assert (loaded, unchanged) == (0, releases)  # a build after `make run`: the bundled releases unchanged
    assert total == releases + rejected
    assert new == to_validate == loaded + rejected
    assert files == bundled.files + len({name for name, _ in entries})
    loading = re.search(r"validating and loading (\d+) releases?", block)
    assert loading is None or int(loading.group(1)) == to_validate

    headline = find(r"itx build: (latest month [^\n]*)", block).group(1).rstrip()
    assert headline == cli._headline()  # what `itx build` prints
    month, value, yoy, fytd, fytd_yoy = find(
        r"latest month (\w+ \d{4}): ICT exports \$([\d,]+)m \(([+-][\d.]+)% year on year\), "
        r"fiscal year to date \$([\d,]+)m \(([+-][\d.]+)%\)",
        headline,
    ).groups()
    latest = query(
        "select * from marts.mart_ict_exports_growth_monthly where series_code = 'ict_total' "
        "and value_usd_mn is not null order by month desc limit 1"
    ).iloc[0]
    assert month == f"{latest.month:%B %Y}"
    for text, actual in ((value, latest.value_usd_mn), (yoy, latest.yoy_pct), (fytd, latest.fytd_usd_mn)):
        assert printed_as(text, actual), (text, actual)
    assert printed_as(fytd_yoy, latest.fytd_yoy_pct), (fytd_yoy, latest.fytd_yoy_pct)


def test_the_brief_figures_quoted_are_the_latest_month(built):
    said = find(
        rf"says the latest month as the press does \(({MONEY}), ([+-][\d.]+)% year on year, "
        rf"({MONEY}) over the last 12\s+months",
        what="the brief's figures",
    ).groups()
    latest = query(
        "select * from marts.mart_ict_exports_growth_monthly where series_code = 'ict_total' "
        "and value_usd_mn is not null order by month desc limit 1"
    ).iloc[0]
    assert printed_as(said[0], latest.value_usd_mn), (said[0], latest.value_usd_mn)
    assert printed_as(said[1], latest.yoy_pct), (said[1], latest.yoy_pct)
    assert printed_as(said[2], latest.r12_usd_mn), (said[2], latest.r12_usd_mn)
    brief = (built.reports / "latest.md").read_text()
    for figure in (said[0], f"{said[1]}%", said[2]):
        assert figure in brief, f"the brief does not say {figure}"


# --- the figures in the prose ------------------------------------------------------------------


def test_the_data_section_counts(built):
    text = paragraph("`data/releases/published_figures.csv` is the public record")
    figures, first_year, last_year = find(
        r"(\d+) figures printed by SBP and PBS from (\d{4}) to (\d{4})", text
    ).groups()
    raw = query(
        "select count(*) as n, min(period) as first, max(period) as last, list(distinct publisher order by publisher) "
        "as publishers, count(distinct release_id) as releases from raw.release_figures"
    ).iloc[0]
    assert (int(figures), first_year, last_year) == (raw.n, raw["first"][:4], raw["last"][:4])
    assert list(raw.publishers) == ["PBS", "SBP"]

    releases = int(find(r"(\d+) releases are bundled", what="releases are bundled").group(1))
    assert releases == raw.releases
    example = find(r"with id `([a-z]+-\d{4}-\d{2}-\d{2})`", what="a release id").group(1)
    assert example in set(query("select release_id from marts.mart_releases").release_id)

    touched, of, excluded, relabelled = map(
        int, find(r"\((\d+) of (\d+): (\d+)\s+excluded, (\d+) relabelled\)", what="errata counts").groups()
    )
    quality = query("select * from marts.mart_data_quality").iloc[0]
    assert (touched, of, excluded, relabelled) == (
        quality.figures_touched_by_errata,
        quality.figures_loaded,
        quality.figures_excluded_by_errata,
        quality.figures_relabelled_by_errata,
    )

    sbp_days, pbs_days = map(int, find(r"plus (\d+) days \(SBP\)\s+or (\d+) days \(PBS\)", what="undated").groups())
    estimated = query(
        "select publisher, list(distinct published_on_date - period_end) as days, bool_and(release_id like '%-est') "
        "as est from raw.release_figures where published_on_estimated group by 1 order by 1"
    )
    assert {r.publisher: list(r.days) for r in estimated.itertuples()} == {"PBS": [pbs_days], "SBP": [sbp_days]}
    assert estimated.est.all()


def test_the_fiscal_year_and_the_percentages(built):
    fy, first, last = find(r"FY(\d\d) = (\w+ \d{4}) to (\w+ \d{4})", what="the fiscal year").groups()
    months = query(
        "select min(month) as a, max(month) as b from core.dim_month where fiscal_year = ?", [2000 + int(fy)]
    )
    assert (f"{months.a[0]:%B %Y}", f"{months.b[0]:%B %Y}") == (first, last)

    decimals = int(
        find(r"Percentages are in per cent \([\d.]+, not [\d.]+\), growth rates to (\d)\s+decimals").group(1)
    )
    growth = query("select * from marts.mart_ict_exports_growth_monthly")
    for column in [c for c in growth.columns if c.endswith(("yoy_pct", "mom_pct"))]:
        values = growth[column].dropna().astype(float)
        assert (values.round(decimals) == values).all(), column


def test_the_selection_intervals_grow_with_the_figures(built):
    per_figure = int(find(r"at most (\d+) rows per figure", what="rows per figure").group(1))
    rows = query("select count(*) as n from intermediate.int_figures__selection_intervals").iloc[0].n
    figures = query("select count(*) as n from raw.release_figures").iloc[0].n
    assert rows <= per_figure * figures


def printings(series: str, period: date, basis: str):
    return query(
        "select publisher, vintage, value_usd_thousand / 1000 as value, precision_usd_thousand / 1000 as precision "
        "from core.fct_ict_export_figures where series_code = ? and period_month = ? and basis = ? "
        "and value_origin = 'reported' order by vintage",
        [series, period, basis],
    )


def known_on(series: str, period: date, basis: str, day: str | None = None) -> float:
    """The value the selection rule picks for a key as of a day (today without one)."""
    when = "known_to = 'infinity'" if day is None else "known_from <= cast(? as date) and cast(? as date) < known_to"
    (value,) = query(
        "select value_usd_thousand / 1000 as v from intermediate.int_figures__selection_intervals "
        f"where scope = 'all' and series_code = ? and period_month = ? and basis = ? and {when}",
        [series, period, basis] + ([] if day is None else [day, day]),
    ).v
    return round(float(value), 6)


def test_the_selection_rule_worked_for_fy23(built):
    text = paragraph("**The selection rule, worked.**")
    series, basis, month = find(r"\(`(\w+)`, `([\w-]+)`, (\w+ \d{4})\)", text).groups()
    period = date(int(month[-4:]), MONTHS.index(month[:3]) + 1, 1)
    holds = find(r"the record holds: (.*?)\. As of", text).group(1)
    said = sorted(
        (day, publisher, money(value)) for publisher, day, value in re.findall(rf"(SBP|PBS) ({DAY}) ({MONEY})", holds)
    )
    printed = printings(series, period, basis)
    assert said == sorted((f"{r.vintage:%Y-%m-%d}", r.publisher, round(r.value, 6)) for r in printed.itertuples())

    as_of = re.findall(rf"[Aa]s of ({DAY}) (?:the value is|it is)\D*?([\d,]+(?:\.\d+)?)", text)
    assert len(as_of) >= 2
    for day, value in as_of:
        assert known_on(series, period, basis, day) == number(value), day
    today = number(find(r"today it is ([\d,]+(?:\.\d+)?)", text).group(1))
    assert known_on(series, period, basis) == today
    growth = query(
        "select fytd_usd_mn from marts.mart_ict_exports_growth_monthly where series_code = ? and month = ?",
        [series, period],
    ).fytd_usd_mn
    assert float(growth.iloc[0]) == today

    restated, on, of, of_day, within = find(
        rf"the ({MONEY}) of ({DAY}) is a rounded restatement of\s+the ({MONEY}) of ({DAY}) \(within \$(\d+) million",
        text,
    ).groups()
    by_day = {(f"{r.vintage:%Y-%m-%d}", round(r.value, 6)): r for r in printed.itertuples()}
    coarse, fine = by_day[(on, money(restated))], by_day[(of_day, money(of))]
    assert coarse.precision / 2 == int(within) and fine.precision < coarse.precision
    assert abs(money(restated) - money(of)) <= int(within)
    day_before = str(date.fromisoformat(on) - timedelta(days=1))
    assert known_on(series, period, basis, on) == known_on(series, period, basis, day_before)  # it replaces nothing


def test_a_rounded_restatement_for_jul_jan_fy23(built):
    """The same example in the selection rule and in the worked paragraph."""
    text = paragraph("**The selection rule, worked.**")
    label, sentence = find(r"For (Jul-\w{3} FY\d\d), (.*? does\.)", text).groups()
    period, basis = fiscal_period(label)
    said = [
        (money(value), month)
        for value, month in re.findall(rf"({MONEY}) (?:printed in|of) ([A-Z][a-z]+ \d{{4}})", sentence)
    ]
    restated, first, replacing = said
    printed = {(round(r.value, 6), f"{r.vintage:%B %Y}"): r for r in printings("ict_total", period, basis).itertuples()}
    for value in said:
        assert value in printed, (value, list(printed))
    within = int(find(r"\(within \$(\d+) million, its rounding\)", sentence).group(1))
    assert printed[restated].precision / 2 == within and abs(restated[0] - first[0]) <= within
    assert known_on("ict_total", period, basis, f"{printed[restated].vintage:%Y-%m-%d}") == first[0]
    assert known_on("ict_total", period, basis, f"{printed[replacing].vintage:%Y-%m-%d}") == replacing[0]
    assert known_on("ict_total", period, basis) == replacing[0]

    rule = find(
        rf"\((Jul-\w{{3}} FY\d\d): ({MONEY}) printed in (\w+ \d{{4}}) does not replace ({MONEY}) of\s+(\w+ \d{{4}}); "
        rf"the later, more precise ({MONEY}) of (SBP|PBS) does\)",
        what="selection rule 1's example",
    ).groups()
    assert rule[0] == label
    assert [(money(rule[1]), rule[2]), (money(rule[3]), rule[4])] == [restated, first]
    assert money(rule[5]) == replacing[0] and printed[replacing].publisher == rule[6]


def test_the_latest_publication_wins_for_july_2023(built):
    first, later = find(
        rf"\(July 2023: ({MONEY}) first printed, ({MONEY}) a year\s+later\)", what="rule 2's example"
    ).groups()
    revisions = query(
        "select * from marts.mart_ict_exports_revisions "
        "where series_code = 'ict_total' and period_month = '2023-07-01' and basis = 'month'"
    ).iloc[0]
    assert (money(first), money(later)) == (float(revisions.first_usd_mn), float(revisions.latest_usd_mn))
    days = (revisions.latest_published_on - revisions.first_published_on).days
    assert 330 <= days <= 400, days  # a year later
    assert known_on("ict_total", date(2023, 7, 1), "month") == money(later)


def test_the_growth_statements_quoted_are_printed_and_reproduced(built):
    text = paragraph("`tests/data/published_growth_statements.csv` holds a sample")
    count, first_year, last_year = find(
        r"a sample of (\d+) statements .*?SBP and PBS, (\d{4}) to (\d{4})", text
    ).groups()
    assert int(count) == len(STATEMENTS)
    assert int(find(r"(\d+) growth statements from the\s+record's sources").group(1)) == len(STATEMENTS)
    years = sorted(s["published_on"][:4] for s in STATEMENTS)
    assert (first_year, last_year) == (years[0], years[-1])
    assert {s["publisher"] for s in STATEMENTS} == {"SBP", "PBS"}

    quoted = find(r"printed with \((.*)\)\.", text).group(1)
    label = None
    checked = 0
    for clause in re.finditer(
        rf"(?:(FY\d\d|Jul-\w{{3}} FY\d\d) )?as (SBP|PBS) (revised|printed) it on ({DAY}), ({MONEY}), ([+−-]?[\d.]+)%",
        quoted,
    ):
        label = clause.group(1) or label
        _, publisher, verb, day, value, pct = clause.groups()
        period, basis = fiscal_period(label)
        for measure, said in (("fytd_usd_mn", money(value)), ("fytd_yoy_pct", number(pct))):
            matches = [
                s
                for s in STATEMENTS
                if (s["publisher"], s["published_on"], s["month"], s["measure"])
                == (publisher, day, f"{period:%Y-%m}", measure)
            ]
            assert len(matches) == 1, (label, publisher, day, measure)
            (statement,) = matches
            assert math.isclose(float(statement["printed"]), said), (statement, said)
            computed, tolerance = computed_and_tolerance(statement)
            assert abs(computed - said) <= tolerance + 1e-9, (statement, computed, tolerance)
            checked += 1
        by_publisher = printings("ict_total", period, basis)
        by_publisher = by_publisher[by_publisher.publisher == publisher]
        on_day = by_publisher[by_publisher.vintage.astype(str) == day]
        assert money(value) in set(on_day.value.round(6)), (label, publisher, day, on_day)
        if verb == "revised":  # the publisher had printed another value before
            before = by_publisher[by_publisher.vintage.astype(str) < day]
            assert len(before) and float(before.value.iloc[-1]) != money(value), (label, before)
    assert checked >= 4


def test_the_benchmarks_scale_1_is_the_bundled_record(built):
    figures, releases = find(r"(?m)^\| 1× \| ([\d,]+) \| ([\d,]+) \|", README, "the 1× row").groups()
    raw = query("select count(*) as n, count(distinct release_id) as r from raw.release_figures").iloc[0]
    assert (number(figures), number(releases)) == (raw.n, raw.r)
    assert number(find(r"up to about k × ([\d,]+) figures").group(1)) == raw.n
