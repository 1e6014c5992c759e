"""Crawler throughput vs bare extraction: `python bench/crawl.py [--pages 1000]`.

Serves N generated article pages (about 600 words of story in ~60 KB of site chrome:
menus, scripts, styles, related links, comments, footer, as news sites serve) from a
local HTTP server listed in a sitemap, crawls them with the real crawler into a
fresh warehouse (`radar crawl` path: child process, robots.txt, pipelines,
language detection, dedup, batched writes), and extracts the same pages with
bare trafilatura in a loop (same options the crawler uses). Prints pages/s of
both and the ratio. Goal (issue 17): the crawler reaches at least 90% of bare extraction.

The crawl rate is taken over the crawl itself (crawl_runs.started_at ->
finished_at: fetching, extracting, storing); the end-to-end rate also counts
starting the crawler process (imports, language model), a fixed cost.

`--workers N` crawls the same pages as a distributed crawl instead: a redis-server
(/usr/bin/redis-server) on a free loopback port, one seeding `radar crawl` and N-1
`radar crawl --worker` processes sharing its queue (docs/crawling.md). The rate is
taken from the first crawl_runs.started_at to the last document's fetched_at (the
processes then wait `queue_idle` seconds before they stop). `--latency S` makes the
server answer each article S seconds late, like a remote site, so the politeness
limits rather than the CPU bound one process.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WORDS = (
    "council library transport housing budget residents service plan street park water energy "
    "school health care community bus station bridge museum grant climate heat pump scooter "
    "parking digital identity youth safety police fire market tax jobs wage rent planning permit "
    "green recycling waste air quality noise festival sport pool reading makerspace opening hours "
    "volunteer neighbourhood district mayor election vote consultation survey data privacy app "
    "broadband accessibility elderly childcare teacher hospital doctor nurse clinic ambulance the "
    "a of and to in for on with by from will new said more than after before city region"
).split()


def page(i: int) -> bytes:
    """An article page as news sites serve them (~60 KB): head with styles and scripts,
    a mega-menu, the story (~600 words), related links, comments, a long footer."""
    rng = random.Random(i)

    def words(n: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(n))

    paras = "".join(f"<p>{words(100).capitalize()}.</p>" for _ in range(6))
    menu = "".join(
        f'<li class="menu-item"><a href="/section/{s}/{k}">{words(2)}</a></li>'
        for s in range(12) for k in range(12))
    related = "".join(
        f'<li><a href="/news/related-{i}-{k}.html"><img src="/img/{k}.jpg" alt="">'
        f"<span>{words(8)}</span></a></li>" for k in range(20))
    comments = "".join(
        f'<div class="comment"><span class="user">reader{k}</span><p>{words(30)}</p></div>'
        for k in range(8))
    footer = "".join(f'<a href="/footer/{k}">{words(3)}</a> ' for k in range(80))
    script = "var config = {" + ",".join(f'"k{k}": "{words(3)}"' for k in range(120)) + "};"
    style = "".join(f".c{k} {{ margin: {k}px; padding: {k % 7}px; }}" for k in range(300))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Story {i} | Bench News</title><style>{style}</style><script>{script}</script>"
        f'<meta property="article:published_time" content="2025-0{1 + i % 9}-1{i % 10}">'
        f'</head><body><header><nav><ul class="menu">{menu}</ul></nav></header>'
        f'<main><article><h1>Story {i}: {words(6)}</h1><div class="byline">By {words(2)}'
        f'</div>{paras}</article><aside><h2>Related</h2><ul>{related}</ul></aside>'
        f'<section class="comments"><h2>Comments</h2>{comments}</section></main>'
        f"<footer>{footer}<p>Bench News, all rights reserved.</p></footer></body></html>"
    ).encode()


def serve(pages: dict[str, bytes], n: int, latency: float = 0.0,
          rendered: dict[int, bytes] | None = None) -> tuple[ThreadingHTTPServer, str]:
    """Serve the fixed pages, and article i (< n) at /news/story-{i}.html.

    Articles in `rendered` are served as stored bytes, like a static site; the rest
    are generated on request (~5 ms of CPU each, on the crawler's cores), so 100k
    pages cost no more memory than the rendered ones.
    """
    rendered = rendered if rendered is not None else {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            body = pages.get(self.path)
            m = re.fullmatch(r"/news/story-(\d+)\.html", self.path)
            if body is None and m and int(m.group(1)) < n:
                i = int(m.group(1))
                body = rendered.get(i) or page(i)
                if latency:
                    time.sleep(latency)
            status = 200 if body is not None else 404
            body = body if body is not None else b"not found"
            ctype = "application/xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Quiet(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            pass

    server = Quiet(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def bare_extraction(htmls: list[tuple[str, str]]) -> tuple[float, float]:
    """Wall and CPU seconds to extract every page with trafilatura alone (crawler's options)."""
    import trafilatura

    from crawlers.extract import DATE_PARAMS

    trafilatura.bare_extraction(htmls[0][1], with_metadata=True)  # warm up
    t0, c0 = time.perf_counter(), time.process_time()
    for url, html in htmls:
        trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                    include_tables=True, date_extraction_params=DATE_PARAMS)
    return time.perf_counter() - t0, time.process_time() - c0


def crawl(base: str, n: int, folder: Path, processes: int) -> dict:
    """Crawl the sitemap with the real crawler; returns counts and timings."""
    from crawlers.run import crawl_sources
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config

    config = folder / "radar.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrency = 16\n"
        f"concurrency_per_domain = 16\nbatch_size = 500\nextract_processes = {processes}\n"
        f"max_pages = {n + 10}\n"
        'allow_networks = ["127.0.0.1/32"]\n'  # the bench web serves on loopback
        "\n[[sources]]\nname = \"bench\"\ntype = \"sitemap\"\n"
        f"url = \"{base}/sitemap.xml\"\nchannel = \"news\"\n", encoding="utf-8")
    init_project(config)
    cfg = load_config(config)
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    (summary,) = crawl_sources(cfg, log_level="ERROR")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    ((started, finished, docs),) = warehouse.query(
        cfg.warehouse_path, "SELECT started_at, finished_at, "
        "(SELECT count(*) FROM documents) FROM crawl_runs")
    return {"pages": summary.pages, "documents": docs, "errors": summary.errors,
            "status": summary.status, "wall": wall, "cpu": cpu,
            "crawl": (finished - started).total_seconds()}


def distributed(base: str, n: int, folder: Path, processes: int, workers: int) -> dict:
    """Crawl the sitemap with one seeding crawl and workers - 1 workers on a real Redis."""
    from radar.app.init_project import init_project
    from radar.core import warehouse
    from radar.core.config import load_config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    redis = subprocess.Popen(["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no"], cwd=folder,
                             stdout=subprocess.DEVNULL)
    config = folder / "radar.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrency = 16\n"
        f"concurrency_per_domain = 8\nbatch_size = 200\nextract_processes = {processes}\n"
        f"max_pages = {n + 10}\nqueue = \"redis://127.0.0.1:{port}/0\"\nqueue_idle = 2.0\n"
        'allow_networks = ["127.0.0.1/32"]\n'
        "\n[[sources]]\nname = \"bench\"\ntype = \"sitemap\"\n"
        f"url = \"{base}/sitemap.xml\"\nchannel = \"news\"\n", encoding="utf-8")
    init_project(config)
    cfg = load_config(config)
    cmd = [sys.executable, "-m", "radar.app.cli", "--log-level", "error", "crawl",
           "--config", str(config)]
    t0 = time.perf_counter()
    try:
        procs = [subprocess.Popen(cmd + (["--worker"] if i else []), stdout=subprocess.DEVNULL)
                 for i in range(workers)]
        codes = [p.wait() for p in procs]
    finally:
        redis.terminate()
        redis.wait()
    wall = time.perf_counter() - t0
    ((started, last, docs, pages),) = warehouse.query(
        cfg.warehouse_path, "SELECT (SELECT min(started_at) FROM crawl_runs), "
        "(SELECT max(fetched_at) FROM documents), (SELECT count(*) FROM documents), "
        "(SELECT sum(pages) FROM crawl_runs)")
    per_process = [p for (p,) in warehouse.query(
        cfg.warehouse_path, "SELECT pages FROM crawl_runs ORDER BY run_id")]
    return {"pages": int(pages), "documents": docs, "codes": codes, "wall": wall,
            "crawl": (last - started).total_seconds(), "per_process": per_process}


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu or 'unknown CPU'}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="article pages (default 1000)")
    parser.add_argument("--extract-processes", type=int, default=2,
                        help="the crawler's [crawl] extract_processes (default 2, as in the config)")
    parser.add_argument("--bare-sample", type=int, default=2000,
                        help="pages extracted by bare trafilatura for its rate (default 2000)")
    parser.add_argument("--prerender", type=int, default=5000,
                        help="articles rendered before the crawl and served as stored bytes "
                             "(default 5000, ~36 KB each); the rest are built per request")
    parser.add_argument("--workers", type=int, default=0,
                        help="crawl processes sharing a Redis queue (default 0: one plain crawl)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds the server waits before each article (default 0)")
    args = parser.parse_args(argv)
    os.environ.setdefault("RADAR_PSEUDONYM_SALT", "bench-salt")
    n = args.pages
    pages: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nAllow: /\n"}
    # Rendered before timing: generating a page costs the server ~5 ms of CPU that
    # would compete with the crawler for the same 2 cores (bare extraction never pays it).
    rendered = {i: page(i) for i in range(min(n, args.prerender))}
    server, base = serve(pages, n, args.latency, rendered)
    paths = [f"/news/story-{i}.html" for i in range(n)]
    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    pages["/sitemap.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset '
        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>').encode()
    folder = Path(tempfile.mkdtemp(prefix="radar-bench-crawl-"))
    if args.workers:
        try:
            result = distributed(base, n, folder, args.extract_processes, args.workers)
        finally:
            server.shutdown()
            shutil.rmtree(folder, ignore_errors=True)
        print(f"distributed crawl benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
        print(f"pages served:            {n} (~{len(page(0)) // 1024} KB each, latency "
              f"{args.latency:g} s), extract_processes = {args.extract_processes}")
        print(f"crawl processes:         {args.workers} (1 seeding + {args.workers - 1} workers), "
              f"pages per process {result['per_process']}, exit codes {result['codes']}")
        print(f"crawl phase:             {result['crawl']:7.2f} s  "
              f"{result['pages'] / result['crawl']:7.1f} pages/s  ({result['documents']} documents)")
        print(f"end to end:              {result['wall']:7.2f} s  (start-up and 2 s idle included)")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        return 0 if result["documents"] == n else 1
    # Bare extraction's rate is per page: a sample measures it without holding
    # (or extracting) every page of a 100k run.
    sample = min(n, args.bare_sample)
    try:
        htmls = [(f"{base}/news/story-{i}.html", (rendered.get(i) or page(i)).decode())
                 for i in range(sample)]
        bare, bare_cpu = bare_extraction(htmls)
        del htmls
        result = crawl(base, n, folder, args.extract_processes)
    finally:
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    bare_rate = sample / bare
    crawl_rate = result["pages"] / result["crawl"]
    wall_rate = result["pages"] / result["wall"]
    print(f"crawl benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"pages served:            {n} (~{len(page(0)) // 1024} KB each), "
          f"extract_processes = {args.extract_processes}")
    print(f"bare trafilatura:        {bare:7.2f} s  {bare_rate:7.1f} pages/s  ({sample} pages)")
    print(f"crawler (crawl phase):   {result['crawl']:7.2f} s  {crawl_rate:7.1f} pages/s  "
          f"({result['pages']} pages incl. robots.txt and sitemap, {result['documents']} "
          f"documents, {result['errors']} errors, {result['status']})")
    print(f"crawler (end to end):    {result['wall']:7.2f} s  {wall_rate:7.1f} pages/s  "
          "(includes starting the crawler process)")
    print(f"ratio crawl/bare:        {crawl_rate / bare_rate:7.0%}  (goal >= 90%)")
    print(f"ratio end-to-end/bare:   {wall_rate / bare_rate:7.0%}")
    print(f"CPU per page:            bare {1000 * bare_cpu / sample:.1f} ms, crawler "
          f"{1000 * result['cpu'] / n:.1f} ms (all crawler processes, start-up included); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if result["documents"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
