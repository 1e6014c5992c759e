"""The state of one source's crawl, shared by its spider and the pipelines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from crawlers.items import PageStateItem
from crawlers.known import Known
from radar.core.config import Config, SourceConfig
from radar.core.documents import utcnow


@dataclass
class SourceSummary:
    """What one source's crawl did (the `radar crawl` summary row)."""

    source: str
    pages: int = 0
    new_documents: int = 0
    errors: int = 0
    status: str = "ok"          # ok | partial | failed
    updated: int = 0            # documents whose text changed
    carried: int = 0            # copies of documents already stored (syndication, near-duplicates)
    unchanged: int = 0          # fetched again but identical
    message: str = ""           # why it failed, when it did
    held_back: int = 0          # pages that keep failing, not fetched this run (backoff, given up)


@dataclass
class SourceRun:
    """Counters, run id and shared knowledge for one source in one crawl."""

    cfg: Config
    source: SourceConfig
    known: Known
    salt: bytes
    started_at: datetime = field(default_factory=utcnow)
    run_id: int | None = None
    pages: int = 0
    new_documents: int = 0
    updated: int = 0
    carried: int = 0
    unchanged: int = 0
    errors: int = 0
    held_back: int = 0
    documents_seen: int = 0
    fatal: str = ""             # the source's entry point (feed, sitemap, API) failed
    truncated: bool = False     # max_pages stopped it: the rest waits for the next run
    index_pages: list[PageStateItem] = field(default_factory=list)
    reporter: Callable[[SourceSummary], None] | None = None
    _last_report: float = 0.0

    @property
    def status(self) -> str:
        """failed: nothing could be read; partial: something went wrong; ok otherwise."""
        if self.fatal and not self.documents_seen:
            return "failed"
        return "partial" if self.errors else "ok"

    def summary(self) -> SourceSummary:
        """The summary row for this source."""
        return SourceSummary(
            source=self.source.name, pages=self.pages, new_documents=self.new_documents,
            errors=self.errors, status=self.status, updated=self.updated, carried=self.carried,
            unchanged=self.unchanged, message=self.fatal, held_back=self.held_back,
        )

    def report(self, force: bool = False) -> None:
        """Tell the progress display, at most a few times a second."""
        now = time.monotonic()
        if self.reporter and (force or now - self._last_report > 0.25):
            self._last_report = now
            self.reporter(self.summary())
