"""The sizing model of docs/scale.md, from costs measured here: `python bench/sizing.py`.

Measures, on this machine, per document:
1. crawl: the real crawler (one worker process, `radar crawl`'s path) on N generated
   news pages (~600 words in ~60 KB of site chrome, bench/crawl.py) served on
   127.0.0.1: pages per second and CPU seconds per page;
2. analyze: `radar analyze`'s NLP stage on the crawled warehouse, step by step
   (nlp/costs.py): CPU seconds per passage for the per-document steps (splitting,
   spaCy, embedding, writing) and the per-run steps (topics, series, labels);
3. storage: warehouse bytes per document and per passage after analysis (less the
   size of an empty warehouse: its schema's blocks are a fixed cost).

Then prints what they imply: documents per day per worker core (crawl, analyze),
storage per million documents, and what watching S sources and D documents a day
takes (`--sources`, `--docs-per-day`, `--cores`). Network politeness, not CPU,
bounds a crawl of few sites: that bound is computed from `--per-site-interval`.

    python bench/sizing.py [--pages 400] [--embedder auto] [--sources 10000]
                           [--docs-per-day 1000000] [--cores 8] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import crawl as crawl_bench  # noqa: E402  (bench/crawl.py)

PER_DOC_STEPS = ("passages", "spacy", "embedding", "passages write")


def measure_crawl(pages: int, folder: Path) -> dict:
    site = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
    urls = "".join(f"<url><loc>BASE/news/story-{i}.html</loc></url>" for i in range(pages))
    server, base = crawl_bench.serve(site, pages)
    site["/sitemap.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
        f'"http://www.sitemaps.org/schemas/sitemap/0.9">{urls.replace("BASE", base)}</urlset>'
    ).encode()
    try:
        res = crawl_bench.crawl(base, pages, folder, processes=1)
    finally:
        server.shutdown()
    res["pages_per_s"] = res["documents"] / res["crawl"] if res["crawl"] else 0.0
    res["cpu_per_page"] = res["cpu"] / max(1, res["documents"])
    return res


def empty_warehouse_bytes(folder: Path) -> int:
    """A fresh warehouse's size: its schema's blocks, a fixed cost not counted per document."""
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config

    folder.mkdir(parents=True, exist_ok=True)
    init_project(folder / "radar.toml")
    cfg = load_config(folder / "radar.toml")
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("CHECKPOINT")
    return os.path.getsize(cfg.warehouse_path)


def measure_analyze(folder: Path, embedder: str) -> dict:
    from nlp.pipeline import analyze
    from radar.core import warehouse
    from radar.core.config import load_config

    config = folder / "radar.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text + f'\n[analysis]\nembedder = "{embedder}"\n', encoding="utf-8")
    cfg = load_config(config)
    t0 = time.perf_counter()
    summary = analyze(cfg)
    wall = time.perf_counter() - t0
    steps = summary.costs.as_dict()
    per_doc_cpu = sum(steps.get(s, {}).get("cpu", 0.0) for s in PER_DOC_STEPS)
    per_run_cpu = sum(v["cpu"] for k, v in steps.items() if k not in PER_DOC_STEPS)
    (docs, passages), = warehouse.query(
        cfg.warehouse_path, "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM passages)")
    with warehouse.write(cfg.warehouse_path) as con:
        con.execute("CHECKPOINT")
    size = os.path.getsize(cfg.warehouse_path) - empty_warehouse_bytes(folder / "empty")
    return {"documents": docs, "passages": passages, "wall": wall, "steps": steps,
            "cpu_per_passage": per_doc_cpu / max(1, passages),
            "cpu_per_run": per_run_cpu, "bytes": size,
            "bytes_per_document": size / max(1, docs), "bytes_per_passage": size / max(1, passages),
            "peak_rss_mb": max((v["peak_rss_mb"] for v in steps.values()), default=0.0)}


def model(crawl: dict, ana: dict, sources: int, docs_per_day: int, cores: int,
          per_site_interval: float, polls_per_day: int) -> dict:
    """What the measured costs imply (pure arithmetic; every input is printed beside it)."""
    day = 86_400
    passages_per_doc = ana["passages"] / max(1, ana["documents"])
    crawl_docs_per_core_day = day / crawl["cpu_per_page"] if crawl["cpu_per_page"] else 0.0
    analyze_docs_per_core_day = day / (ana["cpu_per_passage"] * passages_per_doc)
    index_fetches = sources * polls_per_day
    fetches = docs_per_day + index_fetches
    crawl_cores = fetches * crawl["cpu_per_page"] / day
    analyze_cores = docs_per_day * passages_per_doc * ana["cpu_per_passage"] / day
    # One site, fetched politely: one request per `per_site_interval` seconds at most.
    per_site_max = day / per_site_interval
    storage_per_million = ana["bytes_per_document"] * 1_000_000
    return {
        "passages_per_document": passages_per_doc,
        "crawl_documents_per_core_day": crawl_docs_per_core_day,
        "analyze_documents_per_core_day": analyze_docs_per_core_day,
        "fetches_per_day": fetches,
        "crawl_cores": crawl_cores,
        "analyze_cores": analyze_cores,
        "machines": math.ceil((crawl_cores + analyze_cores) / cores),
        "per_site_max_fetches_per_day": per_site_max,
        "storage_per_million_gb": storage_per_million / 1e9,
        "storage_per_day_gb": ana["bytes_per_document"] * docs_per_day / 1e9,
        "storage_per_year_tb": ana["bytes_per_document"] * docs_per_day * 365 / 1e12,
    }


def report(crawl: dict, ana: dict, m: dict, args) -> None:
    load = os.getloadavg()[0]
    print(f"\nmeasured on {os.cpu_count()} cores, load average {load:.1f}")
    print(f"crawl   : {crawl['documents']} pages in {crawl['crawl']:.1f} s = "
          f"{crawl['pages_per_s']:.1f} pages/s, {crawl['cpu_per_page'] * 1000:.1f} ms CPU per page "
          "(fetch, extract, dedup, store)")
    print(f"analyze : {ana['documents']} documents -> {ana['passages']} passages "
          f"({m['passages_per_document']:.2f} per document), {ana['wall']:.1f} s wall; "
          f"{ana['cpu_per_passage'] * 1000:.0f} ms CPU per passage (split, spaCy, embedding, "
          f"write) + {ana['cpu_per_run']:.0f} s CPU per run (topics, series, labels); "
          f"peak RSS {ana['peak_rss_mb']:.0f} MB")
    print(f"storage : {ana['bytes'] / 1e6:.1f} MB = {ana['bytes_per_document'] / 1e3:.1f} KB per "
          f"document, {ana['bytes_per_passage'] / 1e3:.1f} KB per passage")
    print("\nper worker core and day (CPU-bound, one core busy all day):")
    print(f"  crawl   {m['crawl_documents_per_core_day']:>12,.0f} pages")
    print(f"  analyze {m['analyze_documents_per_core_day']:>12,.0f} documents")
    print(f"  storage {m['storage_per_million_gb']:>12,.1f} GB per million documents")
    print(f"\n{args.sources:,} sources polled {args.polls_per_day}x a day + "
          f"{args.docs_per_day:,} new documents a day:")
    print(f"  fetches           {m['fetches_per_day']:>14,.0f} a day")
    print(f"  crawl CPU         {m['crawl_cores']:>14,.1f} cores busy all day")
    print(f"  analyze CPU       {m['analyze_cores']:>14,.1f} cores busy all day")
    print(f"  machines of {args.cores} cores {m['machines']:>10} (CPU only, no headroom)")
    print(f"  storage           {m['storage_per_day_gb']:>14,.1f} GB a day, "
          f"{m['storage_per_year_tb']:.1f} TB a year")
    print(f"  one site, one request per {args.per_site_interval:g} s: at most "
          f"{m['per_site_max_fetches_per_day']:,.0f} fetches a day from it")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=400)
    ap.add_argument("--embedder", default="auto")
    ap.add_argument("--sources", type=int, default=10_000)
    ap.add_argument("--docs-per-day", type=int, default=1_000_000)
    ap.add_argument("--polls-per-day", type=int, default=48, help="index fetches per source a day")
    ap.add_argument("--cores", type=int, default=8, help="cores per machine")
    ap.add_argument("--per-site-interval", type=float, default=1.0,
                    help="seconds between requests to one site (download_delay)")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-sizing-salt")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = args.work or Path(tempfile.mkdtemp(prefix="radar-sizing-"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    crawl = measure_crawl(args.pages, work)
    ana = measure_analyze(work, args.embedder)
    m = model(crawl, ana, args.sources, args.docs_per_day, args.cores, args.per_site_interval,
              args.polls_per_day)
    report(crawl, ana, m, args)
    if args.json:
        args.json.write_text(json.dumps({"crawl": crawl, "analyze": ana, "model": m,
                                         "load": os.getloadavg()[0]}, indent=2, default=str))


if __name__ == "__main__":
    main()
