"""What each scheduled analysis of `radar serve` costs, with the models kept loaded
between runs (nlp/loaded.py, what serve does) and loaded afresh by every run (before).

    python bench/serve_runs.py                       # builds a project from the UNGDC dev corpus
    python bench/serve_runs.py --project DIR         # an analysed project (copied, never touched)
    python bench/serve_runs.py --cycles 6 --share 0.01 --repeat 2

Each mode runs in its own child process on its own copy of the project, as serve runs:
the libraries are imported once, then every cycle edits `--share` of the documents (the
same documents in both modes: their text changes, so they are re-split, re-embedded and
re-assigned) and runs the NLP stage and the scoring. The first cycle of each mode pays
the imports; the later ones are the steady state. Prints wall and CPU seconds and the
resident memory after each cycle, and the vocabulary reloads.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-salt")


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def child(project: Path, mode: str, cycles: int, share: float) -> dict:
    from profile_analyze import edit_documents

    import radar.app.pipeline  # noqa: F401  (what serve has imported before its first run)
    from nlp.costs import cpu_seconds, peak_rss_mb
    from nlp.loaded import WarmModels
    from radar.app.analysis import analyze_and_score
    from radar.core.config import load_config

    cfg = load_config(project / "radar.toml")
    warm = WarmModels() if mode == "warm" else None
    out = []
    for c in range(cycles):
        edited = edit_documents(cfg, share, 1000 + c, f"(revised {1000 + c})")
        w0, c0 = time.perf_counter(), cpu_seconds()
        s, _ = analyze_and_score(cfg, warm=warm)  # as serve's scheduled runs do
        out.append({"edited": edited, "passages": s.new_passages, "wall": time.perf_counter() - w0,
                    "cpu": cpu_seconds() - c0, "rss_mb": rss_mb()})
    return {"mode": mode, "cycles": out, "peak_rss_mb": peak_rss_mb(),
            "reloads": warm.reloads if warm else None}


def build_project(work: Path) -> Path:
    """The dev corpus imported and analysed once (bench/profile_analyze.py's first phases)."""
    import profile_analyze as pa

    base = work / "base"
    pa.prepare(base, "auto", 0)
    pa.child(["--work", str(base), "--phase", "import", "--arg", "first.jsonl"], 3600)
    pa.child(["--work", str(base), "--phase", "analyze"], 7200)
    return base


def run_mode(project: Path, work: Path, mode: str, cycles: int, share: float, k: int) -> dict:
    copy = work / f"{mode}-{k}"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("*.lock*", "*.read.duckdb"))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--project", str(copy),
           "--cycles", str(cycles), "--share", str(share)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f"{mode} child failed ({proc.returncode})")
    shutil.rmtree(copy)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, help="an analysed project folder (radar.toml inside)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/radar-bench-serve"))
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--share", type=float, default=0.01)
    ap.add_argument("--repeat", type=int, default=1, help="alternate the two modes this often")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", choices=["fresh", "warm"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.project, args.child, args.cycles, args.share)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    project = args.project or build_project(args.work)
    runs = [run_mode(project, args.work, mode, args.cycles, args.share, k)
            for k in range(args.repeat) for mode in ("fresh", "warm")]
    print(f"{args.cycles} scheduled analyses of {project}, {args.share:.0%} of the documents "
          "edited before each; wall / CPU seconds (resident MB after the run)")
    for r in runs:
        cells = " | ".join(f"{c['wall']:.2f} / {c['cpu']:.2f} ({c['rss_mb']:.0f})" for c in r["cycles"])
        steady = r["cycles"][1:] or r["cycles"]
        mean = sum(c["wall"] for c in steady) / len(steady)
        print(f"{r['mode']:<5} {cells} | steady mean {mean:.2f} s | peak {r['peak_rss_mb']:.0f} MB"
              + (f" | reloads {r['reloads']}" if r["reloads"] is not None else ""))
    if args.json:
        args.json.write_text(json.dumps({"project": str(project), "share": args.share,
                                         "runs": runs}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
