"""`radar demo`: from nothing to a live radar, by the path real data takes.

1. generate the seeded demo corpus and serve it as a local web on 127.0.0.1
   (news outlets with RSS feeds, policy sites with sitemaps of HTML and PDF
   papers, a Discourse forum);
2. write a `radar.toml` in the demo folder whose `[[sources]]` point at it,
   and initialise the warehouse (`radar init`);
3. crawl it with the real spiders, analyse (NLP, then scoring), build the
   search index;
4. start the dashboard and print its URL (unless `dashboard=False`).

A second `radar demo` on the same folder reuses what exists: the same corpus
(seed, scale and date are kept in `demo.json`), the same config and warehouse;
it does not crawl again once the warehouse holds documents, and the analysis
is incremental (an unchanged warehouse costs almost nothing). The demo web is
restarted on the same ports where possible, so links to the original documents
keep working while the dashboard runs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from crawlers.run import crawl_sources
from dashboard.launch import streamlit_command
from radar.app.demo.catalogue import catalogue_lines
from radar.app.demo.corpus import FORUM, NEWS_OUTLETS, POLICY_SITES, Corpus, generate
from radar.app.demo.site import DemoWeb
from radar.app.init_project import init_project
from radar.app.pipeline import analyze_stage, run_lock
from radar.core import warehouse
from radar.core.config import CrawlConfig, load_config

log = logging.getLogger(__name__)

DEFAULT_FOLDER = "radar-demo"
DEFAULT_SEED = 2026
Echo = Callable[[str], None]
ProgressFactory = Callable[[str], object] | None


@dataclass
class DemoResult:
    """What a demo run did."""

    folder: Path
    config_path: Path
    corpus: dict[str, int]
    crawled: bool
    documents: int
    passages: int
    topics: int
    radar: list[tuple] = field(default_factory=list)  # (label, ring, stage, score, area)
    seconds: dict[str, float] = field(default_factory=dict)
    dashboard_url: str | None = None


def demo_settings(folder: Path, seed: int, scale: float) -> dict:
    """The demo's seed, scale, date and ports: read from demo.json, else new."""
    path = folder / "demo.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    return {"seed": seed, "scale": scale, "generated_at": now.isoformat(), "ports": {}}


def write_config(path: Path, urls: dict[str, str], dashboard_port: int) -> None:
    """The demo's radar.toml: the local sites as sources, a fast crawl, monthly periods."""
    crawl_fields = {f.name for f in dataclasses.fields(CrawlConfig)}
    lines = [
        "# Horizon Radar demo configuration, written by `radar demo`.",
        "# The sources are the demo web that `radar demo` serves on 127.0.0.1.",
        "",
        "[warehouse]",
        'path = "radar.duckdb"',
        "",
        "[crawl]",
        'user_agent = "HorizonRadar-demo/0.1 (+https://github.com/horizon-radar)"',
        'contact = "demo@localhost"',
        "obey_robots = true",
        "autothrottle = false           # a local web: no need to slow down",
        "concurrency_per_domain = 8",
        "max_pages = 5000",
        "retry_times = 1",
        'allow_networks = ["127.0.0.1/32"]   # the demo web serves on loopback',
    ]
    if "download_delay" in crawl_fields:
        lines.append("download_delay = 0.0")
    for name, title in NEWS_OUTLETS.items():
        lines += _source(name, "feed", f"{urls[name]}/feed.xml", "news", title)
    for name, title in POLICY_SITES.items():
        lines += _source(name, "sitemap", f"{urls[name]}/sitemap.xml", "policy", title)
    lines += _source(FORUM, "forum", urls[FORUM], "citizen", "Riverton Voice forum (Discourse)")
    lines += [
        "", "[analysis]", 'period = "month"', "",
        "[dashboard]", f'base_url = "http://127.0.0.1:{dashboard_port}"', f"port = {dashboard_port}",
        "", "[schedule]", 'run = "0 */6 * * *"', "",
    ]
    lines += catalogue_lines()
    path.write_text("\n".join(lines), encoding="utf-8")


def _source(name: str, kind: str, url: str, channel: str, title: str) -> list[str]:
    lines = ["", f"# {title}", "[[sources]]", f'name = "{name}"', f'type = "{kind}"',
             f'url = "{url}"', f'channel = "{channel}"']
    if kind == "forum":
        lines.append("max_depth = 50                 # follow /latest.json pages back to the start")
    return lines


def _ports_from_config(path: Path) -> dict[str, int]:
    cfg = load_config(path)
    return {s.name: urlsplit(s.url).port for s in cfg.sources if urlsplit(s.url).port}


def start_web(corpus: Corpus, ports: dict[str, int], echo: Echo) -> DemoWeb:
    """Start the demo web on the remembered ports, or on free ones if they are taken."""
    try:
        return DemoWeb(corpus, ports=ports).start()
    except OSError as exc:
        echo(f"demo web: the previous ports are taken ({exc}); links to originals may not open")
        return DemoWeb(corpus).start()


def _bar(progress_factory: ProgressFactory, label: str):
    if progress_factory is None:
        from contextlib import nullcontext

        return nullcontext(None)
    return progress_factory(label)


def run_demo(folder: str | Path = DEFAULT_FOLDER, dashboard: bool = True, port: int = 8501,
             seed: int = DEFAULT_SEED, scale: float = 1.0, echo: Echo = print,
             progress: ProgressFactory = None, config_path: str | Path | None = None) -> DemoResult:
    """Build (or reuse) the demo warehouse in `folder` and optionally run the dashboard.

    The demo's own `radar.toml` goes to `config_path` (default `folder/radar.toml`).

    `progress(label)` returns a context manager with `update(done, total=, description=)`
    (e.g. `radar.core.progress.Progress`); `echo` receives one line per step.
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    config_path = Path(config_path).resolve() if config_path else folder / "radar.toml"
    settings = demo_settings(folder, seed, scale)
    times: dict[str, float] = {}
    t0 = time.monotonic()
    corpus = generate(settings["seed"], settings["scale"],
                      datetime.fromisoformat(settings["generated_at"]))
    ports = _ports_from_config(config_path) if config_path.exists() else {}
    web = start_web(corpus, ports, echo)
    times["generate"] = time.monotonic() - t0
    echo(f"demo web: {len(web.urls)} sites on 127.0.0.1 ({_describe(corpus)})")
    try:
        if not config_path.exists() or ports != _ports(web):
            write_config(config_path, web.urls, port)
        settings["ports"] = _ports(web)
        (folder / "demo.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
        init_project(config_path)
        cfg = load_config(config_path)
        with run_lock(cfg):  # never alongside a `radar run` on the demo folder
            crawled = _crawl_once(cfg, progress, echo, times)
            _analyze(cfg, progress, echo, times)
        result = DemoResult(
            folder, config_path, corpus.stats(), crawled,
            _count(cfg.warehouse_path, "documents"), _count(cfg.warehouse_path, "passages"),
            _count(cfg.warehouse_path, "topics"), radar_rows(cfg.warehouse_path), times,
        )
        _echo_radar(result, echo)
        echo("took: " + ", ".join(f"{k} {v:.0f}s" for k, v in times.items()))
        if dashboard:
            result.dashboard_url = f"http://127.0.0.1:{port}"
            run_dashboard(cfg, port, echo)
        return result
    finally:
        web.stop()


def _crawl_once(cfg, progress: ProgressFactory, echo: Echo, times: dict[str, float]) -> bool:
    """Crawl the demo web unless the warehouse already holds documents; True if it crawled."""
    documents = _count(cfg.warehouse_path, "documents")
    if documents:
        echo(f"reusing {documents} documents in {cfg.warehouse_path} (no new crawl)")
        return False
    t0 = time.monotonic()
    with _bar(progress, "crawling the demo web") as bar:
        rows = crawl_sources(cfg, progress=bar.update if bar else None)
    times["crawl"] = time.monotonic() - t0
    for r in rows:
        echo(f"crawl {r.source}: {r.pages} pages, {r.new_documents} new documents, "
             f"{r.errors} errors ({r.status})")
    return True


def _ports(web: DemoWeb) -> dict[str, int]:
    return {name: urlsplit(url).port for name, url in web.urls.items()}


def _describe(corpus: Corpus) -> str:
    s = corpus.stats()
    return (f"{s['articles']} news articles, {s['papers']} policy papers ({s['pdf_papers']} PDF), "
            f"{s['posts']} forum posts in {s['threads']} threads over {s['months']} months")


def _analyze(cfg, progress: ProgressFactory, echo: Echo, times: dict[str, float]) -> None:
    t0 = time.monotonic()
    with _bar(progress, "analysing") as bar:
        stage = analyze_stage(cfg, bar.update if bar else None)
    times["analyze"] = time.monotonic() - t0
    echo(f"analyse: {stage.detail}")


def _count(path: Path, table: str) -> int:
    with warehouse.read(path) as con:
        if not warehouse.table_exists(con, table):
            return 0
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # table: a constant


def radar_rows(path: Path, limit: int = 15) -> list[tuple]:
    """The latest radar's topics on a ring, closest rings and highest scores first."""
    with warehouse.read(path) as con:
        if not warehouse.table_exists(con, "radar_latest"):
            return []
        return con.execute(
            "SELECT label, ring, stage, round(score, 2), service_area FROM radar_latest "
            "WHERE ring IS NOT NULL ORDER BY list_position(['Act','Prepare','Watch','Monitor'], ring),"
            " score DESC LIMIT ?", [limit]).fetchall()


def _echo_radar(result: DemoResult, echo: Echo) -> None:
    echo(f"warehouse: {result.documents} documents, {result.passages} passages, "
         f"{result.topics} topics")
    if not result.radar:
        echo("radar: no topic on a ring yet")
    for label, ring, stage, score, area in result.radar:
        echo(f"  {ring:<8} {stage or '':<12} {score:>6}  {label}  [{area}]")


def run_dashboard(cfg, port: int, echo: Echo) -> None:
    """Run the dashboard until Ctrl-C (the demo web keeps serving the originals meanwhile)."""
    argv, env = streamlit_command(cfg, port=port)
    echo(f"dashboard: http://127.0.0.1:{port}  (Ctrl-C to stop)")
    child = subprocess.Popen(argv, env=env)

    def _stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _stop)  # `kill` stops the dashboard too
    try:
        child.wait()
    except KeyboardInterrupt:
        echo("stopping the dashboard")
    finally:
        signal.signal(signal.SIGTERM, previous)
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
