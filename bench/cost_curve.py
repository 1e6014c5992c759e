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
    w0, c0 = time.perf_counter(), cpu_seconds()
    res = import_file(src, cfg.warehouse_path)
    wall, cpu = time.perf_counter() - w0, cpu_seconds() - c0
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
            "incremental_wall": rep["incremental"]["wall"],
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


def plot(figures: dict, png: Path) -> None:
    """Seconds against documents, log-log, one line per measurement."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {
        "import": ("import", "wall"),
        "analyze, first run": ("analyze", "first_wall"),
        "analyze, +1% documents": ("analyze", "incremental_wall"),
        "radar page (cold cache)": ("dashboard", "radar_cold"),
        "search page (cold cache)": ("dashboard", "search_cold"),
    }
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=110)
    for label, (kind, key) in series.items():
        pts = sorted((int(n), f[kind][key]) for n, f in figures.items()
                     if kind in f and f[kind].get(key) is not None)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("documents")
    ax.set_ylabel("seconds (wall)")
    ax.set_title("Horizon Radar cost curve (2 cores; see docs/performance.md)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png)


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
    plot(figures, args.png)
    print(f"plot: {args.png}")


if __name__ == "__main__":
    main()
