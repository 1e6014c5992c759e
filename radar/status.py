"""`radar status`: what the warehouse holds and how the last crawls went."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from radar import warehouse
from radar.migrations import current_version


@dataclass
class Status:
    """A snapshot of the warehouse for people and scripts."""

    schema_version: int
    documents: int
    by_channel: list[tuple]      # (channel, documents)
    by_source: list[tuple]       # (source, channel, documents, last published)
    last_crawls: list[tuple]     # (source, started_at, finished_at, status, pages, new, errors)
    recent_errors: list[tuple]   # (at, source, url, reason)


def warehouse_status(path: Path, errors: int = 10) -> Status:
    """Counts per channel and source, the last crawl per source and the newest errors."""
    with warehouse.read(path) as con:
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
    return Status(version, total, by_channel, by_source, last, recent)
