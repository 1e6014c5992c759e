"""Where `radar analyze` spends its time, step by step, against the bare model.

    python bench/profile_analyze.py                       # the UNGDC dev corpus, configured embedder
    python bench/profile_analyze.py --embedder torch      # the same with the torch embedder
    python bench/profile_analyze.py --generate 10000      # a generated corpus instead
    python bench/profile_analyze.py --demo                # the demo's documents (monthly)
    python bench/profile_analyze.py --no-bare             # skip the bare-model reference

One bench run does, each in a fresh child process (so each peak RSS is its own):

1. import: the corpus imported into a fresh warehouse (`[analysis] period =
   "year"`). The UNGDC rows' URLs end in `#p<N>`; they are rewritten to `/p<N>`
   in a temporary copy so that every paragraph is its own document. With `--demo`, the
   documents `radar demo` crawled (built in `--demo-folder` if it is not there yet),
   analysed with the demo's radar.toml (`period = "month"`, its service catalogue).
2. analyze: the first `radar analyze` (NLP stage + radar scoring, under the
   writer lock, then the decision loop, as the command runs them) with wall
   time, CPU time (all threads) and peak RSS per step: passages (split and
   write), spaCy, embedding, embedding write, topics (fit), series, labels,
   areas, scoring, decision loop; and how many cores were busy, second by second.
3. incremental: 1% more documents (held-out paragraphs, never seen by the
   first run) imported and `radar analyze` run again, `--repeat` times (3), each
   from the state the first run left, the median reported; and 1% of the first
   documents edited (their text changes), which must re-split, re-embed and
   re-assign them.
4. bare: sentence-transformers `encode` (torch, batch 32, normalised) of the
   same passage texts the pipeline embedded, the issue's reference.

Prints one table, and writes every figure as JSON (`--json`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNGDC = ROOT.parent / "shared" / "fixtures" / "ungdc-dev" / "paragraphs_1990_2007.jsonl"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-salt")

HOLDOUT = 0.01


def corpus_rows(generate: int, seed: int = 7, limit: int = 0, demo: Path | None = None) -> list[dict]:
    """The UNGDC paragraphs (URLs made unique), `generate` synthetic policy paragraphs, or
    the documents of the demo in folder `demo`."""
    if demo is not None:
        from bench.demo_corpus import demo_rows

        return demo_rows(demo)
    if generate:
        from bench.corpus import generated_rows

        return list(generated_rows(generate, seed=seed))
    rows = []
    with open(UNGDC, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            url, _, para = r["url"].partition("#p")
            r["url"] = f"{url}/p{para}" if para else url
            rows.append(r)
    if limit:  # a seeded sample of the paragraphs (peak memory does not need the whole corpus)
        rows = [rows[i] for i in sorted(random.Random(13).sample(range(len(rows)), min(limit, len(rows))))]
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def prepare(work: Path, embedder: str, generate: int, limit: int = 0,
            demo: Path | None = None) -> dict:
    """A fresh project folder; the corpus split into first import and held-out 1%."""
    import shutil

    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    # A first analysis as a user's first: without spaCy's token-type tables that earlier
    # runs kept in the model cache (nlp/lemma_table.py); the incremental runs load its own.
    from nlp.onnx_embedder import default_cache_dir

    shutil.rmtree(default_cache_dir() / "spacy", ignore_errors=True)
    rows = corpus_rows(generate, limit=limit, demo=demo)
    rng = random.Random(11)
    held = set(rng.sample(range(len(rows)), max(1, round(len(rows) * HOLDOUT))))
    first = [r for i, r in enumerate(rows) if i not in held]
    write_jsonl(work / "first.jsonl", first)
    write_jsonl(work / "more.jsonl", [r for i, r in enumerate(rows) if i in held])
    if demo is not None:
        from bench.demo_corpus import demo_config

        config = demo_config(demo, embedder)
    else:
        config = ('[warehouse]\npath = "radar.duckdb"\n\n[analysis]\nperiod = "year"\n'
                  f'embedder = "{embedder}"\n')
    (work / "radar.toml").write_text(config, encoding="utf-8")
    return {"documents": len(rows), "first": len(first), "held_out": len(held)}


def machine(embedder: str) -> dict:
    """What the figures were measured on: sessions land on different CPUs (an AVX2 EPYC, a
    VNNI EPYC, an AMX Xeon so far), whose ratios to the bare encode differ by half."""
    from nlp.embedders import INT8_FLAGS, cpu_flags, resolve_embedder
    from nlp.onnx_embedder import available_cores

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            cpu = next((line.partition(":")[2].strip() for line in fh
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"cpu": cpu, "cores": available_cores(),
            "int8_flags": sorted(INT8_FLAGS & cpu_flags()), "embedder": resolve_embedder(embedder)}


def child(args: list[str], timeout: float) -> dict:
    """Run this script as a child for one phase; its last stdout line is JSON."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f"child {args[:2]} failed ({proc.returncode})")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall"] = time.perf_counter() - t0
    return out


# ---- phases, each run in a child process -------------------------------------------------------

def phase_import(work: Path, name: str) -> dict:
    from crawlers.importer import import_file
    from nlp.costs import StepCosts
    from radar.app.init_project import init_project
    from radar.core.config import load_config

    costs = StepCosts()
    with costs.step("import"):
        init_project(work / "radar.toml")
        cfg = load_config(work / "radar.toml")
        res = import_file(work / name, cfg.warehouse_path)
    return {"new_documents": res.new_documents, "bad": len(res.bad_rows), "costs": costs.as_dict()}


def phase_analyze(work: Path) -> dict:
    from nlp.costs import StepCosts, cores_busy, cpu_seconds, peak_rss_mb
    from radar.core.config import load_config

    w0, c0 = time.perf_counter(), cpu_seconds()
    with cores_busy() as busy:
        # What `radar analyze` loads before it runs (it once pulled in spaCy and torch here).
        importlib.import_module("radar.app.cli.analysis")
        from radar.app.analysis import analyze_and_score
        from radar.app.cli.common import writing
        from radar.app.pipeline import decision_loop

        cfg = load_config(work / "radar.toml")
        # As `radar analyze` runs them: under the writer lock (runs left running settled),
        # the radar planned beside the NLP stage's refresh ("scoring", its thread's own CPU),
        # then stored ("scoring write"), then the decision loop.
        with writing(cfg, "radar analyze"):
            s, scored = analyze_and_score(cfg)
        costs: StepCosts = s.costs
        with costs.step("decision loop"):
            decision_loop(cfg)
    return {"costs": costs.as_dict(), "wall": time.perf_counter() - w0, "cpu": cpu_seconds() - c0,
            "cores_busy": busy,
            "peak_rss_mb": peak_rss_mb(), "new_documents": s.new_documents,
            "passages": s.new_passages, "embedded": s.embedded, "action": s.action,
            "topics": s.topics, "outliers": s.outliers,
            "signals": getattr(scored, "signals", None),
            "heavy_modules": sorted(m for m in ("torch", "transformers", "sentence_transformers",
                                                "bertopic", "umap", "numba", "pynndescent")
                                    if sys.modules.get(m) is not None)}


def phase_edit(work: Path, share: float) -> dict:
    """Change the text of `share` of the documents, as a crawler storing a new version does."""
    from radar.core.config import load_config

    return {"edited": edit_documents(load_config(work / "radar.toml"), share, 5, "(revised)")}


def edit_documents(cfg, share: float, seed: int, mark: str) -> int:
    """Change the text of a seeded random `share` of the documents (their words rotated,
    `mark` appended) with a new content hash; returns how many were edited."""
    from radar.core import warehouse
    from radar.core.documents import content_hash

    ids = [r[0] for r in warehouse.query(cfg.warehouse_path,
                                         "SELECT doc_id FROM documents ORDER BY doc_id")]
    pick = random.Random(seed).sample(ids, max(1, round(len(ids) * share)))
    with warehouse.write(cfg.warehouse_path) as con:
        for doc_id in pick:
            text = con.execute("SELECT text FROM documents WHERE doc_id = ?", [doc_id]).fetchone()[0]
            words = text.split()
            new = " ".join(words[len(words) // 2:] + words[: len(words) // 2]) + f" {mark}"
            con.execute("UPDATE documents SET text = ?, content_hash = ? WHERE doc_id = ?",
                        [new, content_hash(new), doc_id])
    return len(pick)


def phase_bare(work: Path, batch: int, sample: int = 0) -> dict:
    """sentence-transformers encode (torch) of the passages the pipeline embedded (or of a
    seeded random `sample` of them, its time scaled to all: on a busy machine the full
    reference run can take as long as the analysis)."""
    from nlp.costs import cpu_seconds, peak_rss_mb
    from nlp.embeddings import resolve_model_path
    from nlp.preprocess import embedding_text
    from radar.core import warehouse
    from radar.core.config import load_config

    cfg = load_config(work / "radar.toml")
    texts = [embedding_text(r[0]) for r in warehouse.query(
        cfg.warehouse_path, "SELECT text FROM passages ORDER BY passage_id")]
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolve_model_path(cfg.analysis.embedding_model)), device="cpu",
                                local_files_only=True)
    total = len(texts)
    pick = sorted(random.Random(3).sample(range(total), sample)) if 0 < sample < total else None
    if pick is not None:
        texts = [texts[i] for i in pick]
    w0, c0 = time.perf_counter(), cpu_seconds()
    vectors = model.encode(texts, batch_size=batch, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
    wall, cpu = time.perf_counter() - w0, cpu_seconds() - c0
    scale = total / len(texts)  # a sample's time extrapolated to every passage
    # Agreement of the stored vectors (whatever embedder the pipeline used) with torch's.
    import numpy as np

    from nlp.embeddings import vectors_from_arrow

    with warehouse.read(cfg.warehouse_path) as con:
        tbl = con.execute("SELECT e.vector FROM passages p JOIN passage_embeddings e USING "
                          "(passage_id) ORDER BY p.passage_id").to_arrow_table()
    stored = vectors_from_arrow(tbl["vector"])
    if pick is not None and len(stored) == total:
        stored = stored[pick]
    out = {"passages": total, "sampled": len(texts), "wall": wall * scale, "cpu": cpu * scale,
           "sample_wall": wall, "peak_rss_mb": peak_rss_mb(), "per_s": len(texts) / wall}
    if stored.shape == vectors.shape:  # not for the static embedder: another space, other size
        cos = (stored * vectors).sum(axis=1)
        out.update(cosine_mean=float(cos.mean()), cosine_min=float(cos.min()),
                   cosine_p1=float(np.percentile(cos, 1)))
    return out


def backtest_snapshot(work: Path, events: Path, timeout: float) -> dict:
    """`radar backtest EVENTS` on a copy of the warehouse after the first analyze."""
    import shutil

    snap = work / "first"
    snap.mkdir(exist_ok=True)
    shutil.copy(work / "radar.duckdb", snap / "radar.duckdb")
    shutil.copy(work / "radar.toml", snap / "radar.toml")
    for salt in work.glob("*salt*"):
        shutil.copy(salt, snap / salt.name)
    cmd = [sys.executable, "-m", "radar.app.cli", "backtest", str(events), "--config",
           str(snap / "radar.toml"), "--json", str(snap / "backtest.json")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=snap)
    (snap / "backtest.txt").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    rep = json.loads((snap / "backtest.json").read_text(encoding="utf-8"))
    return {**summarise_backtest(rep), "report": rep}


def keep_state(work: Path, restore: Path | None = None) -> Path:
    """Copy what `radar analyze` changes (the warehouse, its reader copy, the model cache)
    aside, or with `restore`, put that copy back; returns the copy's folder."""
    import shutil

    kept = restore or work / "kept"
    src, dst = (kept, work) if restore else (work, kept)
    if not restore:
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir()
    for name in ("radar.duckdb", "radar.read.duckdb", "radar.models"):
        if (dst / name).is_dir():
            shutil.rmtree(dst / name)
        if (src / name).is_dir():
            shutil.copytree(src / name, dst / name)
        elif (src / name).exists():
            shutil.copy(src / name, dst / name)
    return kept


def summarise_backtest(rep: dict) -> dict:
    """The headline detection figures of a backtest report (radar/backtest.py)."""
    events = rep.get("events", [])
    return {"events": len(events), "detected": sum(bool(e.get("detected")) for e in events),
            "recall": rep.get("recall"), "mean_delay": rep.get("mean_delay"),
            "ranks": [e.get("rank") for e in events],
            "lags": [e.get("lag_periods") for e in events],
            "precision_at_k": rep.get("precision_at_k"), "ideal": rep.get("ideal_precision_at_k"),
            "false_alarms": len(rep.get("false_alarms") or []), "stable_topics": rep.get("stable_topics"),
            "topics": rep.get("topics")}


# ---- the bench -------------------------------------------------------------------------------------

def print_costs(title: str, res: dict) -> None:
    print(f"\n{title}: wall {res['wall']:.1f} s (process {res['process_wall']:.1f} s), "
          f"CPU {res['cpu']:.1f} s, peak RSS {res['peak_rss_mb']:.0f} MB; "
          f"{res.get('passages', 0)} passages, {res.get('embedded', 0)} embedded, "
          f"topics {res.get('action')}: {res.get('topics')} active, {res.get('outliers')} outliers")
    print(f"heavy modules loaded: {', '.join(res.get('heavy_modules') or []) or 'none'}")
    print("| step | wall s | CPU s | peak RSS MB so far | RSS MB after |\n|---|---|---|---|---|")
    for name, c in res["costs"].items():
        print(f"| {name} | {c['wall']:.1f} | {c['cpu']:.1f} | {c['peak_rss_mb']:.0f} | "
              f"{c.get('rss_mb', 0):.0f} |")
    busy = [c for _, c in res.get("cores_busy") or []]
    if busy:  # where a core stood idle (steps overlap in threads, so the table cannot say)
        print(f"cores busy, second by second (mean {sum(busy) / len(busy):.2f}): "
              + " ".join(f"{c:.1f}" for c in busy))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path("/tmp/radar-profile"))
    ap.add_argument("--embedder", default="auto", help="[analysis] embedder for the run")
    ap.add_argument("--generate", type=int, default=0, help="generated documents instead of UNGDC")
    ap.add_argument("--limit", type=int, default=0, help="only this many UNGDC paragraphs (sampled)")
    ap.add_argument("--demo", action="store_true", help="the demo's documents instead of UNGDC")
    ap.add_argument("--demo-folder", type=Path, default=Path("/tmp/radar-profile-demo"),
                    help="where the demo is built (or reused) for --demo")
    ap.add_argument("--no-bare", action="store_true", help="skip the bare sentence-transformers run")
    ap.add_argument("--no-incremental", action="store_true")
    ap.add_argument("--batch", type=int, default=32, help="bare encode batch size")
    ap.add_argument("--bare-sample", type=int, default=0,
                    help="time the bare encode on this many passages and scale (0: all)")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--events", type=Path, default=None,
                    help="events CSV for radar backtest (default: the UNGDC events)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="+1%% runs, each from the first analyze's state (the median is "
                         "reported; the slower middle one of an even count)")
    ap.add_argument("--phase", help=argparse.SUPPRESS)
    ap.add_argument("--arg", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:  # child process
        work = args.work
        out = {"import": lambda: phase_import(work, args.arg), "analyze": lambda: phase_analyze(work),
               "edit": lambda: phase_edit(work, float(args.arg)),
               "bare": lambda: phase_bare(work, args.batch, args.bare_sample)}[args.phase]()
        print(json.dumps(out))
        return
    work = args.work
    from bench.bytecode import compile_project

    compile_project()  # the bytecode an installed radar has (bench/bytecode.py)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load0 = os.getloadavg()[0]
    report: dict = {"started": started, "embedder": args.embedder, "load_start": load0,
                    "corpus": prepare(work, args.embedder, args.generate, args.limit,
                                      args.demo_folder if args.demo else None)}
    base = ["--work", str(work)]
    report["import"] = child([*base, "--phase", "import", "--arg", "first.jsonl"], args.timeout)
    report["analyze"] = child([*base, "--phase", "analyze"], args.timeout)
    events = args.events or (None if args.generate or args.limit else UNGDC.parent / "events.csv")
    if args.demo and not args.events:  # the planted themes (bench/signal_quality.py)
        from bench.signal_quality import demo_events

        events = demo_events(args.demo_folder.resolve())
    if events:  # detection on a copy of the warehouse as the first run left it
        report["backtest"] = backtest_snapshot(work, Path(events), args.timeout)
    if not args.no_incremental:
        # One +1% run moves by a tenth with this machine's pace: each repeat starts from the
        # warehouse and model cache as the first analyze left them; the median is reported.
        kept = keep_state(work)
        runs = []
        for i in range(max(1, args.repeat)):
            if i:
                keep_state(work, restore=kept)
            report["import_more"] = child([*base, "--phase", "import", "--arg", "more.jsonl"],
                                          args.timeout)
            runs.append(child([*base, "--phase", "analyze"], args.timeout))
        report["incremental_runs"] = runs
        report["incremental"] = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
        report["edit"] = child([*base, "--phase", "edit", "--arg", str(HOLDOUT)], args.timeout)
        report["edited"] = child([*base, "--phase", "analyze"], args.timeout)
    if not args.no_bare:
        report["bare"] = child([*base, "--phase", "bare", "--batch", str(args.batch),
                                "--bare-sample", str(args.bare_sample)], args.timeout)
    report["load_end"] = os.getloadavg()[0]

    c = report["corpus"]
    m = report["machine"] = machine(args.embedder)
    print(f"machine: {m['cpu']}, {m['cores']} cores, int8 flags {', '.join(m['int8_flags']) or 'none'}"
          f" (embedder {args.embedder} = {m['embedder']} here)")
    print(f"profile of radar analyze, {started}, embedder {args.embedder}, load average "
          f"{load0:.1f} -> {report['load_end']:.1f}; {c['first']} documents first, "
          f"{c['held_out']} held out for the +1% run")
    imp = report["import"]["costs"]["import"]
    print(f"import: {imp['wall']:.1f} s wall, {imp['cpu']:.1f} s CPU, {imp['peak_rss_mb']:.0f} MB")
    print_costs("first analyze", report["analyze"])
    if "incremental" in report:
        print_costs("+1% documents", report["incremental"])
        print_costs(f"{report['edit']['edited']} documents edited", report["edited"])
    first = report["analyze"]
    if "bare" in report:
        b = report["bare"]
        sampled = f" (timed on {b['sampled']} of them, scaled)" if b["sampled"] < b["passages"] else ""
        print(f"\nbare sentence-transformers encode (torch, batch {args.batch}) of the same "
              f"{b['passages']} passages{sampled}: {b['wall']:.1f} s wall ({b['per_s']:.1f}/s), "
              f"{b['cpu']:.1f} s CPU, peak RSS {b['peak_rss_mb']:.0f} MB")
        if "cosine_mean" in b:
            print(f"stored vectors vs torch: cosine mean {b['cosine_mean']:.4f}, 1st percentile "
                  f"{b['cosine_p1']:.4f}, min {b['cosine_min']:.4f}")
        print(f"first analyze / bare encode: wall {first['wall'] / b['wall']:.2f} "
              f"(goal <= 0.6), CPU {first['cpu'] / b['cpu']:.2f}")
    if "incremental" in report:
        walls = ", ".join(f"{r['wall']:.1f}" for r in report["incremental_runs"])
        print(f"+1% / first: wall {report['incremental']['wall'] / first['wall']:.1%} (goal <= 5%; "
              f"median of {len(report['incremental_runs'])} runs: {walls} s); "
              f"1% edited / first: {report['edited']['wall'] / first['wall']:.1%}")
    if "backtest" in report:
        bt = report["backtest"]
        print(f"detection (radar backtest on the first run's warehouse): "
              f"{ {k: v for k, v in bt.items() if k != 'report'} }")
        if "report" in bt:  # the figures bench/signal_quality.py prints (docs/scoring.md)
            from bench.signal_quality import summary

            print("\n".join(summary(f"{c.get('documents')} documents", {
                "report": bt["report"], "seconds": {}})[:-1]))
    print(f"peak RSS of the first analyze: {first['peak_rss_mb']:.0f} MB (goal <= 1024)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
