"""How cost grows with corpus size: import, analyze (first and +1%), radar page and search.

    python bench/cost_curve.py                                  # 10k, 100k, 1M (hours on 2 cores)
    python bench/cost_curve.py --sizes 10000 100000 1000000 --only import dashboard
    python bench/cost_curve.py --sizes 10000 --only analyze
    python bench/cost_curve.py --plot-only                      # redraw from the saved figures

Each measurement runs in its own child process (peak RSS is that process's own):

- import: a generated JSON Lines corpus (bench/corpus.py: 200 themes, 40-120
  words a document) imported into a fresh warehouse with `radar import`'s code;
- analyze: bench/profile_analyze.py --generate N (first `radar analyze` with
  scoring on 99% of the corpus, then +1% new documents);
- radar page and search: bench/dashboard.py --documents N --topics N/100 (a
  warehouse built with SQL at that size, page renders under Streamlit's
  AppTest, cold cache) -- the radar page and the search page with a query.

Figures are merged into `--json` (default docs/performance-cost-curve.json) so
sizes can be measured in separate sittings, and the plot
(docs/performance-cost-curve.png) is redrawn from all of them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-salt")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def wait_child(cmd: list[str], timeout: float) -> tuple[str, float]:
    """Run a command; (its stdout, wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({proc.returncode}): {err[-3000:]}")
    return out, time.perf_counter() - t0


def children_cpu_seconds() -> float:
    """CPU time of this process's finished child processes (worker pools), if any."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def phase_import(n: int, folder: Path) -> dict:
    """Child: generate and import `n` documents."""
    import shutil

    from bench.corpus import generated_rows
    from crawlers.importer import import_file
    from nlp.costs import cpu_seconds, peak_rss_mb
    from radar.app.init_project import init_project
    from radar.core.config import load_config

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    src = folder / "rows.jsonl"
    with open(src, "w", encoding="utf-8") as fh:
        for row in generated_rows(n):
            fh.write(json.dumps(row) + "\n")
    init_project(folder / "radar.toml")
    cfg = load_config(folder / "radar.toml")
    w0, c0 = time.perf_counter(), cpu_seconds() + children_cpu_seconds()
    res = import_file(src, cfg.warehouse_path)
    wall, cpu = time.perf_counter() - w0, cpu_seconds() + children_cpu_seconds() - c0
    src.unlink()
    return {"wall": wall, "cpu": cpu, "peak_rss_mb": peak_rss_mb(), "new": res.new_documents,
            "size_mb": cfg.warehouse_path.stat().st_size / 1e6}


def measure_import(n: int, work: Path, timeout: float) -> dict:
    out, _ = wait_child([sys.executable, __file__, "--phase", "import", "--n", str(n),
                          "--work", str(work)], timeout)
    return json.loads(out.strip().splitlines()[-1])


def measure_analyze(n: int, work: Path, timeout: float) -> dict:
    js = work / f"analyze-{n}.json"
    wait_child([sys.executable, str(ROOT / "bench" / "profile_analyze.py"), "--generate", str(n),
                "--no-bare", "--work", str(work / f"analyze-{n}"), "--json", str(js)], timeout)
    rep = json.loads(js.read_text(encoding="utf-8"))
    return {"first_wall": rep["analyze"]["wall"], "first_cpu": rep["analyze"]["cpu"],
            "first_peak_rss_mb": rep["analyze"]["peak_rss_mb"],
            "incremental_wall": rep["incremental"]["wall"], "incremental_cpu": rep["incremental"]["cpu"],
            "incremental_peak_rss_mb": rep["incremental"]["peak_rss_mb"],
            "passages": rep["analyze"]["passages"], "steps": rep["analyze"]["costs"]}


_PAGE = re.compile(r"^\s*views/(\w+)\.py\s+([\d.]+) s\s+([\d.]+) s", re.M)


def measure_dashboard(n: int, work: Path, timeout: float) -> dict:
    out, wall = wait_child(
        [sys.executable, str(ROOT / "bench" / "dashboard.py"), "--dir", str(work / f"dash-{n}"),
         "--documents", str(n), "--topics", str(max(100, n // 100)), "--rebuild"], timeout)
    pages = {m.group(1): {"cold": float(m.group(2)), "warm": float(m.group(3))}
             for m in _PAGE.finditer(out)}
    built = re.search(r"built .* in (\d+) s", out)
    return {"radar_cold": pages.get("radar", {}).get("cold"),
            "radar_warm": pages.get("radar", {}).get("warm"),
            "search_cold": pages.get("search", {}).get("cold"),
            "build_s": float(built.group(1)) if built else None, "wall": wall, "pages": pages}


# (kind, key) of each curve: CPU seconds for the batch work (steady under a shared machine's
# load), wall seconds for the page renders (what a reader waits).
CPU_SERIES = {"import": ("import", "cpu"), "analyze, first run": ("analyze", "first_cpu"),
              "analyze, +1% documents": ("analyze", "incremental_cpu")}
PAGE_SERIES = {"radar page (cold cache)": ("dashboard", "radar_cold"),
               "search page (cold cache)": ("dashboard", "search_cold")}


def points(figures: dict, kind: str, key: str) -> list[tuple[int, float]]:
    """Measured (documents, value) pairs of one curve, by size."""
    return sorted((int(n), f[kind][key]) for n, f in figures.items()
                  if kind in f and f[kind].get(key) is not None)


def extrapolate(figures: dict, kind: str, key: str, sizes: list[int]) -> list[tuple[int, float]]:
    """Linear in documents from the largest measured size (per-document cost held constant;
    the batch work streams, so nothing in it grows faster than the corpus), for sizes above it."""
    pts = points(figures, kind, key)
    if not pts:
        return []
    n0, v0 = pts[-1]
    return [(n, v0 * n / n0) for n in sizes if n > n0]


def plot(figures: dict, png: Path, sizes: list[int]) -> None:
    """CPU seconds of the batch work and wall seconds of the pages against documents, log-log;
    extrapolated values dashed with open markers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=110)
    for ax, series, ylabel in ((left, CPU_SERIES, "CPU seconds (user + system)"),
                               (right, PAGE_SERIES, "seconds (wall, server side)")):
        for label, (kind, key) in series.items():
            pts = points(figures, kind, key)
            if not pts:
                continue
            line, = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
            if ax is left:
                ext = extrapolate(figures, kind, key, sizes)
                if ext:
                    ext = [pts[-1], *ext]
                    ax.plot([p[0] for p in ext], [p[1] for p in ext], linestyle="--",
                            marker="o", markerfacecolor="none", color=line.get_color(),
                            label=f"{label}, extrapolated")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("documents")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    left.set_title("import and analyze (CPU time)", fontsize=10)
    right.set_title("dashboard pages", fontsize=10)
    fig.suptitle("Horizon Radar cost curve, 2 shared cores (docs/performance.md)", fontsize=11)
    fig.tight_layout()
    fig.savefig(png)


def table(figures: dict, sizes: list[int]) -> str:
    """The figures as a Markdown table; extrapolated CPU values marked with '~'."""
    rows = ["| documents | import wall / CPU | analyze first wall / CPU | analyze +1% wall / CPU | "
            "radar page cold / warm | search page cold | load |", "|---|---|---|---|---|---|---|"]
    for n in sorted({*map(int, figures), *sizes}):
        f = figures.get(str(n), {})
        imp, ana, dash = f.get("import"), f.get("analyze"), f.get("dashboard")

        def cpu_only(kind, key, n=n):
            ext = dict(extrapolate(figures, kind, key, [n]))
            return f"~{ext[n]:,.0f} s CPU (extrapolated)" if n in ext else "-"

        cells = [f"{n:,}",
                 f"{imp['wall']:,.0f} s / {imp['cpu']:,.0f} s" if imp else cpu_only("import", "cpu"),
                 f"{ana['first_wall']:,.0f} s / {ana['first_cpu']:,.0f} s" if ana
                 else cpu_only("analyze", "first_cpu"),
                 f"{ana['incremental_wall']:,.0f} s / {ana.get('incremental_cpu', 0):,.0f} s" if ana
                 else cpu_only("analyze", "incremental_cpu"),
                 f"{dash['radar_cold']} s / {dash['radar_warm']} s" if dash else "-",
                 f"{dash['search_cold']} s" if dash else "-",
                 ", ".join(f"{x[k]['load']}" for k in ("import", "analyze", "dashboard")
                           if (x := f) and k in x and "load" in x[k]) or "-"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--only", nargs="+", choices=["import", "analyze", "dashboard"],
                    default=["import", "analyze", "dashboard"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/radar-cost-curve"))
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "performance-cost-curve.json")
    ap.add_argument("--png", type=Path, default=ROOT / "docs" / "performance-cost-curve.png")
    ap.add_argument("--timeout", type=float, default=4 * 3600)
    ap.add_argument("--plot-only", action="store_true")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase == "import":
        print(json.dumps(phase_import(args.n, args.work / f"import-{args.n}")))
        return
    figures = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {}
    if not args.plot_only:
        args.work.mkdir(parents=True, exist_ok=True)
        for n in args.sizes:
            row = figures.setdefault(str(n), {})
            for kind in args.only:
                fn = {"import": measure_import, "analyze": measure_analyze,
                      "dashboard": measure_dashboard}[kind]
                row[kind] = {**fn(n, args.work, args.timeout),
                             "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                             "load": round(os.getloadavg()[0], 1)}
                brief = {k: v for k, v in row[kind].items() if k not in ("steps", "pages")}
                print(f"{n:>9,} {kind:9s} {json.dumps(brief)}", flush=True)
                args.json.write_text(json.dumps(figures, indent=1, sort_keys=True), encoding="utf-8")
    plot(figures, args.png, args.sizes)
    print(table(figures, args.sizes))
    print(f"plot: {args.png}")


if __name__ == "__main__":
    main()
