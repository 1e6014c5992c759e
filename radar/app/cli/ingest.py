"""Ingestion commands: `radar import` (archives) and `radar crawl` (the configured sources)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from crawlers import distributed
from crawlers.import_files import ImportFileError
from crawlers.importer import DateWindow, import_file
from crawlers.run import crawl_sources
from radar.app.cli.common import (
    config_option,
    fail,
    friendly_errors,
    load,
    writing,
    writing_shared,
)
from radar.core.progress import Progress

QUEUE_EXIT = 4  # the shared crawl queue ([crawl] queue) cannot be reached


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--source", help="Source name for every row (overrides the file's column).")
@click.option(
    "--channel",
    type=click.Choice(["news", "policy", "citizen"]),
    help="Channel for every row (overrides the file's column).",
)
@config_option
@friendly_errors
def import_(file: Path, source: str | None, channel: str | None, config_path: Path) -> None:
    """Load documents from JSON Lines, CSV or Parquet (url, title, text, published_at, source,
    channel, author, id). Every row is accounted for: stored, already present, a duplicate
    in the file, or rejected with its line and reason. Re-importing adds nothing."""
    cfg = load(config_path)
    try:
        with writing(cfg, "radar import"), Progress(f"importing {file.name}") as bar:
            result = import_file(file, cfg.warehouse_path, source=source, channel=channel,
                                 progress=bar.update, window=DateWindow.from_config(cfg.ingest))
    except ImportFileError as exc:
        fail(str(exc))
    for bad in result.bad_rows[:50]:
        click.echo(f"{file}:{bad.line}: skipped: {bad.reason}", err=True)
    if len(result.bad_rows) > 50:
        click.echo(f"... and {len(result.bad_rows) - 50} more bad rows (see fetch_errors)", err=True)
    click.echo(result.summary() + f" (import run {result.run_id}; see import_runs)")
    if result.rows and result.rejected == result.rows:
        sys.exit(1)  # nothing in the file could be imported


def _note(s) -> str:
    held = f"{s.held_back} failing pages held back (backoff or given up)" if s.held_back else ""
    return "; ".join(p for p in (s.message, held) if p)


@click.command()
@click.option("--source", "sources", multiple=True, metavar="NAME",
              help="Crawl only this source (repeatable; default: every [[sources]] entry).")
@click.option("--worker", is_flag=True,
              help="Distributed crawl ([crawl] queue): seed nothing, take requests from the "
                   "shared queue until it has been idle for --idle seconds.")
@click.option("--idle", type=click.FloatRange(min=0.5), metavar="SECONDS",
              help="With [crawl] queue: stop after the shared queue has been idle this long "
                   "(default [crawl] queue_idle).")
@config_option
@friendly_errors
def crawl(sources: tuple[str, ...], worker: bool, idle: float | None, config_path: Path) -> None:
    """Fetch new and changed documents from the configured sources into the warehouse.
    With [crawl] queue, crawl processes share one request queue (docs/crawling.md).
    Exit 0 unless every source failed (then 1); failures are in `radar status`."""
    cfg = load(config_path)
    if not cfg.sources:
        fail(f"no [[sources]] in {config_path}; add some (see the examples in it)")
    mode = None
    if cfg.crawl.queue:
        mode = distributed.WORKER if worker else distributed.SEED
        try:
            distributed.connect(cfg.crawl)
        except distributed.QueueUnavailable as exc:
            fail(str(exc), QUEUE_EXIT)
        if idle is not None:
            cfg.crawl = dataclasses.replace(cfg.crawl, queue_idle=idle)
    elif worker or idle is not None:
        fail(f"--worker and --idle need a shared queue: set [crawl] queue = "
             f'"redis://host:port/db" in {config_path} (docs/crawling.md)')
    lock = writing_shared if mode else writing
    with lock(cfg, f"radar crawl{' --worker' if worker else ''}"), Progress("crawling") as bar:
        summaries = crawl_sources(cfg, list(sources) or None, progress=bar.update,
                                  queue_mode=mode)
    table = Table(title="crawl summary")
    table.add_column("source", no_wrap=True)
    for name in ("status", "pages", "new", "updated", "copies", "errors"):
        table.add_column(name, justify="left" if name == "status" else "right")
    table.add_column("note", overflow="fold")
    for s in summaries:
        table.add_row(s.source, s.status, str(s.pages), str(s.new_documents), str(s.updated),
                      str(s.carried), str(s.errors), _note(s)[:120])
    # Piped output (logs, cron mail) gets full lines rather than an 80-column wrap.
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    if mode:
        click.echo(f"{'worker' if worker else 'seeding crawl'}: pages fetched: "
                   f"{sum(s.pages for s in summaries)} (shared queue {cfg.crawl.queue})")
    click.echo(f"{sum(s.new_documents for s in summaries)} new documents, "
               f"{sum(s.errors for s in summaries)} errors (details: radar status)")
    if summaries and all(s.status == "failed" for s in summaries):
        sys.exit(1)
