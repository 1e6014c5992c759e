"""`radar status`: what the warehouse holds and how the last crawls went."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from radar.core import warehouse
from radar.core.errors import WarehouseError
from radar.core.migrations import current_version


@dataclass
class Status:
    """A snapshot of the warehouse for people and scripts."""

    schema_version: int
    documents: int
    by_channel: list[tuple]      # (channel, documents)
    by_source: list[tuple]       # (source, channel, documents, last published)
    last_crawls: list[tuple]     # (source, started_at, finished_at, status, pages, new, errors)
    recent_errors: list[tuple]   # (at, source, url, reason)
    as_of: str | None = None     # the DuckLake snapshot time read (None: now)
    radar: list[tuple] = field(default_factory=list)  # (ring, label, score, movement) then
    duplicates: dict[str, int] | None = None  # extra rows per unique id, by table (--check)

    @property
    def sound(self) -> bool:
        """False when the check found ids that should be unique written more than once."""
        return not any((self.duplicates or {}).values())


RING_ORDER = "array_position(['Act', 'Prepare', 'Watch', 'Monitor'], ring)"


def parse_as_of(text: str) -> str:
    """`--as-of` as a UTC timestamp string: a date means the end of that day."""
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            return f"{day.isoformat()} 23:59:59.999999"
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WarehouseError(f"--as-of {text!r}: expected a date (2026-11-01) or a UTC time "
                             "(2026-11-01 14:30)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")


def warehouse_status(path: Path, errors: int = 10, as_of: str | None = None,
                     check: bool = False) -> Status:
    """Counts per channel and source, the last crawl per source and the newest errors;
    with `as_of` (DuckLake only) as they were then, with that time's radar; with `check`,
    how many rows repeat an id the radar keeps unique without a key (one scan of each
    table: ~1 s a million documents)."""
    when = parse_as_of(as_of) if as_of else None
    with warehouse.read(path, as_of=when) as con:
        version = current_version(con)
        total = con.execute("SELECT count(*) FROM documents").fetchone()[0]
        by_channel = con.execute(
            "SELECT channel, count(*) FROM documents GROUP BY channel ORDER BY 2 DESC"
        ).fetchall()
        by_source = con.execute(
            "SELECT source, any_value(channel), count(*), max(published_at) "
            "FROM documents GROUP BY source ORDER BY 3 DESC"
        ).fetchall()
        last = con.execute(
            "SELECT source, started_at, finished_at, status, pages, new_documents, errors "
            "FROM crawl_runs QUALIFY row_number() OVER (PARTITION BY source ORDER BY run_id DESC) = 1 "
            "ORDER BY source"
        ).fetchall()
        recent = con.execute(
            "SELECT \"at\", source, url, reason FROM fetch_errors ORDER BY \"at\" DESC LIMIT ?", [errors]
        ).fetchall()
        radar = con.execute(
            f"SELECT ring, label, round(score), movement FROM radar_latest WHERE ring IS NOT NULL "
            f"ORDER BY {RING_ORDER}, score DESC LIMIT 20").fetchall() if when else []
        duplicates = warehouse.duplicate_keys(con) if check else None
    return Status(version, total, by_channel, by_source, last, recent, when, radar, duplicates)


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
    then = f" as of {status.as_of} UTC" if status.as_of else ""
    console.print(
        f"warehouse [bold]{path}[/bold]{then}, schema version {status.schema_version}, "
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
    if status.as_of:
        console.print(_table(f"The radar as of {status.as_of} UTC", ["ring", "topic", "score", "movement"],
                             status.radar))
    if status.duplicates is not None:
        _render_check(status.duplicates, console)


def _render_check(duplicates: dict[str, int], console: Console) -> None:
    bad = {t: n for t, n in duplicates.items() if n}
    if not bad:
        console.print(f"Unique ids: no id repeated in the {len(duplicates)} tables checked "
                      f"({', '.join(duplicates)}).")
        return
    console.print(_table("Ids written more than once (no key holds them: something wrote to these "
                         "tables other than the radar)", ["table", "extra rows"],
                         sorted(bad.items())))
    console.print("Counts, topics and the radar count such rows twice: remove the extra rows "
                  "(keep one per id) before the next `radar analyze`; docs/warehouse.md, "
                  "\"Write batches and keys\".")
