"""Run the crawl, analyse and dashboard benchmarks at 1k, 10k and 100k documents; one table.

    python bench/run_all.py                      # all three at 1k, 10k, 100k
    python bench/run_all.py --sizes 1000 10000   # fewer sizes
    python bench/run_all.py --only crawl analyze --json figures.json

Each benchmark script (bench/crawl.py, bench/analyze.py, bench/dashboard.py,
owned by their stages) runs in its own process with the size on its command
line. This script measures, from the outside and the same way for all of them:
wall time, throughput (documents per second of wall time) and peak memory (the
child's maximum resident set size from `wait4`), and per stage the growth of
cost with size: the exponent b in time ~ size^b between consecutive sizes
(1.0 = linear, under 1 = fixed costs dominate, over 1 = worse than linear).
The scripts' own last output lines (their detailed figures) are kept in the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SIZES = (1_000, 10_000, 100_000)

# How each stage's script takes its size (the stage owners' flags).
COMMANDS: dict[str, list[str]] = {
    "crawl": ["crawl.py", "--pages", "{n}"],
    "analyze": ["analyze.py", "--sizes", "{n}"],
    "dashboard": ["dashboard.py", "--documents", "{n}", "--topics", "{topics}",
                  "--dir", "{tmp}/dashboard-{n}", "--rebuild"],
}


@dataclass
class Figure:
    """One benchmark at one size."""

    stage: str
    size: int
    seconds: float
    peak_mb: float
    exit_code: int
    throughput: float = 0.0
    growth: float | None = None  # exponent against the previous size
    tail: list[str] = field(default_factory=list)


def run_one(stage: str, size: int, timeout: float) -> Figure:
    """Run one benchmark process and measure its wall time and peak RSS."""
    script, *args = COMMANDS[stage]
    # The dashboard bench's 1M/10k ratio: one topic per hundred documents.
    slots = {"n": size, "topics": max(10, size // 100), "tmp": tempfile.gettempdir() + "/radar-bench-all"}
    argv = [sys.executable, str(BENCH / script), *(a.format(**slots) for a in args)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            text=True)
    lines: list[str] = []
    deadline = t0 + timeout
    for line in proc.stdout:
        lines.append(line.rstrip())
        if time.perf_counter() > deadline:
            proc.kill()
            lines.append(f"killed after {timeout:.0f}s")
            break
    proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    return Figure(stage, size, seconds, peak_mb, code, size / seconds if seconds else 0.0,
                  tail=lines[-15:])


def add_growth(figures: list[Figure]) -> None:
    """Set each figure's cost-growth exponent against the previous size of its stage."""
    by_stage: dict[str, list[Figure]] = {}
    for f in figures:
        by_stage.setdefault(f.stage, []).append(f)
    for items in by_stage.values():
        items.sort(key=lambda f: f.size)
        for prev, cur in zip(items, items[1:], strict=False):
            if prev.exit_code == 0 and cur.exit_code == 0 and prev.seconds > 0:
                cur.growth = math.log(cur.seconds / prev.seconds) / math.log(cur.size / prev.size)


def table(figures: list[Figure]) -> str:
    """The figures as one fixed-width table."""
    head = f"{'stage':<10} {'docs':>8} {'wall s':>9} {'docs/s':>9} {'peak MB':>9} {'growth':>7}  status"
    rows = [head, "-" * len(head)]
    for f in figures:
        growth = f"{f.growth:.2f}" if f.growth is not None else "-"
        status = "ok" if f.exit_code == 0 else f"exit {f.exit_code}"
        rows.append(f"{f.stage:<10} {f.size:>8} {f.seconds:>9.1f} {f.throughput:>9.1f} "
                    f"{f.peak_mb:>9.0f} {growth:>7}  {status}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Run the suite and print the table; exit 1 if any benchmark failed."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--only", nargs="+", choices=list(COMMANDS), default=list(COMMANDS))
    ap.add_argument("--timeout", type=float, default=3600, help="Seconds per benchmark run.")
    ap.add_argument("--json", type=Path, help="Also write the figures (and script output) here.")
    ap.add_argument("--verbose", action="store_true",
                    help="Also print the last lines of each script's own report.")
    args = ap.parse_args(argv)
    missing = [s for s in args.only if not (BENCH / COMMANDS[s][0]).exists()]
    if missing:
        print(f"missing benchmark scripts: {', '.join(COMMANDS[s][0] for s in missing)}",
              file=sys.stderr)
        return 2
    figures = []
    for stage in args.only:
        for size in sorted(args.sizes):
            print(f"running {stage} at {size} documents ...", file=sys.stderr, flush=True)
            fig = run_one(stage, size, args.timeout)
            if fig.exit_code:
                print("\n".join(fig.tail), file=sys.stderr)
            figures.append(fig)
    add_growth(figures)
    print(f"Horizon Radar benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(table(figures))
    print("growth: exponent b in time ~ size^b against the previous size (1.0 = linear)")
    if args.verbose:
        for f in figures:
            print(f"\n--- {f.stage} at {f.size} documents (the script's own figures)")
            print("\n".join(f.tail))
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2), encoding="utf-8")
    return 1 if any(f.exit_code for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
