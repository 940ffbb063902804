"""`make bench`: the warehouse's cost as the record grows along its vintages.

For each scale (default 1, 10, 100, 1000), in a temporary directory of its own:

1. generate the record (benchmarks/generate_record.py) into <tmp>/releases, and the next day's
   snapshot beside it;
2. point the warehouse at <tmp> (ITX_RELEASES, ITX_INBOX, ITX_WAREHOUSE, ITX_REPORTS, ITX_GX_DIR,
   DAGSTER_HOME with a copy of dagster_home/dagster.yaml; telemetry off) and measure, each as a
   whole process (wall time, and the peak of the summed RSS of its whole process tree, sampled
   every 50 ms):
   - full build: `itx build` from scratch (must exit 0 with nothing quarantined);
   - no-op build: `itx build` again, nothing new;
   - one new release: the next snapshot dropped into the inbox, `itx build`;
   - as-of query: `itx asof <the middle snapshot's day>`;
   - the warehouse file's size;
   - the floor: benchmarks/floor.py, the same latest marts with plain DuckDB on the same CSV.

itx's own output goes to <tmp>/logs/ and is shown (its last 30 lines) only when a step fails.
Prints one table, also written as Markdown to benchmarks/results.md, and the growth exponent of
the full build's time and peak RSS between consecutive scales.

    python -m benchmarks.run [--scales 1,10,100,1000] [--keep DIR] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks import generate_record as gen

REPO_ROOT = gen.REPO_ROOT
BIN = Path(sys.executable).parent  # the venv's bin: itx and dbt lie beside its python
RESULTS_MD = REPO_ROOT / "benchmarks" / "results.md"
DAGSTER_YAML = REPO_ROOT / "dagster_home" / "dagster.yaml"
DEFAULT_SCALES = "1,10,100,1000"
DEFAULT_TIMEOUT_S = 1800
SAMPLE_S = 0.05
TAIL_LINES = 30
GB = 1024**3
MB = 1024**2
PAGE = os.sysconf("SC_PAGE_SIZE")

try:  # psutil when installed (dagster needs it only on Windows); else Linux's /proc
    import psutil
except ImportError:  # pragma: no cover - depends on the environment
    psutil = None


def progress(message: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# measuring a process tree


def _proc_tree_rss(root: int) -> int:
    """Summed RSS in bytes of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            pass
        stack.extend(children.get(pid, ()))
    return total


def tree_rss(root: int) -> int:
    if psutil is None:
        return _proc_tree_rss(root)
    try:
        parent = psutil.Process(root)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in processes:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


@dataclass
class Measurement:
    seconds: float
    peak_rss: int  # bytes
    returncode: int
    output: str
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


def measure(cmd: list[str], *, env: dict, log: Path, timeout: float) -> Measurement:
    """Run cmd as its own process group; its wall time and the peak summed RSS of its tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    done = threading.Event()
    peak = [0]
    timed_out = [False]
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss(proc.pid))
                if time.perf_counter() - start > timeout and not timed_out[0]:
                    timed_out[0] = True
                    _stop_group(proc.pid, done)
                done.wait(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except KeyboardInterrupt:
            done.set()
            _interrupt(proc)
            raise
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    # the largest single process the kernel saw, a floor for a process too short to sample
    peak_rss = max(peak[0], usage.ru_maxrss * 1024)
    return Measurement(seconds, peak_rss, proc.returncode, log.read_text(errors="replace"), timed_out[0])


def _stop_group(pgid: int, done: threading.Event) -> None:
    """SIGTERM the process group this runner started (itx stops cleanly), SIGKILL after 30 s."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not done.wait(30):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _interrupt(proc: subprocess.Popen) -> None:
    """Ctrl-C of the runner: stop the step's process group (it has its own session, so the
    terminal's SIGINT did not reach it), SIGKILL after 30 s, and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------------------------------------
# one scale


@dataclass
class Row:
    scale: float
    figures: int = 0
    releases: int = 0
    full: Measurement | None = None
    noop: Measurement | None = None
    new_release: Measurement | None = None
    asof: Measurement | None = None
    warehouse_bytes: int | None = None
    floor: Measurement | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return scale_label(self.scale)

    @property
    def peak_rss(self) -> int | None:
        peaks = [m.peak_rss for m in (self.full, self.noop, self.new_release, self.asof) if m is not None]
        return max(peaks) if peaks else None


def scale_label(scale: float) -> str:
    return f"{scale:g}x"


def bench_env(work: Path, max_file_mb: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ITX_RELEASES=str(work / "releases"),
        ITX_INBOX=str(work / "inbox"),
        ITX_WAREHOUSE=str(work / "warehouse.duckdb"),
        ITX_REPORTS=str(work / "reports"),
        ITX_GX_DIR=str(work / "gx"),
        DAGSTER_HOME=str(work / "dagster_home"),
        # the 1000x record is one file of ~180 MB: over the default limit of 20 MB per release file
        ITX_MAX_FILE_MB=str(max_file_mb),
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="False",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # dagster-dbt finds dbt on PATH
    )
    return env


def _failed(row: Row, step: str, m: Measurement, expect: str | None = None) -> bool:
    """Record and show a failed step (its last lines); False when the step went as expected."""
    reason = None
    if m.timed_out:
        reason = "timed out"
    elif m.returncode != 0:
        reason = f"exit {m.returncode}"
    elif "quarantined" in m.output:
        reason = "something was quarantined"
    elif expect and expect not in m.output:
        reason = f"output lacks {expect!r}"
    if reason is None:
        return False
    row.problems.append(f"{step}: {reason}")
    progress(f"[{row.label}] {step} FAILED ({reason}); its last {TAIL_LINES} lines:")
    print(m.tail(), flush=True)
    return True


def _step(row: Row, step: str, cmd: list[str], env: dict, work: Path, timeout: float) -> Measurement:
    progress(f"[{row.label}] {step} ...")
    m = measure(cmd, env=env, log=work / "logs" / f"{step.replace(' ', '_')}.log", timeout=timeout)
    progress(f"[{row.label}] {step}: {m.seconds:.2f} s, peak RSS {m.peak_rss / GB:.2f} GB, exit {m.returncode}")
    return m


def run_scale(scale: float, work: Path, timeout: float) -> Row:
    row = Row(scale)
    itx = str(BIN / "itx")
    progress(f"[{row.label}] generating the record in {work}")
    generated = gen.generate(scale, work)
    row.figures, row.releases = generated.plan.figures, generated.plan.releases
    next_day = generated.plan.next_day
    next_file = work / "next" / f"sbp_easydata_{next_day.isoformat()}.csv"
    gen.write_next_snapshot(scale, next_file)
    size_mb = generated.path.stat().st_size / MB
    progress(
        f"[{row.label}] {row.figures:,} figures, {row.releases} releases "
        f"({len(generated.plan.days)} snapshots), {size_mb:.1f} MB; next snapshot {next_day}"
    )
    (work / "inbox").mkdir(parents=True, exist_ok=True)
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    shutil.copy2(DAGSTER_YAML, work / "dagster_home" / "dagster.yaml")
    env = bench_env(work, max_file_mb(size_mb))

    row.full = _step(row, "full build", [itx, "build"], env, work, timeout)
    if not _failed(row, "full build", row.full):
        row.noop = _step(row, "no-op build", [itx, "build"], env, work, timeout)
        _failed(row, "no-op build", row.noop, expect="nothing new")
        shutil.copy2(next_file, work / "inbox" / next_file.name)
        row.new_release = _step(row, "one new release", [itx, "build"], env, work, timeout)
        _failed(row, "one new release", row.new_release)
        middle = generated.plan.middle_day.isoformat()
        row.asof = _step(row, f"as-of {middle}", [itx, "asof", middle], env, work, timeout)
        _failed(row, "as-of query", row.asof, expect="ict_total")
        warehouse = Path(env["ITX_WAREHOUSE"])
        row.warehouse_bytes = warehouse.stat().st_size if warehouse.exists() else None
    floor_cmd = [
        sys.executable,
        str(REPO_ROOT / "benchmarks" / "floor.py"),
        "--releases",
        str(work / "releases"),
        "--out",
        str(work / "floor.duckdb"),
    ]
    row.floor = _step(row, "floor", floor_cmd, env, work, timeout)
    _failed(row, "floor", row.floor)
    return row


def max_file_mb(size_mb: float) -> int:
    """ITX_MAX_FILE_MB for a record file of this size: the default 20, or above the file."""
    return max(20, math.ceil(size_mb * 1.2) + 1)


# ---------------------------------------------------------------------------------------------
# the table

COLUMNS = (
    "scale",
    "figures",
    "releases",
    "full build s",
    "no-op s",
    "one new release s",
    "as-of ms",
    "peak RSS GB",
    "warehouse MB",
    "floor s",
    "floor RSS GB",
    "full/floor ratio",
)


def _seconds(m: Measurement | None, scale: float = 1.0, digits: int = 1) -> str:
    if m is None:
        return "-"
    if not m.ok:
        return "failed"
    return f"{m.seconds * scale:,.{digits}f}"


def table_rows(rows: list[Row]) -> list[list[str]]:
    out = []
    for r in rows:
        ratio = "-"
        if r.full and r.full.ok and r.floor and r.floor.ok and r.floor.seconds > 0:
            ratio = f"{r.full.seconds / r.floor.seconds:,.0f}"
        out.append(
            [
                r.label,
                f"{r.figures:,}",
                f"{r.releases:,}",
                _seconds(r.full),
                _seconds(r.noop, digits=2),
                _seconds(r.new_release),
                _seconds(r.asof, scale=1000, digits=0),
                "-" if r.peak_rss is None else f"{r.peak_rss / GB:.2f}",
                "-" if r.warehouse_bytes is None else f"{r.warehouse_bytes / MB:,.1f}",
                _seconds(r.floor, digits=2),
                "-" if r.floor is None else f"{r.floor.peak_rss / GB:.2f}",
                ratio,
            ]
        )
    return out


def plain_table(rows: list[list[str]]) -> str:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]

    def line(cells):
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(COLUMNS) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def growth_exponents(rows: list[Row]) -> list[str]:
    """log(ratio of full build time) / log(ratio of figures) between consecutive scales; same for
    peak RSS. 1 is linear, 0 flat, 2 quadratic."""
    ok = [r for r in rows if r.full and r.full.ok and r.figures > 0]
    lines = []
    for a, b in zip(ok, ok[1:], strict=False):
        if b.figures == a.figures:
            continue
        figures = math.log(b.figures / a.figures)
        time_exp = math.log(b.full.seconds / a.full.seconds) / figures
        rss_exp = math.log(b.peak_rss / a.peak_rss) / figures if a.peak_rss and b.peak_rss else float("nan")
        lines.append(
            f"{a.label} -> {b.label}: full build time exponent {time_exp:.2f}, peak RSS exponent {rss_exp:.2f}"
        )
    return lines


def _machine() -> str:
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
        memory = f", {mem_kb / 1024**2:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        memory = ""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs{memory}, Python {platform.python_version()}"
    )


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_markdown(path: Path, rows: list[Row], exponents: list[str], started: datetime) -> None:
    problems = [f"- {r.label}: {p}" for r in rows for p in r.problems]
    text = [
        "# Benchmark results",
        "",
        f"`make bench` (python -m benchmarks.run) of {started:%Y-%m-%d %H:%M}, commit {_commit()}, on {_machine()}.",
        "See benchmarks/README.md for what each column measures.",
        "",
        markdown_table(table_rows(rows)),
        "",
    ]
    if exponents:
        text += ["Growth exponents (log ratio of the measure over log ratio of figures; 1 = linear):", ""]
        text += [f"- {e}" for e in exponents] + [""]
    if problems:
        text += ["Failed steps:", "", *problems, ""]
    path.write_text("\n".join(text))


# ---------------------------------------------------------------------------------------------


def parse_scales(text: str) -> list[float]:
    scales = []
    for part in text.split(","):
        part = part.strip().rstrip("x")
        if part:
            value = float(part)
            if value < 1:
                raise argparse.ArgumentTypeError(f"scale {part} is below 1 (1 is the bundled record)")
            scales.append(value)
    if not scales:
        raise argparse.ArgumentTypeError("no scale given")
    return scales


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description="make bench: see benchmarks/README.md"
    )
    parser.add_argument(
        "--scales",
        type=parse_scales,
        default=parse_scales(DEFAULT_SCALES),
        help=f"comma-separated scales (default {DEFAULT_SCALES}); 1 = the bundled record",
    )
    parser.add_argument("--keep", type=Path, help="keep each scale's files in DIR/scale-<k>x (default: temporary)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds before a step is stopped and reported (default {DEFAULT_TIMEOUT_S})",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_MD, help="the Markdown file of results")
    args = parser.parse_args(argv)

    if not (BIN / "itx").exists():
        print(f"benchmarks: {BIN / 'itx'} is missing; run `make install` first", file=sys.stderr)
        return 2
    started = datetime.now()
    progress(
        f"benchmark of scales {', '.join(scale_label(s) for s in args.scales)}; per-step timeout {args.timeout:g} s"
    )
    rows = []
    for scale in args.scales:
        if args.keep:
            work = args.keep.resolve() / f"scale-{scale_label(scale)}"
            if work.exists():
                shutil.rmtree(work)
            work.mkdir(parents=True)
        else:
            work = Path(tempfile.mkdtemp(prefix=f"itx-bench-{scale_label(scale)}-"))
        try:
            rows.append(run_scale(scale, work, args.timeout))
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    table = table_rows(rows)
    exponents = growth_exponents(rows)
    print()
    print(plain_table(table))
    if exponents:
        print()
        print("Growth exponents (log ratio over log ratio of figures; 1 = linear):")
        for line in exponents:
            print(f"  {line}")
    failed = [f"{r.label}: {p}" for r in rows for p in r.problems]
    if failed:
        print()
        print("Failed steps:")
        for line in failed:
            print(f"  {line}")
    write_markdown(args.results, rows, exponents, started)
    print(f"\nwritten to {args.results}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
