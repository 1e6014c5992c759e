"""Terminal rendering of library results (tables on stdout)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from radar.status import Status


def _table(title: str, headers: list[str], rows: list[tuple]) -> Table:
    table = Table(title=title, title_justify="left")
    for h in headers:
        table.add_column(h)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    return table


def render_status(status: Status, path: Path, console: Console | None = None) -> None:
    """Print `radar status` as tables."""
    console = console or Console(width=140)
    console.print(
        f"warehouse [bold]{path}[/bold], schema version {status.schema_version}, "
        f"{status.documents} documents"
    )
    if not status.documents and not status.last_crawls:
        console.print("No documents yet: add \\[\\[sources]] to radar.toml and run a crawl, "
                      "or load a file with `radar import FILE`.")
    console.print(_table("Documents per channel", ["channel", "documents"], status.by_channel))
    console.print(_table("Documents per source", ["source", "channel", "documents", "newest"],
                         status.by_source))
    console.print(_table("Last crawl per source",
                         ["source", "started", "finished", "status", "pages", "new", "errors"],
                         status.last_crawls))
    console.print(_table("Recent errors", ["at", "source", "url", "reason"], status.recent_errors))
